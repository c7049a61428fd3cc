import Foundation
import IPCWire
import Testing
import TraceAnalysis
import TraceFormat
@testable import ViewerModel

/// The viewer rendered through the grid, as a backend would draw it, on the shipped traces and on
/// constructed ones whose content is known.
@Suite struct TraceViewerTests {
    let scratch = ScratchDirectory()

    func browser(rows: Int = 40, columns: Int = 140, glyphs: Glyphs = .unicode) throws -> ViewerHarness {
        let path = scratch.path + "/browser.ipctrace"
        if !FileManager.default.fileExists(atPath: path) { try SyntheticTrace.browser().write(to: path) }
        return try ViewerHarness(path: path, rows: rows, columns: columns, glyphs: glyphs)
    }

    struct NotFound: Error {}

    /// The row of the grid whose text contains `text` (the first one); the screen is printed when there is none.
    func row(_ grid: CellGrid, containing text: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> Int {
        guard let row = (0..<grid.rows).first(where: { grid.text(ofRow: $0).contains(text) }) else {
            Issue.record("no row contains \"\(text)\":\n\(grid.text)", sourceLocation: sourceLocation)
            throw NotFound()
        }
        return row
    }

    /// The lane's column, from where its name is centred in the diagram's header row (the row after the box top).
    func laneColumn(_ grid: CellGrid, _ title: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> Int {
        let header = grid.text(ofRow: 2)
        guard let range = header.range(of: title) else {
            Issue.record("no lane \"\(title)\":\n\(grid.text)", sourceLocation: sourceLocation)
            throw NotFound()
        }
        return header.distance(from: header.startIndex, to: range.lowerBound) + title.count / 2
    }

    @Test func lanesAreNamedAfterTheirProcesses() throws {
        let grid = try browser().render()
        let header = grid.text(ofRow: 2)
        #expect(header.contains("UI (pid 100)"))
        #expect(header.contains("WebContent (pid 200)"))
        #expect(header.contains("RequestServer (pid 300)"))
        // Each lane's line runs down under its name (on the rows whose arrows do not cross it).
        for title in ["UI (pid 100)", "WebContent (pid 200)", "RequestServer (pid 300)"] {
            let x = try laneColumn(grid, title)
            let lineRows = (3..<grid.rows).filter { grid[$0, x].character == Glyphs.unicode.vertical && grid[$0, x].style.role == .lane }
            #expect(lineRows.count >= 8, "lane \(title) at column \(x)")
        }
    }

    @Test func arrowsGoFromTheSendersLaneToTheReceiversLane() throws {
        let grid = try browser().render()
        let ui = try (laneColumn(grid, "UI (pid 100)"))
        let webContent = try (laneColumn(grid, "WebContent (pid 200)"))
        let requestServer = try (laneColumn(grid, "RequestServer (pid 300)"))
        #expect(ui < webContent && webContent < requestServer)

        // ping: WebContent → RequestServer, rightwards, the head just before the receiver's lane.
        let ping = try (row(grid, containing: "ping 12 B"))
        #expect(grid[ping, requestServer - 1].character == Glyphs.unicode.arrowRight)
        #expect(grid[ping, webContent + 1].character == Glyphs.unicode.horizontal)
        #expect(grid[ping, webContent + 1].style.role == .sync)
        #expect(grid[ping, ui].character == Glyphs.unicode.vertical)  // the UI lane is not part of it
        #expect(!grid.text(ofRow: ping).prefix(webContent).contains(Glyphs.unicode.arrowLeft))

        // load_url with an fd: WebContent → UI, leftwards, the head just after the UI lane.
        let load = try (row(grid, containing: "load_url 20 B 1 fd"))
        #expect(grid[load, ui + 1].character == Glyphs.unicode.arrowLeft)
        #expect(grid[load, webContent - 1].character == Glyphs.unicode.horizontal)
        #expect(grid[load, webContent + 1].character != Glyphs.unicode.horizontal)

        // The ack goes back UI → WebContent, dashed and in the ack role.
        let ack = try (row(grid, containing: "ack 1 fd"))
        #expect(grid[ack, webContent - 1].character == Glyphs.unicode.arrowRight)
        #expect(grid[ack, ui + 1].character == Glyphs.unicode.dashed)
        #expect(grid[ack, ui + 1].style.role == .ack)
    }

    @Test func aSyncPairShowsItsLatencyOnBothFrames() throws {
        let grid = try browser().render()
        let request = try (row(grid, containing: "ping 12 B"))
        #expect(grid.text(ofRow: request).contains("sync 2.1 ms"))
        let response = try (row(grid, containing: "PingResponse"))
        #expect(grid.text(ofRow: response).contains("PingResponse 12 B 2.1 ms"))
        #expect(grid[response, try (laneColumn(grid, "WebContent (pid 200)")) + 1].character == Glyphs.unicode.arrowLeft)
        #expect(response > request)
    }

    @Test func violationsAndEOFHaveTheirOwnGlyphsOnTheSendersLane() throws {
        let grid = try browser().render()
        let webContent = try (laneColumn(grid, "WebContent (pid 200)"))
        let requestServer = try (laneColumn(grid, "RequestServer (pid 300)"))
        let violation = try (row(grid, containing: "too-many-fds-in-frame 129 > 128"))
        #expect(grid[violation, webContent].character == Glyphs.unicode.violationMark)
        #expect(grid[violation, webContent].style.role == .violation)
        let eof = try (row(grid, containing: "EOF (half-close) after too-many-fds-in-frame"))
        #expect(grid[eof, requestServer].character == Glyphs.unicode.halfClose)
        // The violations pane lists it.
        #expect(grid.text.contains("Violations (1)"))
    }

    @Test func replayMovesTheClockAndTheSelection() throws {
        let h = try browser()
        let start = h.viewer.currentTime
        #expect(h.press(.character(" ")) == .redraw)
        #expect(h.viewer.isPlaying)
        #expect(h.viewer.tickInterval != nil)
        _ = h.viewer.update(.tick(monotonicNanoseconds: 1_000_000_000))
        _ = h.viewer.update(.tick(monotonicNanoseconds: 1_000_000_000 + 2 * SyntheticTrace.ms))
        #expect(h.viewer.currentTime == start + 2 * SyntheticTrace.ms)
        let selected = try #require(h.viewer.selectedEvent)
        let selectedTime = h.viewer.trace.index.time(of: selected)
        #expect(selectedTime <= h.viewer.currentTime)
        #expect(selectedTime == 2 * SyntheticTrace.ms)  // the ping, the last row at or before 2 ms
        #expect(h.render().text(ofRow: 0).contains("t=+0.002000 s"))

        // ×4: one more millisecond of wall time moves the clock 4 ms.
        h.press(.character("+"), .character("+"))
        #expect(h.viewer.speed == 4)
        _ = h.viewer.update(.tick(monotonicNanoseconds: 1_000_000_000 + 3 * SyntheticTrace.ms))
        #expect(h.viewer.currentTime == start + 6 * SyntheticTrace.ms)
        #expect(h.render().text(ofRow: 0).contains("×4"))

        // Played past the end: it stops.
        _ = h.viewer.update(.tick(monotonicNanoseconds: 2_000_000_000))
        #expect(!h.viewer.isPlaying)
        h.press(.character(" "))
        #expect(h.viewer.isPlaying)
        #expect(h.viewer.currentTime == start)  // played again from the start

        // Speeds stop at ×¼ and ×64.
        for _ in 0..<20 { h.press(.character("-")) }
        #expect(h.viewer.speed == 0.25)
        for _ in 0..<20 { h.press(.character("+")) }
        #expect(h.viewer.speed == 64)
    }

    @Test func nextPreviousStartEndTimeAndEventCommands() throws {
        let h = try browser()
        h.press(.character("G"))
        let last = try #require(h.viewer.selectedEvent)
        #expect(h.viewer.trace.index.rawKind(of: last) == TraceRecordKind.eof.rawValue)  // the last event, at 8 ms
        #expect(h.viewer.currentTime == 8 * SyntheticTrace.ms)
        h.press(.character("g"))
        let first = try #require(h.viewer.selectedEvent)
        h.press(.right)
        #expect(h.viewer.selectedEvent != first)
        h.press(.left)
        #expect(h.viewer.selectedEvent == first)

        h.press(.character(":"))
        h.type("t 4.1ms")
        h.press(.enter)
        #expect(h.viewer.currentTime == 4_100_000)
        let response = try #require(h.viewer.selectedEvent)
        guard case .payloadFrame(let frame)? = h.viewer.trace.record(response) else { Issue.record("not a frame"); return }
        #expect(frame.direction == .bToA && frame.channel == 2)

        h.press(.character(":"))
        h.type("e 3")
        h.press(.enter)
        #expect(h.viewer.selectedEvent == h.viewer.trace.index.eventNumber(atTimePosition: 3))
        #expect(h.render().text(ofRow: 0).contains("event 3/"))

        h.press(.character(":"))
        h.type("e 99999")
        h.press(.enter)
        #expect(h.render().text.contains("usage: :e N"))
    }

    @Test func violationsAreVisitedWithVAndShownInDetail() throws {
        let h = try ViewerHarness(sample: "demo-misbehave.ipctrace")
        let violations = Array(h.viewer.trace.index.events(of: .violation))
        #expect(violations.count >= 3)
        var visited: [Int] = []
        for _ in 0..<violations.count {
            h.press(.character("v"))
            visited.append(try #require(h.viewer.selectedEvent))
        }
        #expect(Set(visited) == Set(violations))
        #expect(visited == visited.sorted { h.viewer.trace.index.time(of: $0) < h.viewer.trace.index.time(of: $1) })
        let grid = h.render()
        #expect(grid.text.contains("violation: "))
        #expect(grid.text.contains("Violations (\(violations.count))"))
        h.press(.character("V"))
        #expect(h.viewer.selectedEvent == visited[visited.count - 2])
        h.press(.character("v"), .character("v"))
        #expect(h.render().text.contains("no later violation"))
    }

    @Test func theFilterPromptMarksTheErrorColumnAsYouType() throws {
        let h = try browser()
        h.press(.character("/"))
        h.type("kind == frame and size >")
        let expected: FilterError
        do {
            _ = try CompiledFilter("kind == frame and size >")
            Issue.record("the filter compiled")
            return
        } catch {
            expected = error
        }
        let grid = h.render()
        let footer = grid.rows - 1
        #expect(grid.text(ofRow: footer).hasPrefix("/kind == frame and size >"))
        #expect(grid.text(ofRow: footer).contains("column \(expected.column): \(expected.message)"))
        // The cell under the error column: "/" takes column 0, so filter column c is grid column c.
        let cell = grid[footer, expected.column]
        #expect(cell.style.role == .error && cell.style.reverse)
        // Fixing it clears the error; Enter applies it and the status line shows it.
        h.type(" 12")
        #expect(!h.render().text(ofRow: footer).contains("column"))
        h.press(.enter)
        #expect(h.viewer.activeFilter == "kind == frame and size > 12")
        let filtered = h.render()
        #expect(filtered.text(ofRow: 0).contains("filter: kind == frame and size > 12"))
        #expect(filtered.text.contains("load_url 20 B"))
        #expect(!filtered.text.contains("ping 12 B"))
        // An empty filter clears it.
        h.press(.character("/"), .control("u"), .enter)
        #expect(h.viewer.activeFilter == "")
        #expect(h.render().text.contains("ping 12 B"))
    }

    @Test func anInvalidFilterIsNotApplied() throws {
        let h = try browser()
        h.press(.character("/"))
        h.type("size ~ 5")
        h.press(.enter)
        #expect(h.viewer.activeFilter == "")
        #expect(h.render().text(ofRow: h.rows - 1).contains("column"))  // the prompt stays open with its error
        h.press(.escape)
        #expect(!h.render().text(ofRow: h.rows - 1).contains("column"))
    }

    @Test func searchFindsRowsAndNRepeats() throws {
        let h = try browser()
        h.press(.character("s"))
        h.type("load_url")
        h.press(.enter)
        let first = try #require(h.viewer.selectedEvent)
        h.press(.character("n"))
        let second = try #require(h.viewer.selectedEvent)
        #expect(first != second)
        for event in [first, second] {
            guard case .payloadFrame? = h.viewer.trace.record(event) else { Issue.record("not a frame"); continue }
        }
        h.press(.character("N"))
        #expect(h.viewer.selectedEvent == first)
        h.press(.character("N"))
        #expect(h.render().text.contains("not found above"))
    }

    @Test func marksRememberEvents() throws {
        let h = try browser()
        h.press(.character("j"), .character("j"), .character("j"))
        let marked = try #require(h.viewer.selectedEvent)
        h.press(.character("m"), .character("a"))
        h.press(.character("G"))
        #expect(h.viewer.selectedEvent != marked)
        h.press(.character("'"), .character("a"))
        #expect(h.viewer.selectedEvent == marked)
        h.press(.character("'"), .character("b"))
        #expect(h.render().text.contains("no mark b"))
    }

    @Test func theHelpOverlayListsEveryKeyOfTheKeyTable() throws {
        let h = try browser(rows: 60, columns: 140)
        h.press(.character("?"))
        let text = h.render().text
        for binding in KeyTable.bindings {
            #expect(text.contains(binding.label), "\(binding.label)")
            #expect(text.contains(binding.summary), "\(binding.summary)")
        }
        h.press(.escape)
        #expect(!h.render().text.contains(KeyTable.bindings.last!.summary))
    }

    @Test func theHelpOverlayScrollsWhenTheTerminalIsShort() throws {
        let h = try browser(rows: 12, columns: 100)
        h.press(.character("?"))
        var seen = ""
        for _ in 0..<KeyTable.bindings.count {
            seen += h.render().text
            h.press(.character("j"))
        }
        for binding in KeyTable.bindings { #expect(seen.contains(binding.summary), "\(binding.summary)") }
    }

    @Test func everyKeyOfTheTableDispatchesAndNoKeyIsBoundTwice() {
        var keys = Set<Key>()
        for binding in KeyTable.bindings {
            for key in binding.keys {
                #expect(keys.insert(key).inserted, "\(key) bound twice")
                #expect(KeyTable.action(for: key) == binding.action)
            }
        }
        #expect(Set(KeyTable.bindings.map(\.action)) == Set(ViewerAction.allCases))
    }

    @Test func quitAndSuspend() throws {
        let h = try browser()
        #expect(h.press(.control("z")) == .suspend)
        #expect(h.press(.character("q")) == .quit)
    }

    @Test func theDetailPaneShowsTimesParametersAttachmentsAndHighlightsTheFieldsBytes() throws {
        let h = try browser(rows: 40, columns: 200)
        h.press(.character("s"))
        h.type("load_url 20 B 1 fd")
        h.press(.enter)
        h.press(.tab)
        #expect(h.viewer.focusedPane == .detail)
        let grid = h.render()
        let text = grid.text
        #expect(text.contains("TestServer::load_url"))
        #expect(text.contains("from WebContent (pid 200)"))
        #expect(text.contains("to   UI (pid 100)"))
        #expect(text.contains("sent      +0.005000 s"))
        #expect(text.contains("tab: u32 = 8"))
        #expect(text.contains("length: u64 = 1"))
        #expect(text.contains("#0 memfd ino 80 4 KiB  ✓ ack +0.006000 s"))
        // The selected field (tab, bytes 8..<12) is highlighted in hex and ASCII: 4 bytes, 2 cells each.
        let highlighted = grid.cells.filter { $0.style.role == .hexHighlight }
        #expect(highlighted.count == 4 * 3)  // two hex digits and one ASCII cell per byte
        #expect(text.contains("bytes 8..<12"))
        // The next field moves the highlight to its 8 bytes.
        h.press(.character("j"))
        #expect(h.render().cells.filter { $0.style.role == .hexHighlight }.count == 8 * 3)
        #expect(h.render().text.contains("bytes 12..<20"))
    }

    @Test func theDetailShowsDeliveryAndQueueingOnTheShippedTrace() throws {
        let h = try ViewerHarness(sample: "demo.ipctrace")
        h.press(.character("s"))
        h.type("resolve_host")
        h.press(.enter)
        let text = h.render().text
        #expect(text.contains("DemoRequestServer::resolve_host"))
        #expect(text.contains("delivered +"))
        #expect(text.contains("queued "))
        #expect(text.contains("sync request, answered in"))
    }

    @Test func theQueuePaneShowsTheSelectedDirectionAtTheReplayTime() throws {
        let h = try browser()
        h.press(.character("s"))
        h.type("ping 12")
        h.press(.enter)
        // The clock is at the ping (2 ms): the last sample of ch2 A→B before it (1 ms) says 0 bytes unread.
        var grid = h.render()
        #expect(grid.text.contains("Queues ch2: WebContent (pid 200) → RequestServer (pid 300)"))
        var unread = try (row(grid, containing: "unread "))
        #expect(grid.text(ofRow: unread).contains("now 0 B limit "))
        // The 200 MiB sample is over MAX_UNPROCESSED_BUFFER_SIZE: drawn in the violation role; the time marked.
        #expect((0..<grid.columns).contains { grid[unread, $0].style.role == .violation })
        #expect((0..<grid.columns).filter { grid[unread, $0].style.role == .timeMarker }.count == 1)
        // At 3.5 ms the last sample (3 ms) says 64 KiB: the pane shows the state at the replay time.
        h.press(.character(":"))
        h.type("t 3.5ms")
        h.press(.enter)
        grid = h.render()
        unread = try (row(grid, containing: "unread "))
        #expect(grid.text(ofRow: unread).contains("now 64 KiB"))
    }

    @Test func mouseClickSelectsARowAndTheWheelScrolls() throws {
        let h = try browser()
        let grid = h.render()
        let target = try (row(grid, containing: "PingResponse"))
        _ = h.viewer.update(.mouse(MouseEvent(.press(button: 1), row: target, column: 5)))
        guard case .payloadFrame(let frame)? = h.viewer.trace.record(try #require(h.viewer.selectedEvent)) else {
            Issue.record("not a frame")
            return
        }
        #expect(frame.channel == 2 && frame.direction == .bToA)
        let before = h.viewer.selectedEvent
        _ = h.viewer.update(.mouse(MouseEvent(.wheelDown, row: target, column: 5)))
        #expect(h.viewer.selectedEvent != before)
    }

    @Test func tabCyclesThroughTheVisiblePanes() throws {
        let h = try browser()
        var seen: [Pane] = []
        for _ in 0..<4 {
            seen.append(h.viewer.focusedPane)
            h.press(.tab)
        }
        #expect(Set(seen) == Set(Pane.allCases))
        #expect(h.viewer.focusedPane == .diagram)
    }

    // MARK: the shipped traces

    @Test func theDemoTraceDrawsNamedLanesMessagesAndSyncLatencies() throws {
        let h = try ViewerHarness(sample: "demo.ipctrace", rows: 40, columns: 160)
        var grid = h.render()
        let header = grid.text(ofRow: 2)
        #expect(header.components(separatedBy: "(pid ").count - 1 == 3, "\(header)")
        #expect(header.contains("DemoWebContentServer (pid"))
        // The demo's first sync pair (show: SYNC 40.3ms / RESP 40.3ms).
        let request = try row(grid, containing: "ping 12 B sync 40.3 ms")
        let response = try row(grid, containing: "PingResponse 12 B 40.3 ms")
        #expect(response > request)
        #expect(grid.text(ofRow: response).contains(Glyphs.unicode.arrowLeft))
        // A message with an fd: Enter shows its detail full screen, with the fd and its acknowledgement.
        h.press(.character("s"))
        h.type("1 fd")
        h.press(.enter, .enter)
        grid = h.render()
        #expect(grid.text.contains("Attachments (1)"))
        #expect(grid.text.contains("\(Glyphs.unicode.check) ack +"))
    }

    @Test func theDemoTracesQueuePaneShowsTheValuesAtAGivenTime() throws {
        // show -f 'kind == queue-sample': at 0.012714 s ch1 A→B had 768 B unread and 1 sync call pending.
        let h = try ViewerHarness(sample: "demo.ipctrace", rows: 40, columns: 160)
        h.press(.character(":"))
        h.type("t 0.0128s")
        h.press(.enter)
        let grid = h.render()
        #expect(grid.text.contains("Queues ch1: "))
        #expect(grid.text(ofRow: try row(grid, containing: "unread ")).contains("now 768 B"))
        #expect(grid.text(ofRow: try row(grid, containing: "pending sync ")).contains("now 1"))
    }

    @Test func theMisbehavingDemoShowsViolationMarkersOnTheirLanes() throws {
        let h = try ViewerHarness(sample: "demo-misbehave.ipctrace", rows: 40, columns: 160)
        h.press(.character("v"))
        let grid = h.render()
        let marked = try row(grid, containing: "too-many-fds-in-frame 129 > 128")
        let glyph = try #require((0..<grid.columns).first { grid[marked, $0].character == Glyphs.unicode.violationMark })
        #expect(grid[marked, glyph].style.role == .violation)
        // On a lane: the lane's line runs through that column on the rows above.
        #expect((3..<marked).contains { grid[$0, glyph].character == Glyphs.unicode.vertical })
        #expect(grid.text.contains("violation: too-many-fds-in-frame"))
    }
}
