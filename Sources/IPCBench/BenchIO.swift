import CSystemShims
import Glibc
import IPCTransport
import IPCWire

/// Blocking socket calls the benchmark's peers use: whole-frame writes (one `send` per frame, as LibIPC
/// writes a message), reads, and Unix-socket paths. Everything throws ``SystemError``.
enum BenchIO {
    /// Nanoseconds of CLOCK_MONOTONIC.
    @inline(__always)
    static func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
    }

    /// Writes all `count` bytes: one `send` call, more only when the kernel takes fewer bytes (a blocking
    /// stream socket takes everything unless interrupted).
    @inline(__always)
    static func sendAll(_ fd: Int32, _ start: UnsafeRawPointer, _ count: Int) throws(SystemError) {
        var offset = 0
        while offset < count {
            let sent = send(fd, start + offset, count - offset, Int32(MSG_NOSIGNAL))
            if sent < 0 {
                if errno == EINTR { continue }
                throw SystemError.current("send")
            }
            offset += sent
        }
    }

    static func sendAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, _ count: Int) throws(SystemError) {
        try sendAll(fd, bytes.baseAddress!, count)
    }

    static func sendAll(_ fd: Int32, _ bytes: [UInt8]) throws(SystemError) {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(SystemError) in try sendAll(fd, raw.baseAddress!, raw.count) }
        }
        try result.get()
    }

    /// One `recv`; 0 means end of stream.
    @inline(__always)
    static func receive(_ fd: Int32, _ start: UnsafeMutableRawPointer, _ count: Int) throws(SystemError) -> Int {
        while true {
            let received = recv(fd, start, count, 0)
            if received >= 0 { return received }
            if errno == EINTR { continue }
            throw SystemError.current("recv")
        }
    }

    /// Reads exactly `count` bytes. False when the stream ended before the first byte; an end in the
    /// middle throws.
    @inline(__always)
    static func receiveExactly(_ fd: Int32, _ start: UnsafeMutableRawPointer, _ count: Int) throws(SystemError) -> Bool {
        var offset = 0
        while offset < count {
            let received = try receive(fd, start + offset, count - offset)
            if received == 0 {
                if offset == 0 { return false }
                throw SystemError(errno: ECONNRESET, operation: "recv: stream ended inside a frame")
            }
            offset += received
        }
        return true
    }

    /// Reads one whole frame (12-byte header, then the payload) and returns its payload; nil at end of stream.
    static func receiveFrame(_ fd: Int32) throws(SystemError) -> [UInt8]? {
        var header = [UInt8](repeating: 0, count: FrameHeader.size)
        let gotHeader = header.withUnsafeMutableBytes { raw in
            Result { () throws(SystemError) in try receiveExactly(fd, raw.baseAddress!, raw.count) }
        }
        guard try gotHeader.get() else { return nil }
        guard let decoded = FrameHeader(header) else { return nil }
        var payload = [UInt8](repeating: 0, count: Int(decoded.payloadSize))
        if !payload.isEmpty {
            let gotPayload = payload.withUnsafeMutableBytes { raw in
                Result { () throws(SystemError) in try receiveExactly(fd, raw.baseAddress!, raw.count) }
            }
            guard try gotPayload.get() else {
                throw SystemError(errno: ECONNRESET, operation: "recv: stream ended inside a frame")
            }
        }
        return payload
    }

    // MARK: Unix socket paths

    static func listen(at path: String, backlog: Int32 = 64) throws(SystemError) -> Int32 {
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError.current("socket") }
        let rc = withAddress(path) { address, length in bind(fd, address, length) }
        guard rc == 0 else {
            let error = SystemError.current("bind \(path)")
            Descriptor.close(fd)
            throw error
        }
        chmod(path, 0o600)
        guard Glibc.listen(fd, backlog) == 0 else {
            let error = SystemError.current("listen \(path)")
            Descriptor.close(fd)
            throw error
        }
        return fd
    }

    /// Connects to `path`, retrying while nobody listens there yet (a proxy still starting) for `patience`.
    static func connect(to path: String, patienceNanoseconds: UInt64 = 5_000_000_000) throws(SystemError) -> Int32 {
        let deadline = now() &+ patienceNanoseconds
        while true {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw SystemError.current("socket") }
            let rc = withAddress(path) { address, length in Glibc.connect(fd, address, length) }
            if rc == 0 { return fd }
            let error = SystemError.current("connect \(path)")
            Descriptor.close(fd)
            guard error.errno == ENOENT || error.errno == ECONNREFUSED || error.errno == EINTR, now() < deadline else {
                throw error
            }
            usleep(10_000)
        }
    }

    private static func withAddress(
        _ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32
    ) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else {
            errno = ENAMETOOLONG
            return -1
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }

    /// SO_SNDBUF/SO_RCVBUF as LibIPC's TransportSocket sets them; 0 leaves the kernel default.
    static func applyBufferSize(_ fd: Int32, _ bytes: Int) {
        guard bytes > 0 else { return }
        try? SocketOptions.setBufferSizes(fd, bytes: bytes)
    }

    /// The path behind /proc/self/exe.
    static func executablePath() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return String(path[..<slash])
    }

    /// The first executable called `name` on PATH.
    static func findOnPath(_ name: String) -> String? {
        guard let path = getenv("PATH").map({ String(cString: $0) }) else { return nil }
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    static func fileSize(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int64(info.st_size)
    }
}

/// The benchmark's own little protocol on top of LibIPC framing: the client's first frame (hello) says
/// what the connection is for, the server answers with an empty frame when it is ready, and a stream
/// ends with the server's count of what it received.
enum BenchProtocol {
    static let magic: UInt32 = 0x4243_5049  // "IPCB"

    enum Mode: UInt32 {
        /// The server reads and counts frames until end of stream, then sends a `StreamResult` frame.
        case sink = 1
        /// The server sends every frame back as it arrives (one `send` per frame).
        case echo = 2
    }

    struct Hello: Equatable {
        var mode: Mode
        /// The most the server reads per `recv` (0: its default). LibIPC's IO thread reads 4096.
        var readSize: UInt32 = 0
    }

    static func helloFrame(_ hello: Hello) -> [UInt8] {
        var payload: [UInt8] = []
        for value in [magic, hello.mode.rawValue, hello.readSize] {
            withUnsafeBytes(of: value.littleEndian) { payload += $0 }
        }
        return FrameEncoder.payloadFrame(payload)
    }

    static func parseHello(_ payload: [UInt8]) -> Hello? {
        guard payload.count >= 12 else { return nil }
        let words = payload.withUnsafeBytes { raw in
            (UInt32(littleEndian: raw.loadUnaligned(as: UInt32.self)),
             UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self)),
             UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self)))
        }
        guard words.0 == magic, let mode = Mode(rawValue: words.1) else { return nil }
        return Hello(mode: mode, readSize: words.2)
    }

    struct StreamResult: Equatable {
        var frames: UInt64
        var payloadBytes: UInt64

        var frame: [UInt8] {
            var payload: [UInt8] = []
            for value in [frames, payloadBytes] { withUnsafeBytes(of: value.littleEndian) { payload += $0 } }
            return FrameEncoder.payloadFrame(payload)
        }

        init(frames: UInt64, payloadBytes: UInt64) {
            self.frames = frames
            self.payloadBytes = payloadBytes
        }

        init?(payload: [UInt8]) {
            guard payload.count >= 16 else { return nil }
            (frames, payloadBytes) = payload.withUnsafeBytes { raw in
                (UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self)),
                 UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
            }
        }
    }
}
