import CSystemShims
import Glibc
import IPCWire

/// The two ends of an `AF_UNIX` `SOCK_STREAM` socketpair, both close-on-exec, each owned from the moment
/// the kernel made it: take them apart (`let a = pair.first`) to hand each on; an end nobody took is
/// closed when the pair is dropped.
@frozen public struct SocketPair: ~Copyable, Sendable {
    public var first: OwnedFD
    public var second: OwnedFD

    public static func make() throws(SystemError) -> SocketPair {
        var fds: (Int32, Int32) = (-1, -1)
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        _ = try withUnsafeMutableBytes(of: &fds) { (buffer) throws(SystemError) in
            try retryingOnInterrupt("socketpair") {
                socketpair(AF_UNIX, type, 0, buffer.baseAddress!.assumingMemoryBound(to: Int32.self))
            }
        }
        return SocketPair(first: OwnedFD(adopting: fds.0), second: OwnedFD(adopting: fds.1))
    }
}

public enum SocketOptions {
    /// Sets SO_SNDBUF and SO_RCVBUF as TransportSocket's constructor does (128 KiB by default).
    /// Ladybird ignores failures here, and so do callers that use `try?`.
    public static func setBufferSizes(_ fd: Int32, bytes: Int = Limits.socketBufferSize) throws(SystemError) {
        var size = Int32(clamping: bytes)
        let length = socklen_t(MemoryLayout<Int32>.size)
        _ = try retryingOnInterrupt("setsockopt(SO_SNDBUF)") { setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, length) }
        _ = try retryingOnInterrupt("setsockopt(SO_RCVBUF)") { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, length) }
    }

    /// Sets SO_SNDBUF alone (the kernel caps the value at net.core.wmem_max and doubles it).
    public static func setSendBufferSize(_ fd: Int32, _ bytes: Int32) throws(SystemError) {
        var size = bytes
        _ = try retryingOnInterrupt("setsockopt(SO_SNDBUF)") {
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    /// Whether `fd` is an AF_UNIX stream socket: what a LibIPC transport is.
    public static func isUnixStream(_ fd: Int32) -> Bool {
        var type: Int32 = 0
        var domain: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) == 0 else { return false }
        length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &length) == 0 else { return false }
        return type == Int32(SOCK_STREAM.rawValue) && domain == AF_UNIX
    }

    /// Turns SO_PASSCRED on or off: with it, every read returns the writer's credentials (SCM_CREDENTIALS),
    /// and the kernel never joins bytes of different writers into one read. Set it only on a socket that is
    /// already connected: an unbound socket with SO_PASSCRED gets an autobound abstract address at connect().
    public static func setPassCredentials(_ fd: Int32, _ on: Bool) throws(SystemError) {
        var value: Int32 = on ? 1 : 0
        _ = try retryingOnInterrupt("setsockopt(SO_PASSCRED)") {
            setsockopt(fd, SOL_SOCKET, IPCS_SO_PASSCRED, &value, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    /// Whether SO_PASSCRED is on.
    public static func passesCredentials(_ fd: Int32) -> Bool {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, SOL_SOCKET, IPCS_SO_PASSCRED, &value, &length) == 0 && value != 0
    }

    /// The credentials the kernel recorded for the peer when the connection was made (SO_PEERCRED): the
    /// process that called socketpair(), connect() or listen(), whoever holds the sockets now.
    public static func peerCredentials(_ fd: Int32) -> Credentials? {
        var pid: pid_t = 0
        var uid: uid_t = 0
        var gid: gid_t = 0
        guard ipcs_peercred(fd, &pid, &uid, &gid) == 0 else { return nil }
        return Credentials(pid: pid, uid: uid, gid: gid)
    }

    /// The pending socket error (SO_ERROR), 0 when there is none.
    public static func pendingError(_ fd: Int32) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) == 0 else { return Glibc.errno }
        return value
    }
}
