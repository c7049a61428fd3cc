import Glibc
import IPCTransport
import IPCWire

/// One benchmark case: a stream of frames of one payload size, or a ping-pong of one frame.
struct BenchCase: Sendable, Hashable {
    enum Kind: String, Sendable { case stream, pingpong }
    var kind: Kind
    var payloadSize: Int
    /// LibIPC's IO pattern when set: the client writes each frame in `send` calls of at most this many
    /// bytes and the server reads at most this many per `recv` (Ladybird's IO thread uses 4096 for both).
    /// nil: one `send` per whole frame and 256 KiB reads.
    var writeSize: Int?

    var name: String {
        let base = "\(kind.rawValue) \(ByteSize.short(payloadSize))"
        guard let writeSize else { return base }
        return base + " /\(ByteSize.short(writeSize))"
    }

    static let all: [BenchCase] = [
        BenchCase(kind: .stream, payloadSize: 64),
        BenchCase(kind: .stream, payloadSize: 4 << 10),
        BenchCase(kind: .stream, payloadSize: 64 << 10),
        BenchCase(kind: .stream, payloadSize: 1 << 20),
        BenchCase(kind: .pingpong, payloadSize: 64),
        BenchCase(kind: .pingpong, payloadSize: 64 << 10),
    ]

    /// Parses "stream-64", "stream-4k", "pingpong-64k", "stream-1m", and "stream-64k/4k" (frames written
    /// and read in pieces of at most 4 KiB).
    init?(argument: String) {
        let halves = argument.lowercased().split(separator: "/", omittingEmptySubsequences: false)
        guard halves.count <= 2 else { return nil }
        let parts = halves[0].split(separator: "-")
        guard parts.count == 2, let kind = Kind(rawValue: String(parts[0])),
              let size = Self.size(parts[1]) else { return nil }
        var writeSize: Int?
        if halves.count == 2 {
            guard let pieces = Self.size(halves[1]), pieces > 0 else { return nil }
            writeSize = pieces
        }
        self.init(kind: kind, payloadSize: size, writeSize: writeSize)
    }

    /// "64", "4k", "1m".
    private static func size(_ text: Substring) -> Int? {
        var digits = text
        var multiplier = 1
        if digits.hasSuffix("k") { multiplier = 1 << 10; digits = digits.dropLast() }
        if digits.hasSuffix("m") { multiplier = 1 << 20; digits = digits.dropLast() }
        guard let value = Int(digits), value >= 0, value <= 1 << 30 else { return nil }
        return value * multiplier
    }

    init(kind: Kind, payloadSize: Int, writeSize: Int? = nil) {
        self.kind = kind
        self.payloadSize = payloadSize
        self.writeSize = writeSize
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
        // With pieces, the server reads as LibIPC does too: the same size per `recv`.
        let hello = BenchProtocol.Hello(mode: mode, readSize: UInt32(benchCase.writeSize ?? 0))
        try BenchIO.sendAll(fd, BenchProtocol.helloFrame(hello))
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
            return try stream(frame: stable, payloadSize: benchCase.payloadSize, writeSize: benchCase.writeSize,
                              fd: fd, nanoseconds: nanoseconds, measuring: measuring)
        case .pingpong:
            return try pingpong(frame: stable, payloadSize: benchCase.payloadSize, writeSize: benchCase.writeSize,
                                fd: fd, nanoseconds: nanoseconds, measuring: measuring)
        }
    }

    /// Sends the frame with one `send`, or in pieces of at most `writeSize` bytes.
    @inline(__always)
    private static func sendFrame(_ fd: Int32, _ frame: UnsafeRawBufferPointer, writeSize: Int?) throws(SystemError) {
        guard let writeSize else { return try BenchIO.sendAll(fd, frame, frame.count) }
        var offset = 0
        while offset < frame.count {
            let piece = min(writeSize, frame.count - offset)
            try BenchIO.sendAll(fd, frame.baseAddress! + offset, piece)
            offset += piece
        }
    }

    private static func stream(
        frame: UnsafeRawBufferPointer, payloadSize: Int, writeSize: Int?, fd: Int32, nanoseconds: UInt64,
        measuring: (Bool) -> Void
    ) throws -> RunResult {
        // Look at the clock every frame for large frames, every 32 for small ones.
        let clockMask: UInt64 = payloadSize >= 32 << 10 ? 0 : 31
        var sent: UInt64 = 0
        measuring(true)
        let start = BenchIO.now()
        let deadline = start &+ nanoseconds
        while true {
            try sendFrame(fd, frame, writeSize: writeSize)
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
        frame: UnsafeRawBufferPointer, payloadSize: Int, writeSize: Int?, fd: Int32, nanoseconds: UInt64,
        measuring: (Bool) -> Void
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
            try sendFrame(fd, frame, writeSize: writeSize)
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
