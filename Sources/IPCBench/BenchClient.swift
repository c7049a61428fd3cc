import Glibc
import IPCTransport
import IPCWire

/// One benchmark case: a stream of frames of one payload size, or a ping-pong of one frame.
struct BenchCase: Sendable, Hashable {
    enum Kind: String, Sendable { case stream, pingpong }
    var kind: Kind
    var payloadSize: Int

    var name: String { "\(kind.rawValue) \(ByteSize.short(payloadSize))" }

    static let all: [BenchCase] = [
        BenchCase(kind: .stream, payloadSize: 64),
        BenchCase(kind: .stream, payloadSize: 4 << 10),
        BenchCase(kind: .stream, payloadSize: 64 << 10),
        BenchCase(kind: .stream, payloadSize: 1 << 20),
        BenchCase(kind: .pingpong, payloadSize: 64),
        BenchCase(kind: .pingpong, payloadSize: 64 << 10),
    ]

    /// Parses "stream-64", "stream-4k", "pingpong-64k", "stream-1m".
    init?(argument: String) {
        let parts = argument.lowercased().split(separator: "-")
        guard parts.count == 2, let kind = Kind(rawValue: String(parts[0])) else { return nil }
        var text = Substring(parts[1])
        var multiplier = 1
        if text.hasSuffix("k") { multiplier = 1 << 10; text = text.dropLast() }
        if text.hasSuffix("m") { multiplier = 1 << 20; text = text.dropLast() }
        guard let value = Int(text), value >= 0 else { return nil }
        self.init(kind: kind, payloadSize: value * multiplier)
    }

    init(kind: Kind, payloadSize: Int) {
        self.kind = kind
        self.payloadSize = payloadSize
    }
}

/// What one timed run measured.
struct RunResult: Sendable {
    var seconds: Double
    /// Payload frames of the case that completed (stream: received by the server; pingpong: round trips).
    var messages: UInt64
    var payloadBytes: UInt64
    /// Round-trip times in nanoseconds, sorted (pingpong only).
    var roundTrips: [UInt64] = []
    /// Frames that crossed the connection in both directions, including hello/ready/result.
    var framesOnWire: UInt64

    var messagesPerSecond: Double { Double(messages) / seconds }
    /// 10⁶ payload bytes per second (for pingpong: bytes sent one way).
    var megabytesPerSecond: Double { Double(payloadBytes) / seconds / 1e6 }

    func roundTripPercentile(_ fraction: Double) -> Double {
        guard !roundTrips.isEmpty else { return .nan }
        let index = min(roundTrips.count - 1, Int((Double(roundTrips.count) * fraction).rounded(.down)))
        return Double(roundTrips[index])
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The measuring side: a blocking LibIPC-like writer (one `send` of a whole frame per message).
enum BenchClient {
    /// Runs `benchCase` on the connected socket `fd` for `duration` seconds and closes it.
    /// `measuring(true)` runs just before the timed part starts, `measuring(false)` just after it ends.
    static func run(
        _ benchCase: BenchCase, on fd: Int32, duration: Double, socketBufferSize: Int,
        measuring: (Bool) -> Void = { _ in }
    ) throws -> RunResult {
        defer { Descriptor.close(fd) }
        BenchIO.applyBufferSize(fd, socketBufferSize)
        let mode: BenchProtocol.Mode = benchCase.kind == .stream ? .sink : .echo
        try BenchIO.sendAll(fd, BenchProtocol.helloFrame(mode))
        guard try BenchIO.receiveFrame(fd) != nil else { throw BenchFailure("the server hung up before it was ready") }

        var frame = FrameEncoder.payloadFrame([UInt8](repeating: 0xA5, count: benchCase.payloadSize))
        // A recognisable message id in the payload, as a real endpoint would have (magic, id).
        if benchCase.payloadSize >= 8 {
            frame.withUnsafeMutableBytes { raw in
                raw.storeBytes(of: UInt32(0x1234_5678).littleEndian, toByteOffset: 12, as: UInt32.self)
                raw.storeBytes(of: UInt32(1).littleEndian, toByteOffset: 16, as: UInt32.self)
            }
        }
        let nanoseconds = UInt64(duration * 1e9)
        // A stable copy: the loops below pass its address to send() with no array access in between.
        let wire = UnsafeMutableRawBufferPointer.allocate(byteCount: frame.count, alignment: 16)
        defer { wire.deallocate() }
        wire.copyBytes(from: frame)
        let stable = UnsafeRawBufferPointer(wire)
        switch benchCase.kind {
        case .stream:
            return try stream(frame: stable, payloadSize: benchCase.payloadSize, fd: fd, nanoseconds: nanoseconds,
                              measuring: measuring)
        case .pingpong:
            return try pingpong(frame: stable, payloadSize: benchCase.payloadSize, fd: fd, nanoseconds: nanoseconds,
                                measuring: measuring)
        }
    }

    private static func stream(
        frame: UnsafeRawBufferPointer, payloadSize: Int, fd: Int32, nanoseconds: UInt64, measuring: (Bool) -> Void
    ) throws -> RunResult {
        // Look at the clock every frame for large frames, every 32 for small ones.
        let clockMask: UInt64 = payloadSize >= 32 << 10 ? 0 : 31
        var sent: UInt64 = 0
        measuring(true)
        let start = BenchIO.now()
        let deadline = start &+ nanoseconds
        let count = frame.count
        while true {
            try BenchIO.sendAll(fd, frame, count)
            sent &+= 1
            if sent & clockMask == 0, BenchIO.now() >= deadline { break }
        }
        // End of stream; the server's count arrives once every byte has made it through.
        shutdown(fd, Int32(SHUT_WR))
        guard let payload = try BenchIO.receiveFrame(fd), let result = BenchProtocol.StreamResult(payload: payload) else {
            throw BenchFailure("no count from the server at the end of the stream")
        }
        let end = BenchIO.now()
        measuring(false)
        guard result.frames == sent, result.payloadBytes == sent * UInt64(payloadSize) else {
            throw BenchFailure("sent \(sent) frames, the server counted \(result.frames) (\(result.payloadBytes) bytes)")
        }
        return RunResult(seconds: Double(end - start) / 1e9, messages: sent, payloadBytes: result.payloadBytes,
                         framesOnWire: sent + 3)
    }

    private static func pingpong(
        frame: UnsafeRawBufferPointer, payloadSize: Int, fd: Int32, nanoseconds: UInt64, measuring: (Bool) -> Void
    ) throws -> RunResult {
        let reply = UnsafeMutableRawPointer.allocate(byteCount: max(1, frame.count), alignment: 16)
        defer { reply.deallocate() }
        var roundTrips: [UInt64] = []
        roundTrips.reserveCapacity(1 << 16)
        measuring(true)
        let start = BenchIO.now()
        let deadline = start &+ nanoseconds
        var last = start
        let count = frame.count
        while last < deadline {
            let sentAt = last
            try BenchIO.sendAll(fd, frame, count)
            guard try BenchIO.receiveExactly(fd, reply, count) else {
                throw SystemError(errno: ECONNRESET, operation: "echo: the server hung up")
            }
            last = BenchIO.now()
            roundTrips.append(last &- sentAt)
        }
        measuring(false)
        let size = UInt32(littleEndian: (reply + 4).loadUnaligned(as: UInt32.self))
        guard Int(size) == payloadSize else { throw BenchFailure("echo came back with payload size \(size)") }
        shutdown(fd, Int32(SHUT_WR))
        roundTrips.sort()
        let trips = UInt64(roundTrips.count)
        return RunResult(seconds: Double(last - start) / 1e9, messages: trips,
                         payloadBytes: trips * UInt64(payloadSize), roundTrips: roundTrips,
                         framesOnWire: 2 * trips + 2)
    }
}

enum ByteSize {
    /// 64 B, 4 KiB, 1 MiB.
    static func short(_ bytes: Int) -> String {
        if bytes >= 1 << 20, bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
        if bytes >= 1 << 10, bytes % (1 << 10) == 0 { return "\(bytes >> 10) KiB" }
        return "\(bytes) B"
    }

    static func human(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : Format.fixed(value, 1) + " " + units[unit]
    }
}
