import Glibc
import IPCTransport
import SystemSupport

/// Calls with a `sockaddr_un` for a filesystem path (which must fit `sun_path` with its NUL).
enum UnixSocketAddress {
    static var maxPathLength: Int { MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1 }

    static func with<T>(
        path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T
    ) throws(SystemError) -> T {
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty, bytes.count <= maxPathLength, !bytes.contains(0) else {
            throw SystemError(errno: ENAMETOOLONG, operation: "socket path '\(path)'")
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + 1)
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }

    /// connect(), retried on EINTR.
    static func connect(_ fd: Int32, to path: String) throws(SystemError) {
        let result = try with(path: path) { address, length in
            do throws(SystemError) {
                _ = try retryingOnInterrupt("connect") { Glibc.connect(fd, address, length) }
                return Int32(0)
            } catch {
                return error.errno
            }
        }
        if result != 0 { throw SystemError(errno: result, operation: "connect \(path)") }
    }

    static func bind(_ fd: Int32, to path: String) throws(SystemError) {
        let result = try with(path: path) { address, length in Glibc.bind(fd, address, length) == 0 ? 0 : errno }
        if result != 0 { throw SystemError(errno: result, operation: "bind \(path)") }
    }
}
