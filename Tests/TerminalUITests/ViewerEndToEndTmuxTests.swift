#if canImport(Glibc)
import Glibc
#endif
import Foundation
import TestSupport
import Testing

/// The real `ipcscope view` driven in tmux as a user would (issue 12's end-to-end test): a Traces/ file
/// stepped, filtered, help, resized, quit; and a trace another process is recording, followed. Each checks
/// capture-pane text and that the terminal is given back (stty -g and tmux's mode flags as before).
@Suite(.serialized) struct ViewerEndToEndTmuxTests {
    static let traces = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Traces").path

    /// A pane whose shell saved `stty -g` before the viewer started.
    struct Session {
        let pane: TmuxPane
        let baseline: String

        init(columns: Int, rows: Int) throws {
            pane = try TmuxPane(columns: columns, rows: rows)
            baseline = try pane.modes()
            try pane.type("stty -g > '\(pane.directory)/before'")
        }

        /// Quits with q and checks the exit status, the driver modes and tmux's modes.
        func quitAndExpectRestored() throws {
            try pane.send("q")
            let screen = try pane.waitFor("the exit status") { ViewCommandTmuxTests.exitStatus($0) != nil }
            #expect(ViewCommandTmuxTests.exitStatus(screen) == 0)
            try pane.type("stty -g > '\(pane.directory)/after'; cmp -s '\(pane.directory)/before' '\(pane.directory)/after' && echo STTY-\"SAME\" || echo STTY-\"DIFFERENT\"")
            let compared = try pane.waitFor("the stty comparison") { $0.contains("STTY-SAME\n") || $0.contains("STTY-DIFFERENT\n") }
            #expect(compared.contains("STTY-SAME\n"), "terminal driver modes changed")
            #expect(try pane.waitForModes("the modes of before") { $0 == baseline } == baseline)
        }
    }

    /// `event 12/300` of the status line: (12, 300).
    static func eventPosition(_ screen: String) -> (Int, Int)? {
        guard let line = screen.split(separator: "\n").last(where: { $0.contains(" ipcscope ") && $0.contains(" event ") }),
              let range = line.range(of: " event ") else { return nil }
        let numbers = line[range.upperBound...].prefix { $0.isNumber || $0 == "," || $0 == "/" }.replacingOccurrences(of: ",", with: "")
        let parts = numbers.split(separator: "/").compactMap { Int($0) }
        return parts.count == 2 ? (parts[0], parts[1]) : nil
    }

    /// The visible screen (no scrollback): what the viewer shows now.
    static func current(_ pane: TmuxPane) throws -> String { try pane.screen() }

    /// Waits until the visible screen satisfies `condition`.
    static func waitForScreen(_ pane: TmuxPane, _ what: String, seconds: Double = 30, _ condition: (String) -> Bool) throws -> String {
        _ = try pane.waitFor(what, seconds: seconds) { _ in (try? condition(pane.screen())) ?? false }
        return try pane.screen()
    }

    /// The diagram's rows (the lane-name line left out), as the left pane at 100 columns or more shows them.
    static func diagramRows(_ screen: String) -> [String] {
        let lines = screen.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let top = lines.firstIndex(where: { $0.hasPrefix("┌ Sequence") }) else { return [] }
        var rows: [String] = []
        for line in lines[(top + 2)...] {
            if line.hasPrefix("└") { break }
            let left = line.components(separatedBy: "││").first ?? line
            let inner = left.trimmingCharacters(in: CharacterSet(charactersIn: "│ "))
            if !inner.isEmpty { rows.append(left) }
        }
        return rows
    }

    @Test func stepsFiltersHelpsResizesAndQuitsOnATracesFile() throws {
        let session = try Session(columns: 140, rows: 40)
        defer { session.pane.close() }
        let pane = session.pane
        try pane.type("'\(try ViewCommandTmuxTests.ipcscope())' view '\(Self.traces)/demo.ipctrace'; echo APP-EXIT=$?")
        let first = try Self.waitForScreen(pane, "the first screen") { Self.eventPosition($0)?.0 == 1 }
        let total = try #require(Self.eventPosition(first)?.1)
        #expect(first.contains("DemoWebContentClient") && first.contains("┌ Detail"))

        // Steps: j/k move a row; n/p an event (no search set). The status line says where the selection is.
        var position = 1
        for (key, expectedMove) in [("j", true), ("j", true), ("k", false), ("n", true), ("p", false)] {
            let before = position
            try pane.send(key)
            let screen = try Self.waitForScreen(pane, "the selection to move after \(key)") { (Self.eventPosition($0)?.0 ?? before) != before }
            position = try #require(Self.eventPosition(screen)?.0)
            #expect(expectedMove ? position > before : position < before, "\(key): \(before) → \(position)")
        }

        // A filter: typed at the prompt, applied with Enter; the status line names it and its row count, and
        // every row on screen is one of its messages.
        try pane.send("/")
        try pane.send("-l", "message == \"*websocket*\"")
        try pane.send("Enter")
        let filtered = try Self.waitForScreen(pane, "the filtered rows") { $0.contains("filter: message == \"*websocket*\" (") }
        #expect(filtered.contains("filter: message == \"*websocket*\" (28 rows)"))
        let rows = Self.diagramRows(filtered)
        #expect(rows.count >= 10, "rows: \(rows)")
        #expect(rows.allSatisfy { $0.contains("websocket") }, "a row that does not match:\n\(rows.joined(separator: "\n"))")
        // An invalid filter is refused at the prompt with its column; Escape leaves the one applied.
        try pane.send("/")
        try pane.send("C-u")
        try pane.send("-l", "size >")
        let invalid = try Self.waitForScreen(pane, "the filter error") { $0.contains("size >") && $0.lowercased().contains("column") }
        #expect(invalid.contains("filter: message == \"*websocket*\""))
        try pane.send("Escape")

        // Help lists the keys; Escape closes it.
        try pane.send("?")
        _ = try Self.waitForScreen(pane, "the help overlay") { $0.contains("Keys (? or Esc closes") && $0.contains("start of the trace") }
        try pane.send("Escape")
        _ = try Self.waitForScreen(pane, "help closed") { !$0.contains("Keys (? or Esc closes") }

        // Narrower than 100 columns the detail goes below the diagram; back to 140 it is beside it again.
        try pane.resize(columns: 80, rows: 40)
        let narrow = try Self.waitForScreen(pane, "the narrow layout") { $0.split(separator: "\n").contains { $0.hasPrefix("┌ Detail") } }
        #expect(narrow.split(separator: "\n").allSatisfy { $0.count <= 80 })
        #expect(narrow.contains("filter: message"))
        try pane.resize(columns: 140, rows: 40)
        _ = try Self.waitForScreen(pane, "the wide layout") { $0.contains("┐┌ Detail") }
        #expect(total > 28)

        try session.quitAndExpectRestored()
    }

    @Test func followsATraceAnotherProcessIsRecording() throws {
        let peer = try #require(BuiltProducts.executable("IPCTestPeer"), "IPCTestPeer not built")
        let ipcscope = try ViewCommandTmuxTests.ipcscope()
        let session = try Session(columns: 120, rows: 35)
        defer { session.pane.close() }
        let pane = session.pane
        let trace = pane.directory + "/live.ipctrace"
        // The recorder in the background (its output to a file); the viewer once the trace has its first records.
        try pane.type("'\(ipcscope)' record -o '\(trace)' -- '\(peer)' soak 8 > '\(pane.directory)/record.log' 2>&1 &")
        try pane.type("while [ ! -s '\(trace)' ]; do sleep 0.05; done; '\(ipcscope)' view --follow '\(trace)'; echo APP-EXIT=$?")
        let first = try Self.waitForScreen(pane, "the viewer following", seconds: 60) { $0.contains("[F]ollow on") && Self.eventPosition($0) != nil }
        let (_, startTotal) = try #require(Self.eventPosition(first))
        // The count grows while the soak runs, and the newest event stays selected.
        let later = try Self.waitForScreen(pane, "the event count to grow", seconds: 60) { (Self.eventPosition($0)?.1 ?? 0) > startTotal + 100 }
        let (selected, total) = try #require(Self.eventPosition(later))
        #expect(total > startTotal)
        #expect(selected >= total - 100, "the selection stays at the newest events: \(selected)/\(total)")
        try session.quitAndExpectRestored()
        // The recording ends on its own (the soak's time), unharmed by the viewer reading it.
        try pane.type("wait; echo RECORD-\"EXIT\"=$?")
        let done = try pane.waitFor("the recorder's exit", seconds: 60) { $0.contains("RECORD-EXIT=") }
        #expect(done.contains("RECORD-EXIT=0"))
    }
}
