import Foundation
import IPCWire
import Testing
import TraceFormat
@testable import ViewerModel

/// What must hold whatever the trace and the terminal: a frame costs the screen, not the trace; every size
/// renders (down to nothing at all); ASCII glyphs give ASCII screens; a growing trace is followed.
@Suite struct ViewerSizeAndCostTests {
    let scratch = ScratchDirectory()

    func write(_ trace: SyntheticTrace, _ name: String) throws -> String {
        let path = scratch.path + "/" + name
        try trace.write(to: path)
        return path
    }

    @Test func aFrameDecodesWhatTheScreenShowsNotWhatTheTraceHolds() throws {
        let rows = 40, columns = 140
        // Rows of the diagram, one sample per sparkline column, the violations shown, the selected record.
        let bound = rows + columns + 8
        var largestPerFrame: [Int: Int] = [:]
        for frames in [2_000, 200_000] {
            let path = try write(.generated(frames: frames), "generated-\(frames).ipctrace")
            let h = try ViewerHarness(path: path, rows: rows, columns: columns)
            // Indexing and analysis done first (ticks): what a frame costs once everything is known.
            for tick in 0..<100_000 where h.viewer.tickInterval != nil { _ = h.viewer.update(.tick(monotonicNanoseconds: UInt64(tick))) }
            let first = h.viewer.recordDecodes
            var perFrame = [h.viewer.recordDecodes - first]
            _ = h.render()
            perFrame[0] = h.viewer.recordDecodes - first
            let keys: [Key] = [.pageDown, .pageDown, .pageDown, .character("G"), .pageUp, .character("g"), .character("j"), .end, .character("v"), .tab, .character("j")]
            for key in keys {
                let before = h.viewer.recordDecodes
                h.press(key)
                _ = h.render()
                perFrame.append(h.viewer.recordDecodes - before)
            }
            // The same screen again decodes nothing.
            let before = h.viewer.recordDecodes
            _ = h.render()
            #expect(h.viewer.recordDecodes == before)
            #expect(h.viewer.scanDecodes == 0)  // no filter, no search: rows are chosen from the index alone
            #expect(perFrame.allSatisfy { $0 <= bound }, "\(frames) frames: decodes per frame \(perFrame)")
            #expect(h.viewer.trace.eventCount > frames)  // G reached the end: everything was indexed
            largestPerFrame[frames] = perFrame.max()

            // A filter applied at the end of the trace shows its first screen after examining about a screen
            // of events each way from the selection, not everything before it.
            h.press(.character("G"))
            let scans = h.viewer.scanDecodes
            h.press(.character("/"))
            h.type("kind == frame and size > 16")
            h.press(.enter)
            let grid = h.render()
            #expect(h.viewer.scanDecodes - scans <= 20 * rows, "\(frames) frames: \(h.viewer.scanDecodes - scans) events examined")
            #expect(grid.text.contains("load_url 20 B") && !grid.text.contains("ping 12 B"))
            let total = h.viewer.trace.eventCount
            let end = try #require(h.viewer.selectedEvent.flatMap { h.viewer.trace.index.timePosition(ofEvent: $0) })
            #expect(end > total - 20 * rows)
            // Moving up past the rows found so far finds the ones before, still only matching ones.
            while h.viewer.focusedPane != .diagram { h.press(.tab) }
            for _ in 0..<(2 * rows) { h.press(.character("k")) }
            let earlier = try #require(h.viewer.selectedEvent)
            #expect(try #require(h.viewer.trace.index.timePosition(ofEvent: earlier)) < end - 2 * rows)
            guard case .payloadFrame(let frame)? = h.viewer.trace.record(earlier) else { Issue.record("not a frame"); continue }
            #expect(frame.header.payloadSize > 16)
        }
        // 100 times the events, no more work per frame than the bound that holds for the small one.
        #expect(try #require(largestPerFrame[200_000]) <= bound)
        #expect(try #require(largestPerFrame[2_000]) <= bound)
    }

    @Test func aLargeFileShowsItsFirstScreenWhileIndexingAndIndexesOnTicks() throws {
        let path = try write(.generated(frames: 200_000), "large.ipctrace")
        let h = try ViewerHarness(path: path, rows: 30, columns: 120)
        #expect(!h.viewer.trace.progress.isComplete)  // the first 4 MiB chunk only
        let grid = h.render()
        #expect(grid.text(ofRow: 0).contains("indexing "))
        #expect(grid.text.contains("load_url 20 B"))
        #expect(h.viewer.tickInterval != nil)
        var ticks = 0
        while !h.viewer.trace.progress.isComplete && ticks < 10_000 {
            _ = h.viewer.update(.tick(monotonicNanoseconds: UInt64(ticks) * 200_000_000))
            ticks += 1
        }
        #expect(h.viewer.trace.progress.isComplete)
        #expect(!h.render().text(ofRow: 0).contains("indexing"))
        #expect(h.render().text(ofRow: 0).contains("analysing"))  // then the analysis, in slices too
        while h.viewer.tickInterval != nil && ticks < 100_000 {
            _ = h.viewer.update(.tick(monotonicNanoseconds: UInt64(ticks) * 200_000_000))
            ticks += 1
        }
        #expect(!h.render().text(ofRow: 0).contains("analysing"))
        #expect(h.viewer.tickInterval == nil)
    }

    @Test(arguments: [(0, 0), (1, 1), (1, 0), (0, 7), (2, 3), (3, 10), (4, 1), (5, 20), (10, 40), (12, 60), (24, 60), (24, 99), (24, 100), (9, 140), (60, 250)])
    func everySizeRendersAndTakesEveryKey(size: (rows: Int, columns: Int)) throws {
        var h = try ViewerHarness(sample: "demo-misbehave.ipctrace", rows: size.rows, columns: size.columns)
        _ = h.render()
        let keys: [Key] = [.character("j"), .tab, .enter, .character("j"), .enter, .tab, .tab, .character("k"), .character("?"), .character("j"),
                           .escape, .character("v"), .character(">"), .character(">"), .character("<"), .character("/"), .character("("),
                           .backspace, .escape, .character(":"), .character("t"), .enter, .character("G"), .pageUp, .home, .end,
                           .character("s"), .character("x"), .enter, .character("N"), .character("m"), .character("z"), .escape]
        for key in keys {
            h.press(key)
            _ = h.render()
        }
        _ = h.viewer.update(.mouse(MouseEvent(.press(button: 1), row: size.rows / 2, column: size.columns / 2)))
        _ = h.viewer.update(.mouse(MouseEvent(.wheelDown, row: 0, column: 0)))
        _ = h.render()
        for (rows, columns) in [(1, 1), (0, 0), (3, 2), (size.rows, size.columns)] {
            h.resize(rows: rows, columns: columns)
            _ = h.render()
        }
        if size.rows >= 1 && size.columns >= 10 { #expect(h.render().text(ofRow: 0).hasPrefix(" ipcscope")) }
    }

    @Test func narrowAndWideTerminals() throws {
        let path = try write(.browser(), "browser.ipctrace")
        let narrow = try ViewerHarness(path: path, rows: 24, columns: 60)
        var grid = narrow.render()
        #expect(grid.text(ofRow: 2).contains("UI (pid 100)"))
        #expect(grid.text.contains("ping 12 B"))
        #expect(grid.cells.contains { $0.character == Glyphs.unicode.arrowRight })
        narrow.press(.character("s"))
        narrow.type("PingResponse")
        narrow.press(.enter, .enter)  // Enter on the diagram: the detail full screen
        grid = narrow.render()
        #expect(grid.text.contains("TestServer::PingResponse"))
        #expect(grid.text.contains("response, 2.1 ms after its request"))
        narrow.press(.escape)
        #expect(narrow.render().text.contains("ping 12 B"))

        let wide = try ViewerHarness(path: path, rows: 50, columns: 250)
        grid = wide.render()
        for title in ["UI (pid 100)", "WebContent (pid 200)", "RequestServer (pid 300)"] { #expect(grid.text(ofRow: 2).contains(title)) }
        #expect(grid.text.contains("Detail"))
        #expect(grid.text.contains("Violations (1)"))
        #expect(grid.text.contains("Queues"))
    }

    @Test func manyLanesScrollSidewaysKeepingTheActiveOnesVisible() throws {
        var t = SyntheticTrace()
        for pid in 1...12 { t.process(Int32(pid * 100), "Proc\(pid)", at: 0) }
        for channel in 1...11 { t.open(UInt32(channel), a: Int32(channel * 100), b: Int32((channel + 1) * 100), at: 0) }
        t.frame(11, .aToB, "ping", parameters: SyntheticTrace.u32(1), at: SyntheticTrace.ms)  // Proc11 → Proc12, the last lanes
        let path = try write(t, "lanes.ipctrace")
        let h = try ViewerHarness(path: path, rows: 30, columns: 80)
        h.press(.character("G"))
        let grid = h.render()
        // 12 lanes do not fit in 80 columns; the two the ping uses are drawn, named (cut to their width) and joined.
        #expect(grid.text(ofRow: 1).contains("of 12"))
        let header = grid.text(ofRow: 2)
        #expect(header.contains("Proc11") && header.contains("Proc12"))
        let ping = try #require((3..<grid.rows).first { grid.text(ofRow: $0).contains("+0.001000") })
        #expect(grid.text(ofRow: ping).contains("ping"))
        #expect(grid.cells[ping * grid.columns..<(ping + 1) * grid.columns].contains { $0.character == Glyphs.unicode.arrowRight })
        // Scrolling sideways changes which other lanes show; the selected row's stay.
        h.press(.character("<"), .character("<"), .character(">"), .character(">"), .character(">"))
        let scrolled = h.render().text(ofRow: 2)
        #expect(scrolled != header)
        #expect(scrolled.contains("Proc4 ") && scrolled.contains("Proc11") && scrolled.contains("Proc12"))
    }

    @Test func asciiGlyphsGiveAnASCIIScreen() throws {
        for name in ["demo.ipctrace", "demo-misbehave.ipctrace"] {
            let h = try ViewerHarness(sample: name, rows: 50, columns: 160, glyphs: .ascii)
            var screens = [h.render()]
            h.press(.character("s"))
            h.type("Response")
            h.press(.enter)
            screens.append(h.render())
            h.press(.character("v"), .tab, .character("j"))
            screens.append(h.render())
            h.press(.character(" "))
            _ = h.viewer.update(.tick(monotonicNanoseconds: 1))
            _ = h.viewer.update(.tick(monotonicNanoseconds: 5_000_000))
            screens.append(h.render())
            h.press(.character("?"))
            screens.append(h.render())
            h.press(.escape, .character("/"))
            h.type("size >")
            screens.append(h.render())
            for (index, grid) in screens.enumerated() {
                let offending = grid.cells.filter { !$0.character.unicodeScalars.allSatisfy(\.isASCII) }.map(\.character)
                #expect(offending.isEmpty, "\(name) screen \(index): \(String(offending.prefix(20)))")
            }
        }
    }

    @Test func followKeepsTheNewestEventInViewAndNoFollowKeepsTheSelection() throws {
        for follow in [true, false] {
            let path = scratch.path + "/live-\(follow).ipctrace"
            let writer = try TraceWriter(path: path, header: SyntheticTrace.header)
            let first = SyntheticTrace.browser()
            for record in first.records.prefix(8) { #expect(writer.submit(record, waitForRoom: true)) }
            try writer.flush()
            let h = try ViewerHarness(path: path, rows: 40, columns: 140, follow: follow)
            _ = h.render()
            let before = try #require(h.viewer.selectedEvent)
            #expect(h.viewer.tickInterval != nil || !follow)
            for record in first.records.dropFirst(8) { #expect(writer.submit(record, waitForRoom: true)) }
            try writer.flush()
            #expect(h.viewer.update(.traceChanged) == .redraw)
            let grid = h.render()
            #expect(grid.text.contains("EOF (half-close)"))  // the last record, appended after opening
            let selected = try #require(h.viewer.selectedEvent)
            if follow {
                #expect(h.viewer.trace.index.timePosition(ofEvent: selected) == h.viewer.trace.eventCount - 1)
            } else {
                #expect(selected == before)
            }
            try writer.close()
        }
    }
}
