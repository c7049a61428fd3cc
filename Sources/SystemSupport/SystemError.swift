import Glibc

/// A failed system call: the errno it set and what was being done.
public struct SystemError: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    public var errno: Int32
    public var operation: String

    public init(errno: Int32, operation: String) {
        self.errno = errno
        self.operation = operation
    }

    /// Captures the calling thread's current `errno`.
    public static func current(_ operation: String) -> SystemError {
        SystemError(errno: Glibc.errno, operation: operation)
    }

    /// EAGAIN / EWOULDBLOCK: try again when the fd is ready.
    public var isWouldBlock: Bool { errno == EAGAIN || errno == EWOULDBLOCK }

    /// The symbolic name where it is a common one, e.g. "EPIPE".
    public var errnoName: String {
        switch errno {
        case EPERM: return "EPERM"
        case ENOENT: return "ENOENT"
        case EINTR: return "EINTR"
        case EIO: return "EIO"
        case EBADF: return "EBADF"
        case ECHILD: return "ECHILD"
        case EAGAIN: return "EAGAIN"
        case ENOMEM: return "ENOMEM"
        case EACCES: return "EACCES"
        case EFAULT: return "EFAULT"
        case EINVAL: return "EINVAL"
        case EMFILE: return "EMFILE"
        case ENFILE: return "ENFILE"
        case ENOTSOCK: return "ENOTSOCK"
        case EPIPE: return "EPIPE"
        case ECONNRESET: return "ECONNRESET"
        case ENOBUFS: return "ENOBUFS"
        case ETOOMANYREFS: return "ETOOMANYREFS"
        case ENOTCONN: return "ENOTCONN"
        case ESRCH: return "ESRCH"
        case ENOEXEC: return "ENOEXEC"
        default: return "errno \(errno)"
        }
    }

    public var description: String {
        let message = strerror(errno).map { String(cString: $0) } ?? "unknown error"
        return "\(operation): \(errnoName) (\(message))"
    }
}

