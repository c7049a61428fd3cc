#if canImport(Glibc)
import Glibc
#endif
import Foundation
import TestSupport
import Testing

/// The viewer as a user starts it: `ipcscope view FILE`, `ipcscope demo` on a terminal, and
/// `ipcscope record --view -- CMD`, each in a private tmux pane running a clean bash.
@Suite(.serialized) struct ViewCommandTmuxTests {
    static let demoTrace = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Traces/demo.ipctrace").path

    static func ipcscope() throws -> String { try #require(BuiltProducts.executable("ipcscope"), "ipcscope not built") }

    static func exitStatus(_ screen: String) -> Int? {
        guard let range = screen.range(of: "APP-EXIT=", options: .backwards) else { return nil }
        return Int(screen[range.upperBound...].prefix { $0.isNumber })
    }

    @Test func viewDrawsTheDemoTraceMovesAndQuitsRestoringTheTerminal() throws {
        let pane = try TmuxPane(columns: 140, rows: 40)
        defer { pane.close() }
        let baseline = try pane.modes()
        try pane.type("'\(try Self.ipcscope())' view '\(Self.demoTrace)'; echo APP-EXIT=$?")
        let first = try pane.waitFor("the first screen") { $0.contains("event 1/") && $0.contains("DemoRequestServer") }
        // The status line counts every event of the trace; G goes to the last one.
        let total = try #require(first.range(of: "event 1/").map { first[$0.upperBound...].prefix { $0.isNumber } })
        try pane.send("G")
        _ = try pane.waitFor("the last event") { $0.contains("event \(total)/\(total)") }
        try pane.send("?")
        _ = try pane.waitFor("the help overlay") { $0.contains("Keys (? or Esc closes") && $0.contains("start of the trace") }
        try pane.send("Escape")
        try pane.send("q")
        let screen = try pane.waitFor("the exit status") { Self.exitStatus($0) != nil }
        #expect(Self.exitStatus(screen) == 0)
        #expect(try pane.waitForModes("the modes of before") { $0 == baseline } == baseline)
    }

    @Test func demoOpensTheViewerOnItsTraceOnATerminal() throws {
        let pane = try TmuxPane(columns: 120, rows: 35)
        defer { pane.close() }
        try pane.type("cd '\(pane.directory)' && '\(try Self.ipcscope())' demo; echo APP-EXIT=$?")
        _ = try pane.waitFor("the viewer on the demo's trace", seconds: 120) { $0.contains("ipcscope-demo.ipctrace  event") }
        try pane.send("q")
        let screen = try pane.waitFor("the exit status") { Self.exitStatus($0) != nil }
        #expect(Self.exitStatus(screen) == 0)
        #expect(screen.contains("demo ok: 301 messages"))
    }

    @Test func recordViewFollowsTheLiveTraceAndLogsTheCommandsOutput() throws {
        let peer = try #require(BuiltProducts.executable("IPCTestPeer"), "IPCTestPeer not built")
        let pane = try TmuxPane(columns: 120, rows: 35)
        defer { pane.close() }
        try pane.type("cd '\(pane.directory)' && '\(try Self.ipcscope())' record --view -o live.ipctrace -- '\(peer)' soak 3; echo APP-EXIT=$?")
        // Following: the status line's event count reaches the recorded events while the command runs.
        _ = try pane.waitFor("the viewer following the live trace", seconds: 120) { $0.contains("live.ipctrace  event") && $0.contains("[F]ollow on") }
        try pane.send("q")
        let screen = try pane.waitFor("the exit status", seconds: 120) { Self.exitStatus($0) != nil }
        #expect(Self.exitStatus(screen) == 0)
        #expect(screen.contains("the command's output goes to live.ipctrace.log"))
        // What the command printed went to the log, not over the viewer.
        let log = try String(contentsOfFile: pane.directory + "/live.ipctrace.log", encoding: .utf8)
        #expect(log.contains("soak rounds="))
        #expect(!screen.contains("soak rounds="))
    }

    @Test func viewRefusesWithoutATerminalAndBadThemesAreUsageErrors() throws {
        let notATerminal = try CommandRunner.run(try Self.ipcscope(), ["view", Self.demoTrace], timeoutSeconds: 60)
        #expect(notATerminal.status == 1)
        #expect(notATerminal.stderr.contains("must be a terminal"))
        let badTheme = try CommandRunner.run(try Self.ipcscope(), ["view", "--theme", "no-such-theme", Self.demoTrace], timeoutSeconds: 60)
        #expect(badTheme.status == 64)
        let missing = try CommandRunner.run(try Self.ipcscope(), ["view", "/nonexistent.ipctrace"], timeoutSeconds: 60)
        #expect(missing.status == 66)  // EX_NOINPUT
        #expect(missing.stderr.contains("ipcscope view:"))
    }
}
