import Glibc

/// Errors opening, writing or reading a trace file. Messages name the file and the system's reason.
public enum TraceFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A system call failed.
    case system(path: String, operation: String, errno: Int32)
    /// The path names something other than a regular file (a directory, a device, a FIFO).
    case notARegularFile(path: String)
    /// The file does not start with the `IPCTRACE` magic.
    case notATrace(path: String)
    /// The file is shorter than the 12-byte file header.
    case truncatedFileHeader(path: String, size: Int)
    /// A major version this build cannot read.
    case unsupportedVersion(path: String, version: TraceFormatVersion)
    /// A record's body is larger than ``TraceFileLayout/maxBodyLength``.
    case recordTooLarge(path: String, kind: TraceRecordKind, bodyLength: Int)
    /// The file became shorter while it was being read (someone truncated or replaced it).
    case fileShrank(path: String, from: Int, to: Int)
    /// The writer was closed before this call.
    case closed(path: String)

    public var description: String {
        switch self {
        case .system(let path, let operation, let errno):
            return "\(path): \(operation) failed: \(String(cString: strerror(errno))) (errno \(errno))"
        case .notARegularFile(let path):
            return "\(path): not a regular file"
        case .notATrace(let path):
            return "\(path): not an ipcscope trace (the file does not start with IPCTRACE)"
        case .truncatedFileHeader(let path, let size):
            return size == 0
                ? "\(path): empty file, not a trace (the recorder may have been killed before writing anything)"
                : "\(path): \(size) bytes, shorter than the 12-byte trace file header"
        case .unsupportedVersion(let path, let version):
            return "\(path): trace format \(version) is not supported by this build (it reads major version \(TraceFileLayout.currentVersion.major))"
        case .recordTooLarge(let path, let kind, let bodyLength):
            return "\(path): \(kind) record of \(bodyLength) bytes exceeds the \(TraceFileLayout.maxBodyLength)-byte record limit"
        case .fileShrank(let path, let from, let to):
            return "\(path): file shrank from \(from) to \(to) bytes while being read"
        case .closed(let path):
            return "\(path): trace writer already closed"
        }
    }
}
