import TraceAnalysis
import TraceFormat

extension TraceViewer {
    // MARK: keys

    func handle(_ key: Key) -> ViewerEffect {
        if prompt != nil { return promptKey(key) }
        if let pending = pendingMark {
            pendingMark = nil
            guard case .character(let letter) = key, letter.isLetter, letter.isLowercase, letter.isASCII else {
                message = "marks are a to z"
                return .redraw
            }
            if pending == .setMark {
                if let event = selectedEvent {
                    marks[letter] = event
                    message = "mark \(letter) set"
                }
            } else if let event = marks[letter] {
                select(event: event)
            } else {
                message = "no mark \(letter)"
            }
            return .redraw
        }
        if showingHelp {
            switch KeyTable.action(for: key) {
            case .rowDown?: helpTop += 1
            case .rowUp?: helpTop = max(0, helpTop - 1)
            case .pageDown?: helpTop += max(1, screenRows - 4)
            case .pageUp?: helpTop = max(0, helpTop - max(1, screenRows - 4))
            case .quit?, .help?, .cancel?: showingHelp = false
            case .suspend?: return .suspend
            default: break
            }
            return .redraw
        }
        guard let action = KeyTable.action(for: key) else { return .none }
        return perform(action)
    }

    func perform(_ action: ViewerAction) -> ViewerEffect {
        message = nil
        if Self.movesSelection.contains(action) { seekingEnd = false }
        switch action {
        case .rowDown: move(by: 1)
        case .rowUp: move(by: -1)
        case .pageDown: move(by: pageSize)
        case .pageUp: move(by: -pageSize)
        case .firstRow: if focus == .detail { detailField = 0 } else { selectFirstRow() }
        case .lastRow: if focus == .detail { detailField = Int.max } else { selectLastRow() }
        case .nextEvent: selectRow(selectedRow + 1)
        case .previousEvent: selectRow(selectedRow - 1)
        case .nextMatchOrEvent: if search != nil { findMatch(forward: true) } else { selectRow(selectedRow + 1) }
        case .previousMatch: if search != nil { findMatch(forward: false) } else { message = "no search (s or ^F sets one)" }
        case .traceStart: selectFirstRow()
        case .traceEnd: selectLastRow()
        case .playPause: togglePlay()
        case .faster: speedIndex = min(speedIndex + 1, Self.speeds.count - 1)
        case .slower: speedIndex = max(speedIndex - 1, 0)
        case .nextViolation: jumpToViolation(forward: true)
        case .previousViolation: jumpToViolation(forward: false)
        case .filterPrompt: prompt = Prompt(kind: .filter, text: filterText, error: nil)
        case .searchPrompt: prompt = Prompt(kind: .search, text: search ?? "", error: nil)
        case .commandPrompt: prompt = Prompt(kind: .command, text: "", error: nil)
        case .setMark, .jumpToMark: pendingMark = action
        case .nextPane: cyclePane(by: 1)
        case .previousPane: cyclePane(by: -1)
        case .expand: expand()
        case .lanesLeft: laneOffset = max(0, laneOffset - 1)
        case .lanesRight: laneOffset = min(max(0, lanes.count - 1), laneOffset + 1)
        case .toggleFollow:
            following.toggle()
            if following {
                _ = traceChanged()
                selectLastRow()
            }
        case .help:
            showingHelp = true
            helpTop = 0
        case .cancel:
            if zoomed != nil { zoomed = nil } else { search = nil }
        case .redraw: break
        case .quit: return .quit
        case .suspend: return .suspend
        }
        return .redraw
    }

    /// Actions that take the selection somewhere: they end a pending G (``seekingEnd``).
    static let movesSelection: Set<ViewerAction> = [
        .rowDown, .rowUp, .pageDown, .pageUp, .firstRow, .nextEvent, .previousEvent, .nextMatchOrEvent, .previousMatch,
        .traceStart, .nextViolation, .previousViolation, .jumpToMark, .playPause,
    ]

    var pageSize: Int { max(1, layout.rect(of: focus).inner.height - (focus == .diagram ? 1 : 0)) }

    func move(by delta: Int) {
        switch focus {
        case .detail: detailField = max(0, detailField + delta)
        case .violations:
            let list = violations()
            guard !list.isEmpty else { return }
            let current = currentViolationPosition() ?? (delta > 0 ? -1 : list.count)
            let target = min(max(current + delta, 0), list.count - 1)
            select(event: list[target])
        default: selectRow(selectedRow + delta)
        }
    }

    func cyclePane(by step: Int) {
        let panes = layout.visiblePanes
        guard !panes.isEmpty else { return }
        let current = panes.firstIndex(of: focus) ?? 0
        focus = panes[(current + step + panes.count) % panes.count]
    }

    func expand() {
        switch focus {
        case .diagram: zoomed = zoomed == nil ? .detail : nil; if zoomed == .detail { focus = .detail }
        case .detail:
            if let path = selectedFieldPath() {
                if folded.contains(path) { folded.remove(path) } else { folded.insert(path) }
                detailCache = nil
            } else {
                zoomed = zoomed == nil ? .detail : nil
            }
        case .violations:
            focus = .diagram
        case .queues:
            zoomed = zoomed == nil ? .queues : nil
        }
        if zoomed == nil && !layout.visiblePanes.contains(focus) { focus = .diagram }
    }

    // MARK: selection

    /// Selects row `row` (clamped to the rows; finds rows before the first or after the last as needed) and
    /// sets the clock to it.
    func selectRow(_ row: Int) {
        var target = row
        if target < 0 && !rows.reachedStart {
            let found = rows.extendBackward(rows: max(-target, pageSize), trace: trace, facts: facts, counter: counter)
            shiftRows(by: found)
            target += found
        }
        target = max(0, target)
        if target >= rows.count { rows.extend(toRows: target + 1, trace: trace, facts: facts, counter: counter) }
        guard rows.count > 0 else { return }
        selectedRow = min(target, rows.count - 1)
        clock = rows.time(ofRow: selectedRow, in: trace)
        detailField = 0
        detailTop = 0
        keepSelectionVisible()
    }

    /// Rows were found before the first: every row number grew by `count`.
    func shiftRows(by count: Int) {
        selectedRow += count
        topRow += count
    }

    /// Starts the row list afresh at time position `position` with a screen of rows each way: what a jump
    /// costs, however far it goes.
    func rebase(at position: Int) {
        rows = RowList(filter: rows.filter, base: position)
        let height = max(1, layout.diagram.inner.height)
        rows.extend(toRows: height, trace: trace, facts: facts, counter: counter)
        _ = rows.extendBackward(rows: height, trace: trace, facts: facts, counter: counter)
        if rows.count == 0 { _ = rows.extendBackward(rows: 1, trace: trace, facts: facts, counter: counter) }
        selectedRow = 0
        topRow = 0
    }

    func selectFirstRow() {
        if !rows.reachedStart { rebase(at: 0) }
        selectRow(0)
    }

    /// The last row of the trace. While the file is still being indexed, the last row indexed so far, and
    /// the selection keeps to the last row as indexing goes on (``seekingEnd``): a key answers at once,
    /// however much of the file is left.
    func selectLastRow() {
        seekingEnd = !trace.progress.isComplete
        if seekingEnd { message = Self.seekingEndMessage } else if message == Self.seekingEndMessage { message = nil }
        if !rows.reachedEnd(trace) { rebase(at: trace.eventCount) }
        selectRow(rows.count - 1)
        topRow = max(0, selectedRow - max(1, layout.diagram.inner.height - 1) + 1)
    }

    static let seekingEndMessage = "indexing: the end follows as the file is read"

    /// Selects the row of event `event`, or the nearest row when the filter hides it.
    func select(event: Int) {
        guard let position = trace.index.timePosition(ofEvent: event) else { return }
        if !rows.covers(position) {
            rebase(at: position)
            topRow = max(0, (rows.row(nearPosition: position) ?? 0) - max(1, layout.diagram.inner.height - 1) / 2)
        }
        if let row = rows.row(nearPosition: position) { selectRow(row) }
    }

    func keepSelectionVisible() {
        guard !layout.diagram.isEmpty else { return }  // the detail full screen: the diagram keeps its scroll
        let height = max(1, layout.diagram.inner.height - 1)
        if selectedRow < topRow { topRow = selectedRow }
        if selectedRow >= topRow + height { topRow = selectedRow - height + 1 }
        topRow = max(0, topRow)
    }

    // MARK: replay

    func togglePlay() {
        playing.toggle()
        lastTick = nil
        if playing {
            rows.extend(toRows: selectedRow + 2, trace: trace, facts: facts, counter: counter)
            // Playing from the last row starts again from the first.
            if selectedRow >= rows.count - 1 && rows.reachedEnd(trace) { selectFirstRow() }
        }
    }

    func tick(_ now: UInt64) -> ViewerEffect {
        var changed = false
        // One slice per tick: indexing first, then analysis; following a growing file takes a turn at most
        // every followInterval meanwhile, so a fast recording cannot keep the analysis from its end or the
        // analysis the newest events from the screen.
        let otherWork = !trace.progress.isComplete || !facts.isComplete(trace)
        let followDue = following && (!otherWork || (lastFollow.map { now &- $0 >= Self.followInterval || now < $0 } ?? true))
        if followDue && trace.progress.isComplete {
            lastFollow = now
            changed = traceChanged()
        } else if !trace.progress.isComplete {
            changed = traceChanged()
        } else if !facts.isComplete(trace) {
            changed = analyseSlice()
        }
        if playing {
            if let last = lastTick, now > last {
                let advance = Double(now - last) * Self.speeds[speedIndex]
                clock = clock &+ UInt64(min(advance, Double(UInt64.max / 2)))
                rows.extend(pastTime: clock, trace: trace, facts: facts, counter: counter)
                if let row = rows.lastRow(atOrBefore: clock, in: trace), row != selectedRow {
                    selectedRow = row
                    detailField = 0
                    detailTop = 0
                    keepSelectionVisible()
                }
                if rows.reachedEnd(trace) && selectedRow >= rows.count - 1 && clock >= rows.time(ofRow: max(0, rows.count - 1), in: trace) {
                    playing = false
                    message = "end of trace"
                }
            }
            lastTick = now
            changed = true
        }
        return changed ? .redraw : .none
    }

    /// Sets the clock to `time` and selects the last row at or before it.
    func go(toTime time: UInt64) {
        let position = trace.index.lastPosition(atOrBefore: time)
        if !rows.covers(position) { rebase(at: position) }
        rows.extend(pastTime: time, trace: trace, facts: facts, counter: counter)
        selectRow(rows.lastRow(atOrBefore: time, in: trace) ?? 0)
        clock = time
    }

    // MARK: the trace grows

    /// Indexes more (a large file still being indexed) or follows a growing file; keeps the selection
    /// (the same event) and, when following, the newest event in view. Returns whether anything changed.
    func traceChanged() -> Bool {
        let before = trace.eventCount
        let selected = selectedEvent
        let lastTimeBefore = before > 0 ? trace.index.time(of: trace.index.eventNumber(atTimePosition: before - 1)) : 0
        if !trace.progress.isComplete {
            trace.indexMore(bytes: configuration.work.indexBytesPerTick)
        } else {
            do {
                try trace.follow()
            } catch {
                message = "cannot follow: \(error)"
                following = false
                return true
            }
        }
        guard trace.eventCount != before else { return false }
        // New events later than everything known extend the time order at its end: the rows stay. An
        // earlier one shifts positions: the rows are found again.
        refreshAfterGrowth(selected: selected, appended: (before..<trace.eventCount).allSatisfy { trace.index.time(of: $0) >= lastTimeBefore })
        if following || seekingEnd { selectLastRow() }
        return true
    }

    /// Takes over `other`, the same file opened again — with its stored index, loaded on another thread while
    /// the first screen came from a quick open without it — when it holds at least what the viewer's own
    /// trace has indexed (indexing it that far if not: it had no stored index). The analysis, the selection
    /// and the filter carry over (event numbers are file positions, the same in both). Returns false, and
    /// changes nothing, when `other` is not the same file as far as this one was indexed.
    public func adopt(_ other: IndexedTrace) -> Bool {
        var other = other
        if other.eventCount < trace.eventCount { other.indexMore(untilEvents: trace.eventCount) }
        let count = trace.eventCount
        guard other.eventCount >= count, other.path == trace.path,
              count == 0 || other.index.offset(of: count - 1) == trace.index.offset(of: count - 1) else { return false }
        let selected = selectedEvent
        trace = other
        refreshAfterGrowth(selected: selected, appended: false)
        if following || seekingEnd { selectLastRow() }
        return true
    }

    /// Analyses a slice of the events not analysed yet; says whether the screen should be drawn again: the
    /// status line's percentage moved, the analysis finished, or events on screen became analysed.
    func analyseSlice() -> Bool {
        let percentBefore = analysedPercent
        let screen = visibleOffsets
        let selectedOffset = selectedEvent.map { trace.index.offset(of: $0) }
        let limitBefore = facts.analysedOffsetLimit
        let filterWaits = rows.waitsForAnalysis(trace, facts: facts)
        facts.advance(over: trace, budget: configuration.work.analysedPerTick)
        let done = facts.isComplete(trace)
        if filterWaits && rows.count == 0 {
            // The filter's scan stopped where the analysis was (a render goes on from there for a screen
            // with rows); with no row yet, look for the first.
            rows.extend(toRows: 1, trace: trace, facts: facts, counter: counter)
            if rows.count > 0 { selectRow(0) }
            if rows.count > 0 || done { message = rows.count > 0 ? nil : "no event matches" }
        }
        // The detail (names, the sync latency) is built again only when what it says may have changed.
        if done || selectedOffset.map({ limitBefore <= $0 && facts.isAnalysed(offset: $0) }) ?? false { detailCache = nil }
        // Some row on screen was not analysed and now is.
        let screenChanged = screen.map { limitBefore <= $0.upperBound && facts.analysedOffsetLimit > $0.lowerBound } ?? false
        if screenChanged || done || analysedPercent != percentBefore {
            lanes = LaneTable(trace: trace, facts: facts)
            return true
        }
        return filterWaits
    }

    /// Analysed events in percent of those indexed (100 when done).
    var analysedPercent: Int { trace.eventCount == 0 ? 100 : facts.analysedEvents * 100 / trace.eventCount }

    /// The smallest and largest file offsets of the rows on screen (nil: none).
    var visibleOffsets: ClosedRange<Int>? {
        let height = max(1, layout.diagram.inner.height)
        let last = min(rows.count, topRow + height)
        guard topRow < last else { return nil }
        var low = Int.max, high = Int.min
        for row in topRow..<last {
            let offset = trace.index.offset(of: rows.eventNumber(ofRow: row, in: trace))
            low = min(low, offset)
            high = max(high, offset)
        }
        return low...high
    }

    /// Rebuilds what depends on the events known (names, lanes, violations, samples, the rows unless only
    /// appended to) and keeps the selected event selected.
    func refreshAfterGrowth(selected: Int?, appended: Bool) {
        facts.noteGrowth(trace)  // the new events are analysed by the next ticks
        lanes = LaneTable(trace: trace, facts: facts)
        violationList = nil
        // Built again only when new events may finish it (its acknowledgement walk can cost milliseconds).
        if detailCache?.content.awaitsLaterEvents ?? true { detailCache = nil }
        if !appended {
            queueSeries = [:]  // samples of a direction are kept in time order only while growth is at the end
            rows = RowList(filter: rows.filter)
            if let selected { select(event: selected) } else { selectRow(0) }
        }
    }

    // MARK: violations

    /// Violation events in time order (the index's list of violation records, sorted once).
    func violations() -> [Int] {
        if let violationList { return violationList }
        var list = Array(trace.index.events(of: .violation))
        list.sort { (trace.index.time(of: $0), $0) < (trace.index.time(of: $1), $1) }
        violationList = list
        return list
    }

    func currentViolationPosition() -> Int? {
        guard let event = selectedEvent else { return nil }
        return violations().firstIndex(of: event)
    }

    func jumpToViolation(forward: Bool) {
        let list = violations()
        guard !list.isEmpty else {
            message = "no violations in this trace"
            return
        }
        // Violations are ordered by (time, event number); so is where the selection stands.
        let here = (clock, selectedEvent ?? (forward ? Int.max : -1))
        let candidate = forward
            ? list.first { (trace.index.time(of: $0), $0) > here }
            : list.last { (trace.index.time(of: $0), $0) < here }
        guard let target = candidate else {
            message = forward ? "no later violation" : "no earlier violation"
            return
        }
        focus = layout.visiblePanes.contains(focus) ? focus : .diagram
        select(event: target)
    }

    // MARK: search

    /// Finds the next (previous) row whose diagram text contains the search text, case-insensitively.
    func findMatch(forward: Bool) {
        guard let needle = search?.lowercased(), !needle.isEmpty else { return }
        var row = selectedRow
        let builder = DiagramRowBuilder(facts: facts, glyphs: glyphs)
        while true {
            row += forward ? 1 : -1
            if row < 0 && !rows.reachedStart {
                let found = rows.extendBackward(rows: 256, trace: trace, facts: facts, counter: counter)
                shiftRows(by: found)
                row += found
            }
            if row < 0 { break }
            if row >= rows.count {
                rows.extend(toRows: row + 1, trace: trace, facts: facts, counter: counter)
                if row >= rows.count { break }
            }
            let number = rows.eventNumber(ofRow: row, in: trace)
            guard let record = counter.scanRecord(number, in: trace) else { continue }
            let shown = builder.row(record, offset: trace.index.offset(of: number), lanes: &lanes)
            let titles = shown.lanes.map { lanes.lanes[$0].title }.joined(separator: " ")
            if (shown.label + " " + titles).lowercased().contains(needle) {
                selectRow(row)
                return
            }
        }
        message = "\"\(search ?? "")\" not found " + (forward ? "below" : "above")
    }

    // MARK: prompt

    func promptKey(_ key: Key) -> ViewerEffect {
        guard var current = prompt else { return .none }
        switch key {
        case .escape:
            prompt = nil
            return .redraw
        case .enter:
            prompt = nil
            submit(current)
            return .redraw
        case .backspace, .delete:
            if !current.text.isEmpty { current.text.removeLast() }
        case .control("u"):
            current.text = ""
        case .control("z"):
            return .suspend
        case .character(let character):
            guard current.text.unicodeScalars.count < FilterLimits.maxLength else { return .none }
            current.text.append(character)
        default:
            return .none
        }
        if current.kind == .filter {
            do throws(FilterError) {
                _ = try CompiledFilter(current.text)
                current.error = nil
            } catch {
                current.error = error
            }
        }
        prompt = current
        return .redraw
    }

    func submit(_ prompt: Prompt) {
        switch prompt.kind {
        case .filter:
            apply(filter: prompt.text)
        case .search:
            search = prompt.text.isEmpty ? nil : prompt.text
            if search != nil { findMatch(forward: true) }
        case .command:
            run(command: prompt.text)
        }
    }

    /// Applies a filter (empty: none), keeping the selected event when it still matches, else the nearest row.
    func apply(filter text: String) {
        let compiled: CompiledFilter?
        do throws(FilterError) {
            compiled = text.allSatisfy { $0 == " " } ? nil : try CompiledFilter(text)
        } catch {
            self.prompt = Prompt(kind: .filter, text: text, error: error)
            return
        }
        let selected = selectedEvent
        rows = RowList(filter: compiled)
        filterText = compiled == nil ? "" : text
        selectedRow = 0
        topRow = 0
        if let selected { select(event: selected) } else { selectRow(0) }
        if rows.count == 0 {
            rows.extend(toRows: 1, trace: trace, facts: facts, counter: counter)
            selectRow(0)
        }
        if rows.count == 0 { message = rows.waitsForAnalysis(trace, facts: facts) ? Self.filterWaitsMessage : "no event matches" }
    }

    static let filterWaitsMessage = "the filter needs what the analysis has not reached yet: rows come as it goes on"

    /// `:t 1.5s` (also ms, us, ns; seconds by default) and `:e 1234` (an event as `ipcscope show` numbers it).
    func run(command text: String) {
        seekingEnd = false
        let words = text.split(separator: " ", omittingEmptySubsequences: true)
        guard let verb = words.first else { return }
        let argument = words.dropFirst().joined()
        switch verb {
        case "t":
            guard let nanoseconds = Self.parseDuration(argument) else {
                message = "usage: :t 1.5s (s, ms, us or ns)"
                return
            }
            go(toTime: origin &+ UInt64(nanoseconds))
        case "e":
            guard let number = Int(argument), number >= 0, number < trace.eventCount else {
                message = "usage: :e N, with N from 0 to \(max(0, trace.eventCount - 1))"
                return
            }
            select(event: trace.index.eventNumber(atTimePosition: number))
        case "q":
            message = "q quits (without the colon)"
        default:
            message = "unknown command :\(verb) (:t TIME, :e EVENT)"
        }
    }

    /// `1.5s`, `1500ms`, `20us`, `7ns`, `2` (seconds) to nanoseconds; nil when malformed or negative.
    static func parseDuration(_ text: String) -> UInt64? {
        let units: [(String, Double)] = [("ns", 1), ("us", 1e3), ("µs", 1e3), ("ms", 1e6), ("s", 1e9)]
        var number = Substring(text)
        var scale = 1e9
        for (suffix, value) in units where text.hasSuffix(suffix) {
            number = text.dropLast(suffix.count)
            scale = value
            break
        }
        guard let value = Double(number), value >= 0, value.isFinite, value * scale < 1.8e19 else { return nil }
        return UInt64((value * scale).rounded())
    }

    // MARK: mouse

    func handle(_ mouse: MouseEvent) -> ViewerEffect {
        let layout = self.layout
        if mouse.action != .release { seekingEnd = false }
        switch mouse.action {
        case .wheelUp, .wheelDown:
            let delta = mouse.action == .wheelUp ? -3 : 3
            if layout.detail.contains(row: mouse.row, column: mouse.column) {
                detailTop = max(0, detailTop + delta)
            } else {
                selectRow(selectedRow + delta)
            }
            return .redraw
        case .press:
            guard let pane = layout.visiblePanes.first(where: { layout.rect(of: $0).contains(row: mouse.row, column: mouse.column) }) else { return .none }
            focus = pane
            let inner = layout.rect(of: pane).inner
            switch pane {
            case .diagram:
                let row = topRow + mouse.row - inner.row - 1  // the first inner row holds the lane names
                if mouse.row > inner.row, row < rows.count { selectRow(row) }
            case .violations:
                let position = violationTop + mouse.row - inner.row
                let list = violations()
                if position >= 0, position < list.count { select(event: list[position]) }
            case .detail, .queues:
                break
            }
            return .redraw
        case .release:
            return .none
        }
    }
}
