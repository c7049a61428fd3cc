import TraceAnalysis
import TraceFormat

/// The sequence diagram's rows: positions in the index's time order of the events it lists, found only as
/// far as someone looks, forwards and backwards from where the list was started (``base``): a jump (a mark,
/// a violation, `:e`, a filter applied at the selection, the end) starts a new list there, so its cost is
/// the screen's, not the distance. Without a filter, deciding whether an event is listed reads only its kind
/// from the index; with one, the record is decoded (``RecordCounter/scanRecord(_:in:)``), once per event examined.
///
/// Row numbers count from the first row found so far: finding rows before it (``extendBackward(rows:trace:facts:counter:)``)
/// shifts every row number by what it found, which it returns.
struct RowList {
    let filter: CompiledFilter?
    /// Where the scans started (a time position).
    private(set) var base: Int
    /// Rows before `base`, nearest first (decreasing time positions).
    private var back: [UInt32] = []
    /// Rows at or after `base` (increasing time positions).
    private var forward: [UInt32] = []
    /// Time positions examined: `backScanned..<forwardScanned`.
    private(set) var backScanned: Int
    private(set) var forwardScanned: Int

    /// The filter asks for what only analysis knows (sides' pids, processes, endpoints; latencies): an
    /// event is analysed before the filter judges it.
    let filterNeedsAnalysis: Bool
    /// The filter reads `latency`: a request's is known once its response was analysed, later in the file.
    let filterUsesLatency: Bool

    init(filter: CompiledFilter?, base: Int = 0) {
        self.filter = filter
        filterNeedsAnalysis = filter.map { filter in
            !filter.integerFields.isDisjoint(with: [.pidA, .pidB, .latency])
                || !filter.textFields.isDisjoint(with: [.endpointA, .endpointB, .processA, .processB])
        } ?? false
        filterUsesLatency = filter?.integerFields.contains(.latency) ?? false
        self.base = max(0, base)
        backScanned = self.base
        forwardScanned = self.base
    }

    var count: Int { back.count + forward.count }

    /// Whether nothing before the first row is left to examine.
    var reachedStart: Bool { backScanned == 0 }
    func reachedEnd(_ trace: IndexedTrace) -> Bool { forwardScanned >= trace.eventCount }
    func isComplete(_ trace: IndexedTrace) -> Bool { reachedStart && reachedEnd(trace) }

    /// Whether time position `position` was examined (its row, if it is one, is known).
    func covers(_ position: Int) -> Bool { position >= backScanned && position < forwardScanned }

    func position(ofRow row: Int) -> Int {
        row < back.count ? Int(back[back.count - 1 - row]) : Int(forward[row - back.count])
    }

    /// Whether an event of `kind` is a row at all. The header, queue samples (a pair per sampling tick) and
    /// delivery records (shown in the detail pane) are not, unless the filter names `kind`.
    static func isListed(kind: UInt8, filter: CompiledFilter?) -> Bool {
        if kind == TraceRecordKind.framesDelivered.rawValue { return filter?.integerFields.contains(.kind) ?? false }
        return ShowSelection.isListed(kind: kind, filter: filter)
    }

    /// Examines events forwards until `rows` rows are known or the time order is exhausted.
    mutating func extend(toRows rows: Int, trace: IndexedTrace, facts: TraceFacts, counter: RecordCounter) {
        scanForward(trace: trace, facts: facts, counter: counter) { list in list.count >= rows }
    }

    /// Examines events forwards until one later than `time` was examined.
    mutating func extend(pastTime time: UInt64, trace: IndexedTrace, facts: TraceFacts, counter: RecordCounter) {
        scanForward(trace: trace, facts: facts, counter: counter) { list in
            list.forwardScanned > 0 && trace.index.time(of: trace.index.eventNumber(atTimePosition: list.forwardScanned - 1)) > time
        }
    }

    mutating func extendToEnd(trace: IndexedTrace, facts: TraceFacts, counter: RecordCounter) {
        scanForward(trace: trace, facts: facts, counter: counter) { _ in false }
    }

    /// Examines events backwards until `rows` more rows are known or the start is reached; returns how many
    /// rows were found (every row number grows by that much).
    mutating func extendBackward(rows: Int, trace: IndexedTrace, facts: TraceFacts, counter: RecordCounter) -> Int {
        let before = back.count
        while backScanned > 0 && back.count - before < rows {
            let verdict = self.verdict(trace.index.eventNumber(atTimePosition: backScanned - 1), trace: trace, facts: facts, counter: counter)
            if verdict == .notYetKnown { break }
            backScanned -= 1
            if verdict == .listed { back.append(UInt32(backScanned)) }
        }
        return back.count - before
    }

    private mutating func scanForward(trace: IndexedTrace, facts: TraceFacts, counter: RecordCounter, until done: (RowList) -> Bool) {
        let total = trace.index.count
        while forwardScanned < total, !done(self) {
            let verdict = self.verdict(trace.index.eventNumber(atTimePosition: forwardScanned), trace: trace, facts: facts, counter: counter)
            if verdict == .notYetKnown { break }
            if verdict == .listed { forward.append(UInt32(forwardScanned)) }
            forwardScanned += 1
        }
    }

    enum Verdict { case listed, notListed, notYetKnown }

    /// Whether event `number` is a row. A filter on what only analysis knows cannot say for an event the
    /// analysis has not reached (nor for a sync request whose response it has not reached, when the filter
    /// reads `latency`): the scan stops there and goes on once the background analysis has gone further
    /// (``waitsForAnalysis``), so a key never waits for the analysis of the file.
    private func verdict(_ number: Int, trace: IndexedTrace, facts: TraceFacts, counter: RecordCounter) -> Verdict {
        guard Self.isListed(kind: trace.index.rawKind(of: number), filter: filter) else { return .notListed }
        guard let filter else { return .listed }
        let offset = trace.index.offset(of: number)
        if filterNeedsAnalysis && !facts.isAnalysed(offset: offset) { return .notYetKnown }
        guard let record = counter.scanRecord(number, in: trace) else { return .notListed }
        if filterUsesLatency, !facts.caughtUp, case .payloadFrame(let frame) = record, facts.awaitsResponse(frame, offset: offset) {
            return .notYetKnown
        }
        return filter.matches(facts.filterSubject(record, offset: offset)) ? .listed : .notListed
    }

    /// The scan stopped at an event the analysis has not reached: more rows may come as it goes on.
    func waitsForAnalysis(_ trace: IndexedTrace, facts: TraceFacts) -> Bool {
        filter != nil && (filterNeedsAnalysis || filterUsesLatency) && !facts.caughtUp && (!reachedStart || !reachedEnd(trace))
    }

    /// The event number of row `row` (which must be known).
    func eventNumber(ofRow row: Int, in trace: IndexedTrace) -> Int {
        trace.index.eventNumber(atTimePosition: position(ofRow: row))
    }

    func time(ofRow row: Int, in trace: IndexedTrace) -> UInt64 { trace.index.time(of: eventNumber(ofRow: row, in: trace)) }

    /// The last known row at or before time position `position`, else the first row after it.
    func row(nearPosition position: Int) -> Int? {
        guard count > 0 else { return nil }
        var low = 0, high = count
        while low < high {
            let middle = (low + high) / 2
            if self.position(ofRow: middle) <= position { low = middle + 1 } else { high = middle }
        }
        return max(low - 1, 0)
    }

    /// The last known row whose time is at most `time` (nil: none is).
    func lastRow(atOrBefore time: UInt64, in trace: IndexedTrace) -> Int? {
        var low = 0, high = count
        while low < high {
            let middle = (low + high) / 2
            if self.time(ofRow: middle, in: trace) <= time { low = middle + 1 } else { high = middle }
        }
        return low > 0 ? low - 1 : nil
    }
}

extension EventIndex {
    /// The last time position whose time is at most `time` (0 when none is).
    func lastPosition(atOrBefore time: UInt64) -> Int {
        var low = 0, high = count
        while low < high {
            let middle = (low + high) / 2
            if self.time(of: eventNumber(atTimePosition: middle)) <= time { low = middle + 1 } else { high = middle }
        }
        return max(low - 1, 0)
    }

    /// The time position of event `number`: a binary search on its time, then a walk among equal times.
    func timePosition(ofEvent number: Int) -> Int? {
        guard number >= 0, number < count else { return nil }
        let time = self.time(of: number)
        var low = 0, high = count
        while low < high {
            let middle = (low + high) / 2
            if self.time(of: eventNumber(atTimePosition: middle)) < time { low = middle + 1 } else { high = middle }
        }
        var position = low
        while position < count, self.time(of: eventNumber(atTimePosition: position)) == time {
            if eventNumber(atTimePosition: position) == number { return position }
            position += 1
        }
        return nil
    }
}
