import CSystemShims
import Glibc
import IPCTransport

/// A listening (or only bound) AF_UNIX stream socket at a path, standing in for a LibIPC server.
final class UnixListener: Sendable {
    let path: String
    let fd: Int32

    init(path: String, listening: Bool = true) throws {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError.current("socket") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0, !listening || listen(fd, 16) == 0 else {
            let error = SystemError.current("bind/listen \(path)")
            Descriptor.close(fd)
            throw error
        }
        self.path = path
        self.fd = fd
    }

    /// The next connection, or nil after `timeout`.
    func accept(timeout: Duration) -> Int32? {
        var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(timeout.components.seconds * 1000)
        guard poll(&ready, 1, milliseconds) == 1 else { return nil }
        let connection = ipcs_accept4(fd, Int32(SOCK_CLOEXEC.rawValue))
        return connection >= 0 ? connection : nil
    }

    deinit {
        Descriptor.close(fd)
        unlink(path)
    }
}

/// The process on the other end of a connected AF_UNIX socket (SO_PEERCRED).
func peerPID(_ fd: Int32) -> pid_t? {
    var pid: pid_t = 0
    var uid: uid_t = 0
    var gid: gid_t = 0
    return ipcs_peercred(fd, &pid, &uid, &gid) == 0 ? pid : nil
}

/// Reads until `terminator` (inclusive) or EOF; nil on error.
func readLine(_ fd: Int32, terminator: UInt8 = 10) -> String? {
    var bytes: [UInt8] = []
    var byte: UInt8 = 0
    while true {
        let count = read(fd, &byte, 1)
        if count < 0 && errno == EINTR { continue }
        if count < 0 { return nil }
        if count == 0 { break }
        bytes.append(byte)
        if byte == terminator { break }
    }
    return String(decoding: bytes, as: UTF8.self)
}
