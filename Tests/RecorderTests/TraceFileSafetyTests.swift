import Foundation
import Glibc
import TestSupport
import Testing

/// `ipcscope record` (the real binary) when the trace cannot be written, and around existing files at the
/// output path: the traffic and the recorded program never notice; the user is told, once; the trace
/// ends with an end record that says why; and a recording that fails to start destroys nothing.
@Suite(.serialized, .timeLimit(.minutes(10))) struct TraceFileSafetyTests {
    static let failureLine = "ipcscope record: cannot write the trace any more"
    static let demoOK = "demo ok: 2000 messages, 48 fds, 3 transfers"

    // MARK: a disk that fills up

    /// `record` under a file size limit of `blocks` × 512 bytes, set in its shell only: the recorded
    /// command (`inner`, a shell script run with `command` as its arguments) runs without one again.
    static func recordUnderFileSizeLimit(
        blocks: Int, trace: String, options: [String], inner: String = "ulimit -S -f unlimited && exec \"$0\" \"$@\"",
        command: [String]
    ) throws -> CommandResult {
        // SIGXFSZ keeps its default action here (CommandRunner resets it): the recorder must not die of it.
        let outer = "ulimit -S -f \(blocks) && exec \"$0\" \"$@\""
        return try CommandRunner.run("/bin/sh", ["-c", outer, try ipcscopeExecutable(), "record", "-o", trace]
            + options + ["--", "/bin/sh", "-c", inner] + command)
    }

    static func demo(messages: Int = 2000) throws -> [String] {
        [try ipcscopeExecutable(), "demo", "--no-record", "--messages", String(messages)]
    }

    /// The failure was told exactly once with its errno name and offset, the summary says the trace is
    /// incomplete (not that the writer fell behind), and `check` finds an intact trace that ends with an
    /// end record naming the error at that offset.
    static func expectStoppedByWriteError(_ run: CommandResult, trace: String, errnoName: String) throws {
        #expect(!run.timedOut, "the recording completed")
        let lines = run.stderr.split(separator: "\n").filter { $0.contains(failureLine) }
        try #require(lines.count == 1, "told exactly once:\n\(run.stderr)")
        let line = String(lines[0])
        #expect(line.contains("(\(errnoName), errno"), "\(line)")
        let offsetText = try #require(line.firstMatch(of: /stopped at offset (\d+)/)?.1, "\(line)")
        let offset = try #require(UInt64(offsetText))
        #expect(run.stderr.contains("TRACE INCOMPLETE: it ends at offset \(offset)"), "\(run.stderr)")
        #expect(!run.stderr.contains("writer behind"), "\(run.stderr)")

        let check = try CommandRunner.run(try ipcscopeExecutable(), ["check", "--json", trace])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        let reports = try #require(try JSONSerialization.jsonObject(with: Data(check.stdout.utf8)) as? [[String: Any]])
        let report = try #require(reports.first)
        #expect(report["ok"] as? Bool == true, "the records before the error are intact")
        #expect(report["recording"] as? String == "stopped-by-write-error")
        #expect(report["truncatedTail"] == nil, "not a killed recorder's cut record")
        let end = try #require(report["end"] as? [String: Any])
        #expect(end["stopReason"] as? String == "write-error")
        #expect(end["errnoName"] as? String == errnoName)
        #expect((end["stopOffset"] as? NSNumber)?.uint64Value == offset)
        #expect((end["frames"] as? NSNumber)?.intValue ?? 0 >= 2000, "the end record counts all that crossed")

        let text = try CommandRunner.run(try ipcscopeExecutable(), ["check", trace])
        #expect(text.stdout.contains("STOPPED BY A WRITE ERROR at offset \(offset)"), "\(text.stdout)")
        #expect(text.stdout.contains("INCOMPLETE: the recorder stopped writing because of an error"), "\(text.stdout)")
    }

    @Test(arguments: [false, true])
    func theFileSizeLimitStopsTheTraceLoudlyAndTheProgramRunsOn(lossless: Bool) throws {
        let directory = makeScratchDirectory()
        let trace = directory + "/limited.ipctrace"
        let run = try Self.recordUnderFileSizeLimit(
            blocks: 64, trace: trace, options: lossless ? ["--lossless"] : [], command: try Self.demo())
        // The demo checked every message it sent and received, and exited 0: the trace's exit status says
        // the trace is incomplete.
        #expect(run.stdout.contains(Self.demoOK), "\(run.stdout)\n\(run.stderr)")
        #expect(run.status == 74, "\(run.stderr)")
        try Self.expectStoppedByWriteError(run, trace: trace, errnoName: "EFBIG")
        var info = stat()
        #expect(stat(trace, &info) == 0 && info.st_size <= 64 * 512)
    }

    @Test func theRecordedCommandsFailureWinsOverTheTraces() throws {
        let directory = makeScratchDirectory()
        let trace = directory + "/limited.ipctrace"
        let run = try Self.recordUnderFileSizeLimit(
            blocks: 64, trace: trace, options: [], inner: "ulimit -S -f unlimited && \"$0\" \"$@\"; exit 3",
            command: try Self.demo())
        #expect(run.stdout.contains(Self.demoOK), "\(run.stdout)\n\(run.stderr)")
        #expect(run.status == 3, "\(run.stderr)")
        try Self.expectStoppedByWriteError(run, trace: trace, errnoName: "EFBIG")
    }

    /// A real full disk: a 20 KiB tmpfs. Needs root (CI runs as root); without it there is nothing to check.
    @Test(.enabled(if: geteuid() == 0), arguments: [false, true])
    func aFullDiskStopsTheTraceLoudlyAndTheProgramRunsOn(lossless: Bool) throws {
        let directory = makeScratchDirectory()
        let mounted = try CommandRunner.run("/bin/mount", ["-t", "tmpfs", "-o", "size=20k,mode=0700", "tmpfs", directory])
        guard mounted.status == 0 else { return }  // mounting not permitted here (a container without CAP_SYS_ADMIN)
        defer { _ = try? CommandRunner.run("/bin/umount", [directory]) }
        let trace = directory + "/full.ipctrace"
        let run = try CommandRunner.run(try ipcscopeExecutable(), ["record", "-o", trace]
            + (lossless ? ["--lossless"] : []) + ["--"] + (try Self.demo()))
        #expect(run.stdout.contains(Self.demoOK), "\(run.stdout)\n\(run.stderr)")
        #expect(run.status == 74, "\(run.stderr)")
        try Self.expectStoppedByWriteError(run, trace: trace, errnoName: "ENOSPC")
    }

    // MARK: nothing is destroyed

    static func entries(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }

    static func bytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

    static func mode(_ path: String) -> mode_t {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode & 0o7777 : 0
    }

    /// A real trace of a short demo run at `path`.
    static func recordATrace(at path: String) throws {
        let run = try CommandRunner.run(try ipcscopeExecutable(), ["record", "-o", path, "--"] + (try demo(messages: 200)))
        try #require(run.status == 0, "\(run.stderr)")
    }

    @Test func aRecordingThatFailsToStartLeavesTheExistingTraceUntouched() throws {
        let directory = makeScratchDirectory()
        let trace = directory + "/existing.ipctrace"
        try Self.recordATrace(at: trace)
        let before = try #require(Self.bytes(trace))
        #expect(before.count > 10_000)

        let missing = try CommandRunner.run(try ipcscopeExecutable(), ["record", "-o", trace, "--", "/nonexistent-binary"])
        #expect(missing.status == 1)
        #expect(missing.stderr.hasPrefix("ipcscope record: cannot run /nonexistent-binary: "), "\(missing.stderr)")

        let listen = try CommandRunner.run(try ipcscopeExecutable(), [
            "record", "-o", trace, "--listen", directory + "/no/such/dir/listen.sock", "--upstream", directory + "/up.sock",
        ])
        #expect(listen.status == 1)
        #expect(listen.stderr.hasPrefix("ipcscope record: cannot listen on \(directory)/no/such/dir/listen.sock: "), "\(listen.stderr)")

        #expect(Self.bytes(trace) == before, "byte for byte")
        #expect(Self.entries(directory) == ["existing.ipctrace"], "no temporary file is left")
    }

    @Test func aFileThatIsNotATraceIsReplacedOnlyWithForce() throws {
        let directory = makeScratchDirectory()
        let notes = directory + "/notes.txt"
        let original = Data("not a trace\n".utf8)
        #expect(FileManager.default.createFile(atPath: notes, contents: original))

        for arguments in [["record", "-o", notes, "--", "/bin/true"], ["demo", "-o", notes, "--messages", "20"]] {
            let refused = try CommandRunner.run(try ipcscopeExecutable(), arguments)
            #expect(refused.status == 73, "\(arguments)")  // EX_CANTCREAT
            #expect(refused.stderr.contains("ipcscope record: cannot create the trace: \(notes): exists and is not an ipcscope trace"), "\(refused.stderr)")
            #expect(refused.stderr.contains("--force"), "\(refused.stderr)")
            #expect(Self.bytes(notes) == original)
            #expect(Self.entries(directory) == ["notes.txt"])
        }

        let forced = try CommandRunner.run(try ipcscopeExecutable(), ["demo", "--force", "-o", notes, "--messages", "20"])
        #expect(forced.status == 0, "\(forced.stderr)")
        let check = try CommandRunner.run(try ipcscopeExecutable(), ["check", notes])
        #expect(check.status == 0 && check.stdout.contains("clean stop"), "\(check.stdout)")
        #expect(Self.mode(notes) == 0o600)
        #expect(Self.entries(directory) == ["notes.txt"])
        // Now that it is a trace, replacing it needs no --force.
        let again = try CommandRunner.run(try ipcscopeExecutable(), ["record", "-o", notes, "--", "/bin/true"])
        #expect(again.status == 0, "\(again.stderr)")
    }

    @Test(arguments: [[], ["--force"]])
    func aSymlinkAtTheOutputPathIsNotFollowed(extra: [String]) throws {
        let directory = makeScratchDirectory()
        let target = directory + "/target.ipctrace"
        try Self.recordATrace(at: target)
        chmod(target, 0o644)
        let before = try #require(Self.bytes(target))
        let link = directory + "/link.ipctrace"
        #expect(symlink(target, link) == 0)

        let run = try CommandRunner.run(try ipcscopeExecutable(), ["record", "-o", link] + extra + ["--", "/bin/true"])
        #expect(run.status == 73)  // EX_CANTCREAT
        #expect(run.stderr.contains("ipcscope record: cannot create the trace: \(link): is a symbolic link"), "\(run.stderr)")
        #expect(Self.bytes(target) == before)
        #expect(Self.mode(target) == 0o644)
        #expect(Self.entries(directory) == ["link.ipctrace", "target.ipctrace"])
    }
}
