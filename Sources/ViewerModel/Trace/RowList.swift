import TraceAnalysis
import TraceFormat

/// The sequence diagram's rows: positions in the index's time order of the events it lists, built only as
/// far as someone looks. Without a filter, deciding whether an event is listed reads only its kind from
/// the index; with one, the record is decoded (``RecordCounter/scanRecord(_:in:)``), once per event examined.
struct RowList {
    /// Time positions of the rows found so far, increasing.
    private(set) var positions: [UInt32] = []
    /// Time positions examined so far (0..<scanned).
    private(set) var scanned = 0
    let filter: CompiledFilter?

    init(filter: CompiledFilter?) { self.filter = filter }

    var count: Int { positions.count }

    func isComplete(_ trace: IndexedTrace) -> Bool { scanned >= trace.eventCount }

    /// Whether an event of `kind` is a row at all. The header, queue samples (a pair per sampling tick) and
    /// delivery records (shown in the detail pane) are not, unless the filter names `kind`.
    static func isListed(kind: UInt8, filter: CompiledFilter?) -> Bool {
        if kind == TraceRecordKind.framesDelivered.rawValue { return filter?.integerFields.contains(.kind) ?? false }
        return ShowSelection.isListed(kind: kind, filter: filter)
    }

    /// Examines events until `rows` rows are known or the index's time order is exhausted.
    mutating func extend(toRows rows: Int, trace: IndexedTrace, facts: TraceFacts, counter: RecordCounter) {
        scan(trace: trace, facts: facts, counter: counter) { list in list.positions.count >= rows }
    }

    /// Examines events until one later than `time` was examined (so the rows at or before `time` are known).
    mutating func extend(pastTime time: UInt64, trace: IndexedTrace, facts: TraceFacts, counter: RecordCounter) {
        scan(trace: trace, facts: facts, counter: counter) { list in
            list.scanned > 0 && trace.index.time(of: trace.index.eventNumber(atTimePosition: list.scanned - 1)) > time
        }
    }

    /// Examines events until the time position `position` was examined.
    mutating func extend(throughPosition position: Int, trace: IndexedTrace, facts: TraceFacts, counter: RecordCounter) {
        scan(trace: trace, facts: facts, counter: counter) { list in list.scanned > position }
    }

    mutating func extendToEnd(trace: IndexedTrace, facts: TraceFacts, counter: RecordCounter) {
        scan(trace: trace, facts: facts, counter: counter) { _ in false }
    }

    private mutating func scan(trace: IndexedTrace, facts: TraceFacts, counter: RecordCounter, until done: (RowList) -> Bool) {
        let index = trace.index
        let total = index.count
        while scanned < total, !done(self) {
            let number = index.eventNumber(atTimePosition: scanned)
            if matches(number, trace: trace, facts: facts, counter: counter) { positions.append(UInt32(scanned)) }
            scanned += 1
        }
    }

    private func matches(_ number: Int, trace: IndexedTrace, facts: TraceFacts, counter: RecordCounter) -> Bool {
        guard Self.isListed(kind: trace.index.rawKind(of: number), filter: filter) else { return false }
        guard let filter else { return true }
        guard let record = counter.scanRecord(number, in: trace) else { return false }
        return filter.matches(facts.filterSubject(record, offset: trace.index.offset(of: number)))
    }

    /// The event number of row `row` (which must be known).
    func eventNumber(ofRow row: Int, in trace: IndexedTrace) -> Int {
        trace.index.eventNumber(atTimePosition: Int(positions[row]))
    }

    func time(ofRow row: Int, in trace: IndexedTrace) -> UInt64 { trace.index.time(of: eventNumber(ofRow: row, in: trace)) }

    /// The last known row at or before time position `position`, else the first row after it.
    func row(nearPosition position: Int) -> Int? {
        guard !positions.isEmpty else { return nil }
        var low = 0, high = positions.count
        while low < high {
            let middle = (low + high) / 2
            if Int(positions[middle]) <= position { low = middle + 1 } else { high = middle }
        }
        return max(low - 1, 0)
    }

    /// The last known row whose time is at most `time` (nil: none is).
    func lastRow(atOrBefore time: UInt64, in trace: IndexedTrace) -> Int? {
        var low = 0, high = positions.count
        while low < high {
            let middle = (low + high) / 2
            if self.time(ofRow: middle, in: trace) <= time { low = middle + 1 } else { high = middle }
        }
        return low > 0 ? low - 1 : nil
    }
}

extension EventIndex {
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
