import ArgumentParser
import Foundation
import IPCTransport
import DemoPeers
import Recorder
import SystemSupport

/// `ipcscope record --view -o FILE -- COMMAND…`: the recording runs as a child (`ipcscope record` with the
/// same arguments but --view), so the viewer owns this process's terminal; COMMAND reads /dev/null and writes
/// to a log next to the trace, so nothing it prints lands on the viewer's screen.
enum RecordViewer {
    static func run(arguments: [String], tracePath: String) throws -> Int32 {
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
            say("--view needs a terminal (record without it, then `ipcscope view FILE`)")
            return 64
        }
        let (logPath, log) = try openLog(besides: tracePath)
        defer { close(log) }
        // Only the first --view (before --) is ours; one after -- belongs to COMMAND.
        var childArguments = arguments
        let terminator = childArguments.firstIndex(of: "--") ?? childArguments.endIndex
        if let ours = childArguments[..<terminator].firstIndex(of: "--view") { childArguments.remove(at: ours) }
        let recorder = try ProcessSpawner.spawn(
            executable: SelfExecutableLauncher.invocationName(), arguments: childArguments,
            standardInput: .null, standardOutput: .file(log), standardError: .file(log))
        say("recording into \(tracePath); the command's output goes to \(logPath)")
        // The trace appears at its path once the command runs (or never, if recording cannot start).
        while access(tracePath, F_OK) != 0 {
            if let status = recorder.tryWait() {
                say("recording did not start (\(status)); see \(logPath)")
                return status.exitCode
            }
            usleep(10_000)
        }
        let viewed = try ViewLauncher.view(
            path: tracePath, filter: "", schemaPaths: [], theme: nil, follow: true, mouse: true, title: nil, command: "record")
        if recorder.tryWait() == nil {
            say("viewer closed; still recording into \(tracePath) until the command exits (Ctrl-C stops it); its output: \(logPath)")
        }
        let status = recorder.wait()
        say("\(status == .exited(0) ? "done" : "ended: \(status)"); trace \(tracePath), command output \(logPath)")
        if viewed != 0 && viewed < 128 { return viewed }
        return status.exitCode
    }

    /// `FILE.log`, or `FILE.1.log`… when that exists: a new file (0600), never one of the user's replaced.
    private static func openLog(besides tracePath: String) throws -> (String, Int32) {
        for attempt in 0..<100 {
            let path = attempt == 0 ? tracePath + ".log" : tracePath + ".\(attempt).log"
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
            if fd >= 0 { return (path, fd) }
            guard errno == EEXIST else {
                say("cannot create the command's log \(path): \(ErrnoText.describe(errno))")
                throw ExitCode(1)
            }
        }
        say("cannot create the command's log: \(tracePath).log and 99 numbered ones exist")
        throw ExitCode(1)
    }

    private static func say(_ line: String) {
        FileHandle.standardError.write(Data("ipcscope record: \(line)\n".utf8))
    }
}

extension ExitStatus {
    /// The status a shell would report for a child that ended this way.
    var exitCode: Int32 {
        switch self {
        case .exited(let code): code
        case .signaled(let signal): 128 + signal
        }
    }
}
