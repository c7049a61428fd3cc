import IPCWire

/// The receiver's limits (docs/protocol.md §2). Tests shrink them to reach the buffer limits cheaply.
public struct ReceiveLimits: Sendable, Equatable {
    public var maxPayloadSize: UInt64 = Limits.maxMessagePayloadSize
    public var maxFDsPerFrame: UInt64 = Limits.maxMessageFDCount
    public var maxUnprocessedBytes: UInt64 = Limits.maxUnprocessedBufferSize
    public var maxUnprocessedFDs: UInt64 = Limits.maxUnprocessedFDs

    public static let ladybird = ReceiveLimits()

    public init() {}
}

/// A payload frame taken off the wire with its attachments (owned by whoever holds it).
public struct IncomingMessage: Equatable, Sendable {
    public var payload: [UInt8]
    public var fds: [Int32]

    public init(payload: [UInt8], fds: [Int32]) {
        self.payload = payload
        self.fds = fds
    }
}

/// Everything one parse pass produced.
struct ParsedBatch {
    var messages: [IncomingMessage] = []
    /// Sum of `fd_count` over the payload frames parsed: what this side must acknowledge.
    var receivedFDCount: UInt32 = 0
    /// Sum of the ack frames' counts: how many of our retained fds the peer released.
    var acknowledgedFDCount: UInt32 = 0
    var acknowledgementFrames = 0
    /// Set when the stream broke a rule; parsing stopped at that frame.
    var violation: Violation?
}

/// Reassembles frames from the byte stream and matches fds to them (docs/protocol.md §1.4) while enforcing §2.
/// Pure state: it never touches a socket, so it can be tested with made-up fd numbers. It owns the
/// unmatched fds until a frame takes them or ``takeUnmatchedFDs()`` hands them back for closing.
struct ReceiveParser {
    let limits: ReceiveLimits
    private var buffer: [UInt8] = []
    private var readOffset = 0
    private var unmatchedFDs = FIFO<Int32>()
    /// Stream position of `buffer[readOffset]`, and frames parsed so far, for violation reports.
    private var streamOffset: UInt64 = 0
    private var frameIndex: UInt64 = 0

    init(limits: ReceiveLimits = .ladybird) { self.limits = limits }

    var unprocessedByteCount: Int { buffer.count - readOffset }
    var unmatchedFDCount: Int { unmatchedFDs.count }

    /// Adds what one `recvmsg` returned. The fds become the parser's even when a limit is hit (they are
    /// then handed back by ``takeUnmatchedFDs()``); the bytes are not added in that case.
    mutating func accept(_ bytes: UnsafeRawBufferPointer, fds: [Int32]) -> Violation? {
        unmatchedFDs.append(contentsOf: fds)
        let fdTotal = UInt64(unmatchedFDs.count)
        if fdTotal > limits.maxUnprocessedFDs {
            return violation(.unprocessedFDsOverflow, limit: limits.maxUnprocessedFDs, observed: fdTotal)
        }
        let byteTotal = UInt64(unprocessedByteCount) + UInt64(bytes.count)
        if byteTotal > limits.maxUnprocessedBytes {
            return violation(.unprocessedBytesOverflow, limit: limits.maxUnprocessedBytes, observed: byteTotal)
        }
        buffer.append(contentsOf: bytes)
        return nil
    }

    mutating func accept(_ bytes: [UInt8], fds: [Int32] = []) -> Violation? {
        bytes.withUnsafeBytes { accept($0, fds: fds) }
    }

    /// Parses every complete frame. A payload frame waits until its whole payload is buffered and at least
    /// `fd_count` fds are unmatched; then it takes exactly that many fds from the head of the FIFO.
    /// Stops at the first violation; frames before it are still returned.
    mutating func parse() -> ParsedBatch {
        var batch = ParsedBatch()
        parsing: while unprocessedByteCount >= FrameHeader.size {
            let header = buffer.withUnsafeBytes { raw in
                FrameHeader(bytes: UnsafeRawBufferPointer(rebasing: raw[readOffset..<(readOffset + FrameHeader.size)]))
            }
            guard let header else { break }
            switch header.type {
            case nil:
                batch.violation = violation(.unknownFrameType, limit: 0, observed: UInt64(header.rawType))
                break parsing
            case .fdAcknowledgement:
                guard header.payloadSize == 0 else {
                    batch.violation = violation(.acknowledgementWithPayload, limit: 0, observed: UInt64(header.payloadSize))
                    break parsing
                }
                let (sum, overflow) = batch.acknowledgedFDCount.addingReportingOverflow(header.fdCount)
                guard !overflow else {
                    batch.violation = violation(
                        .counterOverflow, limit: UInt64(UInt32.max),
                        observed: UInt64(batch.acknowledgedFDCount) + UInt64(header.fdCount))
                    break parsing
                }
                batch.acknowledgedFDCount = sum
                batch.acknowledgementFrames += 1
                advance(by: FrameHeader.size)
            case .payload:
                guard UInt64(header.payloadSize) <= limits.maxPayloadSize else {
                    batch.violation = violation(.payloadTooLarge, limit: limits.maxPayloadSize, observed: UInt64(header.payloadSize))
                    break parsing
                }
                guard UInt64(header.fdCount) <= limits.maxFDsPerFrame else {
                    batch.violation = violation(.tooManyFDsInFrame, limit: limits.maxFDsPerFrame, observed: UInt64(header.fdCount))
                    break parsing
                }
                // Checked in 64 bits; payloadSize ≤ 64 MiB here, so the Int conversion cannot trap.
                let frameLength = header.frameLength
                guard UInt64(unprocessedByteCount) >= frameLength, unmatchedFDs.count >= Int(header.fdCount) else {
                    break parsing  // wait for more bytes or fds
                }
                let (sum, overflow) = batch.receivedFDCount.addingReportingOverflow(header.fdCount)
                guard !overflow else {
                    batch.violation = violation(
                        .counterOverflow, limit: UInt64(UInt32.max),
                        observed: UInt64(batch.receivedFDCount) + UInt64(header.fdCount))
                    break parsing
                }
                batch.receivedFDCount = sum
                let start = readOffset + FrameHeader.size
                let payload = Array(buffer[start..<(start + Int(header.payloadSize))])
                let fds = unmatchedFDs.popFirst(Int(header.fdCount))
                batch.messages.append(IncomingMessage(payload: payload, fds: fds))
                advance(by: Int(frameLength))
            }
            frameIndex += 1
        }
        compact()
        return batch
    }

    /// Hands back every unmatched fd (for closing when the transport stops); partial frame bytes are dropped.
    mutating func takeUnmatchedFDs() -> [Int32] {
        buffer = []
        readOffset = 0
        return unmatchedFDs.removeAll()
    }

    private mutating func advance(by count: Int) {
        readOffset += count
        streamOffset += UInt64(count)
    }

    private mutating func compact() {
        if readOffset == buffer.count {
            // Keep a small buffer's capacity; give a large one (a 64 MiB frame) back.
            buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 20)
            readOffset = 0
        } else if readOffset >= 1 << 16, readOffset * 2 >= buffer.count {
            buffer.removeFirst(readOffset)
            readOffset = 0
        }
    }

    /// A violation located at the current parse position.
    func violationHere(_ kind: Violation.Kind, limit: UInt64, observed: UInt64) -> Violation {
        Violation(kind: kind, limit: limit, observed: observed, streamOffset: streamOffset, frameIndex: frameIndex)
    }

    private func violation(_ kind: Violation.Kind, limit: UInt64, observed: UInt64) -> Violation {
        violationHere(kind, limit: limit, observed: observed)
    }
}
