import Foundation
import IPCWire
import Testing
import TraceFormat
@testable import ViewerModel

/// Indexing and analysis in slices, one per tick (``BackgroundWork``): what a key finds before they are
/// done, and that what it shows then is either right or says it is provisional. The slices are counts, so
/// every partial state here is the same on every machine.
@Suite struct ViewerBackgroundWorkTests {
    let scratch = ScratchDirectory()

    /// `frames` frames between UI, WebContent and RequestServer, then a process (`Late`, pid 400) and a
    /// channel to it that only the end of the trace has, with `lateFrames` pings on it.
    func lateChannelTrace(frames: Int, lateFrames: Int) throws -> String {
        var t = SyntheticTrace.generated(frames: frames)
        let start = UInt64(frames) * 10_000 + SyntheticTrace.ms
        t.process(400, "Late", at: start)
        t.open(3, a: 100, b: 400, at: start)
        for n in 0..<lateFrames {
            let time = start + UInt64(n + 1) * 10_000
            t.frame(3, n % 2 == 0 ? .aToB : .bToA, n % 2 == 0 ? "ping" : "PingResponse", parameters: SyntheticTrace.u32(UInt32(n)), at: time)
        }
        let path = scratch.path + "/late.ipctrace"
        try t.write(to: path)
        return path
    }

    func open(_ path: String, work: BackgroundWork, filter: String = "", rows: Int = 30, columns: Int = 140) throws -> TraceViewer {
        try TraceViewer(
            path: path, store: .disabled,
            configuration: ViewerConfiguration(glyphs: .unicode, filterText: filter, rows: rows, columns: columns, work: work))
    }

    func render(_ viewer: TraceViewer, rows: Int = 30, columns: Int = 140) -> CellGrid {
        var grid = CellGrid(rows: rows, columns: columns)
        viewer.render(into: &grid)
        return grid
    }

    /// Ticks until the viewer asks for none; returns how many it took.
    @discardableResult
    func finish(_ viewer: TraceViewer) -> Int {
        var ticks = 0
        while viewer.tickInterval != nil && ticks < 100_000 {
            _ = viewer.update(.tick(monotonicNanoseconds: UInt64(ticks + 1) * 1_000_000))
            ticks += 1
        }
        return ticks
    }

    @Test func analysisRunsInSlicesAndTheEndSaysWhatIsProvisionalUntilItIsDone() throws {
        let path = try lateChannelTrace(frames: 3000, lateFrames: 40)
        let viewer = try open(path, work: BackgroundWork(analysedAtOpen: 200, indexBytesPerTick: 64 << 20, analysedPerTick: 500))
        #expect(viewer.trace.progress.isComplete)  // a small file: the first chunk is all of it
        #expect(viewer.facts.analysedEvents == 200)
        #expect(viewer.tickInterval == .zero)  // work left: tick whenever no key waits
        #expect(render(viewer).text(ofRow: 0).contains("analysing "))

        // G answers from the index; the late channel's sides are not identified yet, so its lanes are its
        // channel sides and its sync requests have no latency yet (`sync …`, not "no response").
        viewer.update(.key(.character("G")))
        viewer.update(.key(.character("k")))  // the last ping
        let early = render(viewer)
        #expect(viewer.facts.analysedEvents < viewer.trace.eventCount)
        #expect(early.text(ofRow: 2).contains("ch3 B"))  // the lane names
        #expect(!early.text.contains("Late (pid 400)"))
        let detail = viewer.detailContent().lines.map(\.text)
        #expect(detail.contains("sync request, response not analysed yet"))
        #expect(!detail.contains { $0.contains("no response") })

        let ticks = finish(viewer)
        #expect(ticks >= (viewer.trace.eventCount - 200) / 500)  // slices of 500 events, not all at once
        #expect(viewer.tickInterval == nil)
        let done = render(viewer)
        #expect(done.text(ofRow: 2).contains("Late (pid 400)"))
        #expect(!done.text(ofRow: 2).contains("ch3 B"))
        #expect(viewer.detailContent().lines.contains { $0.text.hasPrefix("sync request, answered in 10") })
        #expect(!done.text(ofRow: 0).contains("analysing"))
    }

    @Test func aFilterOnWhatOnlyAnalysisKnowsWaitsForItInsteadOfGuessingOrBlocking() throws {
        let path = try lateChannelTrace(frames: 3000, lateFrames: 40)
        let work = BackgroundWork(analysedAtOpen: 100, indexBytesPerTick: 64 << 20, analysedPerTick: 100)
        // The late process's frames, found by its name (side identities come from analysis) and by latency.
        for filter in ["process == Late and kind == frame", "latency > 5us and channel == 3"] {
            let early = try open(path, work: work)
            early.update(.key(.character("G")))
            early.update(.key(.character("/")))
            for character in filter { early.update(.key(.character(character))) }
            early.update(.key(.enter))
            // The keys analysed nothing: the filter's rows wait for the analysis, and say so.
            #expect(early.facts.analysedEvents == 100)
            #expect(early.rows.count == 0)
            #expect(early.rows.waitsForAnalysis(early.trace, facts: early.facts))
            #expect(render(early).text.contains("rows come as it goes on"))

            let complete = try open(path, work: work, filter: filter)
            finish(complete)
            complete.rows.extendToEnd(trace: complete.trace, facts: complete.facts, counter: complete.counter)
            #expect(complete.rows.count >= 39)
            let expected = (0..<complete.rows.count).map { complete.rows.eventNumber(ofRow: $0, in: complete.trace) }

            // As the ticks analyse, the rows come, each one right; once done, all of them.
            var ticks = 0
            while early.tickInterval != nil && ticks < 10_000 {
                _ = early.update(.tick(monotonicNanoseconds: UInt64(ticks + 1)))
                _ = render(early)
                let found = (0..<early.rows.count).map { early.rows.eventNumber(ofRow: $0, in: early.trace) }
                #expect(Set(found).isSubset(of: expected))
                ticks += 1
            }
            early.rows.extendToEnd(trace: early.trace, facts: early.facts, counter: early.counter)
            _ = early.rows.extendBackward(rows: Int.max, trace: early.trace, facts: early.facts, counter: early.counter)
            #expect((0..<early.rows.count).map { early.rows.eventNumber(ofRow: $0, in: early.trace) } == expected)
            #expect(early.selectedEvent.map(expected.contains) == true)
            #expect(!render(early).text.contains("rows come as it goes on"))
        }
    }

    @Test func gBeforeTheFileIsIndexedAnswersAtOnceAndFollowsTheEndAsIndexingGoesOn() throws {
        let path = scratch.path + "/large.ipctrace"
        try SyntheticTrace.generated(frames: 150_000).write(to: path)
        let viewer = try open(path, work: BackgroundWork(analysedAtOpen: 1000, indexBytesPerTick: 1 << 20, analysedPerTick: 50_000))
        #expect(!viewer.trace.progress.isComplete)
        viewer.update(.key(.character("G")))
        // Not indexed to the end by the key: the last row indexed so far, and a note saying the end follows.
        #expect(!viewer.trace.progress.isComplete)
        let indexed = viewer.trace.eventCount
        #expect(viewer.selectedEvent.flatMap { viewer.trace.index.timePosition(ofEvent: $0) } == indexed - 1)
        #expect(render(viewer).text.contains("the end follows"))
        // Each indexing tick keeps the selection on the last row.
        _ = viewer.update(.tick(monotonicNanoseconds: 1))
        #expect(viewer.trace.eventCount > indexed)
        #expect(viewer.selectedEvent.flatMap { viewer.trace.index.timePosition(ofEvent: $0) } == viewer.trace.eventCount - 1)
        finish(viewer)
        #expect(viewer.trace.progress.isComplete)
        #expect(viewer.selectedEvent.flatMap { viewer.trace.index.timePosition(ofEvent: $0) } == viewer.trace.eventCount - 1)
        #expect(!render(viewer).text.contains("the end follows"))

        // Moving the selection gives up the end: k during indexing stays where it was put.
        let again = try open(path, work: BackgroundWork(analysedAtOpen: 1000, indexBytesPerTick: 1 << 20, analysedPerTick: 50_000))
        again.update(.key(.character("G")))
        again.update(.key(.character("k")))
        let kept = again.selectedEvent
        _ = again.update(.tick(monotonicNanoseconds: 1))
        #expect(again.trace.eventCount > indexed)
        #expect(again.selectedEvent == kept)
    }

    @Test func aQuickOpenTakesOverTheStoredIndexKeepingTheSelectionAndTheFilter() throws {
        let path = scratch.path + "/stored.ipctrace"
        try SyntheticTrace.generated(frames: 150_000).write(to: path)
        let store = IndexStore(directory: scratch.path + "/index", minimumEvents: 0)
        var full = try IndexedTrace(path: path, store: store)
        full.indexToEnd()
        try full.storeIndex()

        // The first screen from the quick open (the first chunk), a filter, a few rows down.
        let viewer = try TraceViewer(
            trace: try IndexedTrace(path: path, store: .disabled),
            configuration: ViewerConfiguration(filterText: "message == \"*ping\"", rows: 30, columns: 140))
        #expect(!viewer.trace.progress.isComplete)
        for _ in 0..<5 { viewer.update(.key(.character("j"))) }
        let selected = try #require(viewer.selectedEvent)
        let analysed = viewer.facts.analysedEvents

        let stored = try IndexedTrace(path: path, store: store)
        guard case .stored = stored.source else { Issue.record("the stored index was not used: \(String(describing: stored.storedIndexRejection))"); return }
        #expect(viewer.adopt(stored))
        #expect(viewer.trace.progress.isComplete)
        #expect(viewer.trace.eventCount == full.eventCount)
        #expect(viewer.selectedEvent == selected)
        #expect(viewer.activeFilter == "message == \"*ping\"")
        #expect(viewer.facts.analysedEvents == analysed)  // the analysis goes on where it was
        viewer.update(.key(.character("G")))  // the true end at once
        #expect(viewer.selectedEvent.flatMap { viewer.trace.index.timePosition(ofEvent: $0) }.map { $0 > viewer.trace.eventCount - 10 } == true)

        // Another file (or one that changed) is not taken over.
        let otherPath = scratch.path + "/other.ipctrace"
        try SyntheticTrace.browser().write(to: otherPath)
        #expect(!viewer.adopt(try IndexedTrace(path: otherPath, store: .disabled)))
        #expect(viewer.trace.path == path)
    }

    @Test func followingTakesItsTurnWhileTheAnalysisIsBehind() throws {
        let path = scratch.path + "/live.ipctrace"
        let writer = try TraceWriter(path: path, header: SyntheticTrace.header)
        let records = SyntheticTrace.generated(frames: 3000).records
        for record in records.prefix(2000) { #expect(writer.submit(record, waitForRoom: true)) }
        try writer.flush()
        let viewer = try TraceViewer(
            path: path, store: .disabled,
            configuration: ViewerConfiguration(follow: true, rows: 30, columns: 140,
                                               work: BackgroundWork(analysedAtOpen: 10, indexBytesPerTick: 64 << 20, analysedPerTick: 10)))
        let opened = viewer.trace.eventCount
        for record in records.dropFirst(2000) { #expect(writer.submit(record, waitForRoom: true)) }
        try writer.flush()
        // Ticks 1 ms apart: analysis slices, and a look for growth once per 200 ms of them, not never.
        var grown: Int?
        var analysedThen = 0
        for tick in 1...400 {
            _ = viewer.update(.tick(monotonicNanoseconds: UInt64(tick) * 1_000_000))
            if grown == nil, viewer.trace.eventCount > opened {
                grown = tick
                analysedThen = viewer.facts.analysedEvents
            }
        }
        let tick = try #require(grown, "the growth was never taken in")
        #expect(tick <= 201)
        #expect(analysedThen < opened)  // the analysis was still behind: it did not starve the follow
        #expect(viewer.selectedEvent.flatMap { viewer.trace.index.timePosition(ofEvent: $0) } == viewer.trace.eventCount - 1)
        try writer.close()
    }
}
