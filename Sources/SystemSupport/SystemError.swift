import CSystemShims
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

    /// The symbolic name, e.g. "EPIPE" ("errno N" for a value glibc does not name).
    public var errnoName: String { ErrnoText.name(errno) }

    public var description: String {
        "\(operation): \(ErrnoText.describe(errno))"
    }
}


/// The one wording of an errno value in every message ipcscope prints: the system's message, the
/// symbolic name and the number, so a message can be searched for whatever the locale.
public enum ErrnoText {
    /// "ENOSPC", or "errno N" for a value glibc does not name.
    public static func name(_ error: Int32) -> String {
        guard let name = ipcs_errno_name(error) else { return "errno \(error)" }
        return String(cString: name)
    }

    /// "No space left on device (ENOSPC, errno 28)".
    public static func describe(_ error: Int32) -> String {
        let message = strerror(error).map { String(cString: $0) } ?? "unknown error"
        return "\(message) (\(name(error)), errno \(error))"
    }
}
