import IPCWire

/// One frame waiting to be written: its wire bytes (header + payload) and the fds that belong to it.
struct OutgoingFrame {
    let type: FrameType
    let payloadSize: Int
    var bytes: [UInt8]
    /// Borrowed numbers: the fds are owned by ``RetainedFDs`` until the peer acknowledges them.
    let fds: [Int32]
    var bytesSent = 0
    /// Set once a `sendmsg` carried this frame's fds (with its first bytes or just before them).
    var fdsSent: Bool

    init(type: FrameType, payload: [UInt8], fds: [Int32]) {
        self.type = type
        payloadSize = payload.count
        var bytes: [UInt8] = []
        bytes.reserveCapacity(FrameHeader.size + payload.count)
        FrameHeader(type: type, payloadSize: UInt32(payload.count), fdCount: UInt32(fds.count)).append(to: &bytes)
        bytes.append(contentsOf: payload)
        self.bytes = bytes
        self.fds = fds
        fdsSent = fds.isEmpty
    }

    static func acknowledgement(count: UInt32) -> OutgoingFrame {
        var frame = OutgoingFrame(type: .fdAcknowledgement, payload: [], fds: [])
        frame.bytes = FrameHeader(type: .fdAcknowledgement, payloadSize: 0, fdCount: count).bytes
        return frame
    }
}

/// What the IO thread should write next: bytes copied into its buffer plus the fds for one SCM_RIGHTS.
struct SendChunk {
    var byteCount = 0
    var fds: [Int32] = []
    /// How many frames from the head of the queue the chunk walked; their fds are in `fds` if unsent.
    var framesSpanned = 0
}

/// Frames that finished going out in one ``SendQueue/consume(_:of:)``, for statistics.
struct CompletedFrames {
    var payloadFrames = 0
    var payloadBytes = 0
    var acknowledgementFrames = 0
}

/// The outgoing frame FIFO with LibIPC's chunking rules (docs/protocol.md §1.3): chunks of at most
/// `Limits.ioChunkSize` bytes; a frame's fds go with the `sendmsg` that carries its first bytes; at most
/// `Limits.maxTransferFDs` fds per `sendmsg`, never splitting one frame's fds.
struct SendQueue {
    private var frames = FIFO<OutgoingFrame>()

    var isEmpty: Bool { frames.isEmpty }
    var frameCount: Int { frames.count }

    mutating func enqueue(_ frame: OutgoingFrame) { frames.append(frame) }

    /// Copies the next chunk into `buffer` (at most `buffer.count` bytes) without consuming anything.
    func peek(into buffer: UnsafeMutableRawBufferPointer, maxFDs: Int = Int(Limits.maxTransferFDs)) -> SendChunk {
        var chunk = SendChunk()
        var index = 0
        while index < frames.count, chunk.byteCount < buffer.count {
            let frame = frames[index]
            if !frame.fdsSent {
                // Stop before a frame whose fds would push this sendmsg past the limit.
                if !chunk.fds.isEmpty, chunk.fds.count + frame.fds.count > maxFDs { break }
                chunk.fds.append(contentsOf: frame.fds)
            }
            let take = min(frame.bytes.count - frame.bytesSent, buffer.count - chunk.byteCount)
            if take > 0 {
                frame.bytes.withUnsafeBytes { source in
                    let slice = UnsafeRawBufferPointer(rebasing: source[frame.bytesSent..<(frame.bytesSent + take)])
                    UnsafeMutableRawBufferPointer(rebasing: buffer[chunk.byteCount...]).copyMemory(from: slice)
                }
            }
            chunk.byteCount += take
            index += 1
            chunk.framesSpanned = index
        }
        return chunk
    }

    /// Records that `written` bytes of `chunk` went out (> 0, so its fds went too when it had any).
    mutating func consume(_ written: Int, of chunk: SendChunk) -> CompletedFrames {
        var completed = CompletedFrames()
        if !chunk.fds.isEmpty {
            for index in 0..<min(chunk.framesSpanned, frames.count) { frames[index].fdsSent = true }
        }
        var remaining = written
        while remaining > 0, !frames.isEmpty {
            let left = frames[0].bytes.count - frames[0].bytesSent
            let take = min(left, remaining)
            frames[0].bytesSent += take
            remaining -= take
            if take == left, let frame = frames.popFirst() {  // popping frees the payload at once
                switch frame.type {
                case .payload:
                    completed.payloadFrames += 1
                    completed.payloadBytes += frame.payloadSize
                case .fdAcknowledgement:
                    completed.acknowledgementFrames += 1
                }
            }
        }
        return completed
    }

    /// Forgets every queued frame (the fds stay with ``RetainedFDs``).
    mutating func removeAll() {
        _ = frames.removeAll()
    }
}
