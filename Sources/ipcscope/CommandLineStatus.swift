import Foundation
import SystemSupport
import TraceExport
import TraceFormat

/// The exit statuses of every command (README, "Exit status"); the numbers are sysexits.h's.
/// `record` (and `demo`, which records) exits with the recorded command's status first when that is not 0.
enum CLIStatus {
    /// Anything the table does not name: a demo step failed, a recording could not start, no terminal.
    static let failure: Int32 = 1
    /// EX_USAGE: the command line is wrong (unknown command or option, a value out of range, options that
    /// conflict or do nothing together, a filter that does not compile, a --schema or --theme unusable).
    static let usage: Int32 = 64
    /// EX_DATAERR: an input is not what it must be: not a trace, a damaged trace, a .ipc file that does not parse.
    static let dataError: Int32 = 65
    /// EX_NOINPUT: an input file does not exist or cannot be opened.
    static let noInput: Int32 = 66
    /// EX_CANTCREAT: an output file cannot be created (no such directory, no permission, or something
    /// there that must not be replaced).
    static let cannotCreate: Int32 = 73
    /// EX_IOERR: reading or writing failed part way (a full disk; a trace left incomplete).
    static let ioError: Int32 = 74

    /// Errnos that mean "this input cannot be opened" rather than "reading it failed".
    private static let unopenable: Set<Int32> = [ENOENT, ENOTDIR, EACCES, EPERM, ELOOP, ENAMETOOLONG, EISDIR, ENXIO]

    /// The status for a trace that could not be opened or read.
    static func reading(_ error: TraceFileError) -> Int32 {
        switch error {
        case .system(_, _, let errno): unopenable.contains(errno) ? noInput : ioError
        case .notARegularFile: noInput
        case .notATrace, .truncatedFileHeader, .unsupportedVersion, .recordTooLarge: dataError
        case .fileShrank: ioError
        case .existingOutput: cannotCreate
        case .closed, .writeStopped: failure
        }
    }

    /// The status for an output (`-o`) that could not be created or written.
    static func writing(_ error: ExportError) -> Int32 {
        error.isCreation ? cannotCreate : ioError
    }
}

/// A failure with a message for the user: printed as `ipcscope CMD: …`, then the process exits with `status`.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    var status: Int32

    init(_ description: String, status: Int32 = CLIStatus.failure) {
        self.description = description
        self.status = status
    }
}

/// Every error line goes through here: `ipcscope CMD: what went wrong: why`.
enum ErrorLine {
    static func write(_ command: String?, _ message: String) {
        let prefix = command.map { "ipcscope \($0): " } ?? "ipcscope: "
        FileHandle.standardError.write(Data((prefix + message + "\n").utf8))
    }
}
