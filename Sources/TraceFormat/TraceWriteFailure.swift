import Glibc
import SystemSupport

/// Why a ``TraceWriter`` stopped writing before it was closed: the first write error. The trace holds
/// whole records up to `offset`; nothing after it reaches the file (but the end record, when it fits).
public struct TraceWriteFailure: Sendable, Equatable, CustomStringConvertible {
    /// The trace's path (its final path, also while it is still written under a temporary name).
    public var path: String
    /// What failed: "write", "fallocate" (reserving disk space), or writing past the file size limit.
    public var operation: String
    public var errno: Int32
    /// Where the trace ends: the offset just after its last whole record.
    public var offset: UInt64

    public init(path: String, operation: String, errno: Int32, offset: UInt64) {
        self.path = path
        self.operation = operation
        self.errno = errno
        self.offset = offset
    }

    /// "write failed: No space left on device (ENOSPC, errno 28)".
    public var reason: String {
        "\(operation) failed: \(ErrnoText.describe(errno))"
    }

    public var description: String {
        "\(path): stopped writing at offset \(offset): \(reason)"
    }
}
