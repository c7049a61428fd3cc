import Glibc
import SystemSupport

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
    /// The writer stopped writing at its first write error; the trace ends there.
    case writeStopped(TraceWriteFailure)
    /// Something is at the output path that a new trace must not replace.
    case existingOutput(path: String, ExistingOutputProblem)

    public var description: String {
        switch self {
        case .system(let path, let operation, let errno):
            return "\(path): \(operation) failed: \(ErrnoText.describe(errno))"
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
        case .writeStopped(let failure):
            return failure.description
        case .existingOutput(let path, let problem):
            return "\(path): \(problem)"
        }
    }
}

/// Why a writer refuses to replace what is at its output path.
public enum ExistingOutputProblem: Sendable, Equatable, CustomStringConvertible {
    /// A symbolic link: a trace is never written through one (its target would be rewritten).
    case symbolicLink
    /// A regular file that does not start with the trace magic.
    case notATrace
    /// A regular file that could not be opened to read its first bytes.
    case unreadable(errno: Int32)

    /// Whether ``TraceWriter/ExistingOutput/replaceAnyFile`` replaces it.
    public var replacedWhenForced: Bool {
        switch self {
        case .symbolicLink: false
        case .notATrace, .unreadable: true
        }
    }

    public var description: String {
        switch self {
        case .symbolicLink:
            return "is a symbolic link; a trace is not written through one"
        case .notATrace:
            return "exists and is not an ipcscope trace; not replacing it"
        case .unreadable(let error):
            return "exists and cannot be read to tell whether it is a trace (\(ErrnoText.describe(error))); not replacing it"
        }
    }
}
