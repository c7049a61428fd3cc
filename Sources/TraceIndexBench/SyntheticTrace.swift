import IPCWire
import TraceFormat

/// Writes a trace that looks like a busy recording, fast (through TraceWriter, without relaying anything):
/// a few channels, both directions, each direction's reads handing over batches of 1–6 payload frames with
/// an envelope (magic per endpoint, message ids 1–40) and a few captured parameter bytes, sometimes an fd
/// and the acknowledgement coming back, a frames-delivered record per batch, queue samples now and then.
/// Each direction's clock only moves forward, but batches of different directions reach the file out of
/// time order, as the relay's threads hand them over (about as often as in Traces/demo.ipctrace, where 62
/// of 301 frames follow a record with a later time; the run prints the share).
struct SyntheticTrace {
    var events: Int
    var channels = 6
    var seed: UInt64 = 0x1DC5_C0DE

    private struct Stream {
        var channel: UInt32
        var direction: Direction
        var clock: UInt64
        var frameIndex: UInt64 = 0
        var streamOffset: UInt64 = 0
        var fdsToAcknowledge: UInt32 = 0
        var delivered: UInt64 = 0
    }

    /// Writes the trace; returns how many records it holds (the header and the end record included).
    func write(to path: String) throws -> Int {
        var random = SplitMix(seed: seed)
        let header = TraceHeader.startingNow(ipcscopeVersion: "bench", commandLine: ["TraceIndexBench"], snapLength: 256)
        let writer = try TraceWriter(path: path, header: header)
        var written = 1
        var clock = header.monotonicAnchorNanoseconds
        var streams: [Stream] = []
        for channel in 1...UInt32(channels) {
            clock += 1000
            writer.submit(.channelOpened(ChannelOpenedRecord(
                time: clock, channel: channel, endpointA: ChannelEndpoint(name: "Client\(channel)", pid: 100, command: "ui"),
                endpointB: ChannelEndpoint(name: "Server\(channel)", pid: 200 + Int32(channel), command: "peer"), discovery: .preload)),
                waitForRoom: true)
            written += 1
            for direction in Direction.allCases { streams.append(Stream(channel: channel, direction: direction, clock: clock)) }
        }
        var payload = [UInt8](repeating: 0, count: 256)
        let batch = writer.makeBatch()
        var newest = clock
        while written < events - 1 {
            let s = Int(random.next() % UInt64(streams.count))
            var stream = streams[s]
            // Time moves on a few µs per batch. A batch's read happened a little earlier than the newest
            // record written (its thread was slower to hand it over), never before its direction's last.
            newest += random.next() % 4_000
            let lag = random.next() % 4 == 0 ? random.next() % 8_000 : 0
            stream.clock = max(stream.clock + 1, newest > lag ? newest - lag : 0)
            let frames = Int(1 + random.next() % 6)
            let firstFrame = stream.frameIndex
            for _ in 0..<frames where written + batch.recordCount < events - 2 {
                let size = [24, 40, 64, 200, 1500, 9000][Int(random.next() % 6)]
                let fds = random.next() % 16 == 0 ? 1 : 0
                let magic = 0x5EED_0000 | stream.channel << 1 | UInt32(stream.direction.rawValue)
                withUnsafeBytes(of: magic.littleEndian) { payload.replaceSubrange(0..<4, with: $0) }
                withUnsafeBytes(of: Int32(1 + random.next() % 40).littleEndian) { payload.replaceSubrange(4..<8, with: $0) }
                payload[8] = UInt8(truncatingIfNeeded: stream.frameIndex)
                payload.withUnsafeBytes { raw in
                    _ = batch.appendPayloadFrame(
                        time: stream.clock, channel: stream.channel, direction: stream.direction, frameIndex: stream.frameIndex,
                        streamOffset: stream.streamOffset, header: .payload(size: size, fdCount: fds),
                        payload: UnsafeRawBufferPointer(rebasing: raw.prefix(min(size, 256))),
                        fds: fds == 1 ? [AttachedFD(kind: .memfd, inode: stream.frameIndex, size: 4096)] : [])
                }
                stream.frameIndex += 1
                stream.streamOffset += UInt64(12 + size)
                stream.fdsToAcknowledge += UInt32(fds)
            }
            if stream.frameIndex > firstFrame {
                batch.append(.framesDelivered(FramesDeliveredRecord(
                    time: stream.clock + 300, channel: stream.channel, direction: stream.direction,
                    firstFrameIndex: firstFrame, lastFrameIndex: stream.frameIndex - 1)))
            }
            if random.next() % 10 == 0, written + batch.recordCount < events - 1 {
                batch.append(.queueSample(QueueSampleRecord(
                    time: stream.clock + 100, channel: stream.channel, direction: stream.direction,
                    proxyBufferedBytes: random.next() % 4096, receiverUnreadBytes: random.next() % 65536)))
            }
            streams[s] = stream
            // The receiver acknowledges the fds it got: an ack frame in the other direction.
            let back = s ^ 1
            if stream.fdsToAcknowledge > 0, random.next() % 4 == 0, written + batch.recordCount < events - 1 {
                written += batch.recordCount
                _ = writer.submit(batch, waitForRoom: true)
                var other = streams[back]
                other.clock = max(other.clock + 1, stream.clock + 5_000)
                newest = max(newest, other.clock)
                batch.append(.acknowledgement(AcknowledgementRecord(
                    time: other.clock, channel: other.channel, direction: other.direction, frameIndex: other.frameIndex,
                    streamOffset: other.streamOffset, count: stream.fdsToAcknowledge, payloadSize: 0)))
                other.frameIndex += 1
                other.streamOffset += 12
                streams[s].fdsToAcknowledge = 0
                streams[back] = other
            }
            written += batch.recordCount
            _ = writer.submit(batch, waitForRoom: true)
        }
        try writer.close(ending: EndRecord(
            time: newest + 1, summary: TraceSummary(channels: UInt64(channels), frames: 0, bytes: 0, fds: 0, violations: 0),
            cleanStop: true))
        return written + 1
    }
}

/// A small deterministic generator (SplitMix64).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
