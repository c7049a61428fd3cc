import TraceFormat

/// Every violation of the trace in time order; the one selected (or the last before the replay time) marked.
/// Only the visible lines' records are decoded.
extension TraceViewer {
    func drawViolations(_ rect: Rect, into grid: inout CellGrid) {
        guard !rect.isEmpty else { return }
        let list = violations()
        let framed = rect.width >= 8 && rect.height >= 3
        if framed { drawBox(rect, title: "Violations (\(list.count))", pane: .violations, into: &grid) }
        let area = framed ? rect.inner : rect
        guard area.height > 0, area.width > 0 else { return }
        guard !list.isEmpty else {
            grid.put("none", row: area.row, column: area.column + 1, style: CellStyle(.dim), limit: area.width - 1)
            return
        }
        // The current violation: the selected event, else the last one at or before the replay time.
        let current = currentViolationPosition() ?? list.lastIndex { trace.index.time(of: $0) <= clock }
        if let current {
            if current < violationTop { violationTop = current }
            if current >= violationTop + area.height { violationTop = current - area.height + 1 }
        }
        violationTop = min(violationTop, max(0, list.count - area.height))
        for (line, position) in (violationTop..<min(list.count, violationTop + area.height)).enumerated() {
            let y = area.row + line
            let number = list[position]
            var text = format.offset(relative(trace.index.time(of: number)), digits: 3) + " "
            if case .violation(let violation)? = counter.record(number, in: trace) {
                text += "ch\(violation.channel) \(violation.kindName) \(violation.observed) > \(violation.limit)"
            } else {
                text += "(unreadable)"
            }
            grid.put(text, row: y, column: area.column, style: CellStyle(.violation), limit: area.width)
            if position == current {
                grid.restyle(row: y, column: area.column, width: area.width) { $0.reverse = true }
            }
        }
    }
}
