import CSystemShims
import Glibc

/// What kind of object an fd refers to (from `fstat`, with memfds told apart by `F_GET_SEALS`).
public enum DescriptorKind: Equatable, Hashable, Sendable, CustomStringConvertible {
    case socket
    case pipe
    case regularFile
    /// An anonymous shared-memory file from `memfd_create` (what Ladybird's AnonymousBuffer uses).
    case memfd
    case directory
    case characterDevice
    case other(mode: UInt32)

    public var description: String {
        switch self {
        case .socket: return "socket"
        case .pipe: return "pipe"
        case .regularFile: return "regular"
        case .memfd: return "memfd"
        case .directory: return "directory"
        case .characterDevice: return "chardev"
        case .other(let mode): return "other(0o\(String(mode, radix: 8)))"
        }
    }
}

public struct DescriptorInfo: Equatable, Hashable, Sendable {
    public var kind: DescriptorKind
    public var device: UInt64
    public var inode: UInt64
    public var size: Int64
}

/// Thin wrappers over fd calls. Ownership convention: an fd is held as an ``OwnedFD`` (or a ``SharedFD``)
/// from the moment it exists; an `Int32` is a borrowed number, except in the few lists that cannot hold a
/// non-copyable value (a message's attachments, a relayed chunk's fds), which have one owner that says so
/// and closes them with `closeAll`. Functions that take ownership say so ("adopting", "consumes").
public enum Descriptor {
    /// Closes without retrying: on Linux the fd is released even when close reports EINTR.
    public static func close(_ fd: Int32) {
        guard fd >= 0 else { return }
        let closed = Glibc.close(fd) == 0 || errno != EBADF
        // Closing an fd twice closes whatever reused the number meanwhile, on any thread: a silent
        // corruption of someone else's traffic. Debug builds (the tests) stop at the second close.
        assert(closed, "fd \(fd) closed twice")
    }

    public static func closeAll(_ fds: some Sequence<Int32>) {
        for fd in fds { close(fd) }
    }

    public static func isOpen(_ fd: Int32) -> Bool {
        fcntl(fd, F_GETFD) != -1
    }

    public static func setCloseOnExec(_ fd: Int32, _ enabled: Bool = true) throws(SystemError) {
        let flags = try retryingOnInterrupt("fcntl(F_GETFD)") { fcntl(fd, F_GETFD) }
        let wanted = enabled ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC
        if wanted != flags { _ = try retryingOnInterrupt("fcntl(F_SETFD)") { fcntl(fd, F_SETFD, wanted) } }
    }

    public static func isCloseOnExec(_ fd: Int32) throws(SystemError) -> Bool {
        try retryingOnInterrupt("fcntl(F_GETFD)") { fcntl(fd, F_GETFD) } & FD_CLOEXEC != 0
    }

    public static func setNonBlocking(_ fd: Int32, _ enabled: Bool = true) throws(SystemError) {
        let flags = try retryingOnInterrupt("fcntl(F_GETFL)") { fcntl(fd, F_GETFL) }
        let wanted = enabled ? flags | O_NONBLOCK : flags & ~O_NONBLOCK
        if wanted != flags { _ = try retryingOnInterrupt("fcntl(F_SETFL)") { fcntl(fd, F_SETFL, wanted) } }
    }

    public static func isNonBlocking(_ fd: Int32) throws(SystemError) -> Bool {
        try retryingOnInterrupt("fcntl(F_GETFL)") { fcntl(fd, F_GETFL) } & O_NONBLOCK != 0
    }

    /// A close-on-exec duplicate numbered at least `minimum`, owned by the caller.
    public static func duplicate(_ fd: Int32, minimum: Int32 = 0) throws(SystemError) -> OwnedFD {
        OwnedFD(adopting: try retryingOnInterrupt("fcntl(F_DUPFD_CLOEXEC)") { fcntl(fd, F_DUPFD_CLOEXEC, minimum) })
    }

    public static func info(_ fd: Int32) throws(SystemError) -> DescriptorInfo {
        var st = stat()
        _ = try retryingOnInterrupt("fstat") { fstat(fd, &st) }
        let kind: DescriptorKind
        switch st.st_mode & S_IFMT {
        case S_IFSOCK: kind = .socket
        case S_IFIFO: kind = .pipe
        case S_IFREG: kind = ipcs_get_seals(fd) >= 0 ? .memfd : .regularFile
        case S_IFDIR: kind = .directory
        case S_IFCHR: kind = .characterDevice
        default: kind = .other(mode: st.st_mode & S_IFMT)
        }
        return DescriptorInfo(kind: kind, device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(st.st_size))
    }

    /// Writes every byte (blocking fds; retries short writes and EINTR). Uses `send` with MSG_NOSIGNAL on
    /// sockets so a closed peer yields EPIPE instead of SIGPIPE.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(SystemError) {
        // withUnsafeBytes rethrows untyped errors: carry the typed one out in a Result.
        try bytes.withUnsafeBytes { buffer in
            Result { () throws(SystemError) in
                try SystemSupport.writeAll(buffer, "write") { rest in
                    let sent = send(fd, rest.baseAddress, rest.count, Int32(MSG_NOSIGNAL))
                    if sent == -1, Glibc.errno == ENOTSOCK { return write(fd, rest.baseAddress, rest.count) }
                    return sent
                }
            }
        }.get()
    }

    /// Reads until end of file (blocking fds).
    public static func readToEnd(_ fd: Int32) throws(SystemError) -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = try retryingOnInterrupt("read") { () -> Int in
                chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            }
            if count == 0 { return result }
            result.append(contentsOf: chunk[0..<count])
        }
    }

    /// Every open fd of this process with what `/proc/self/fd/N` links to (e.g. `pipe:[1234]`), excluding
    /// the fd used to list the directory.
    public static func openDescriptors() -> [Int32: String] {
        guard let dir = opendir("/proc/self/fd") else { return [:] }
        defer { closedir(dir) }
        let listingFD = dirfd(dir)
        var result: [Int32: String] = [:]
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard let fd = Int32(name), fd != listingFD else { continue }
            var target = [CChar](repeating: 0, count: 256)
            let length = readlink("/proc/self/fd/\(name)", &target, target.count - 1)
            let text = length > 0
                ? String(decoding: target[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?"
            result[fd] = text
        }
        return result
    }
}

/// An anonymous pipe (close-on-exec by default), used for wakeups and output capture. Both ends are
/// owned from the moment the kernel made them: take them apart (`let w = pipe.writeEnd`) to hand each on;
/// an end nobody took is closed when the pipe is dropped.
@frozen public struct Pipe: ~Copyable, Sendable {
    public var readEnd: OwnedFD
    public var writeEnd: OwnedFD

    public static func make(nonBlocking: Bool = false) throws(SystemError) -> Pipe {
        var fds: (Int32, Int32) = (-1, -1)
        let flags = O_CLOEXEC | (nonBlocking ? O_NONBLOCK : 0)
        _ = try withUnsafeMutableBytes(of: &fds) { (buffer) throws(SystemError) in
            try retryingOnInterrupt("pipe2") { ipcs_pipe2(buffer.baseAddress!.assumingMemoryBound(to: Int32.self), flags) }
        }
        return Pipe(readEnd: OwnedFD(adopting: fds.0), writeEnd: OwnedFD(adopting: fds.1))
    }
}
