/// The sequence diagram: a lane per process, time running down, one row per event. Only the rows on
/// screen are built: their event numbers come from the index, their records are decoded here and nowhere else.
extension TraceViewer {
    /// Lanes narrower than this are not drawn; the rest scroll sideways (`<`/`>`).
    static let minimumLaneWidth = 12

    func drawDiagram(_ rect: Rect, into grid: inout CellGrid) {
        guard !rect.isEmpty else { return }
        let framed = rect.width >= 8 && rect.height >= 3
        if framed {
            let title = "Sequence" + (lanes.count > visibleLaneCapacity(rect.inner.width) ? " (\(visibleLaneCapacity(rect.inner.width)) of \(lanes.count) lanes, < > scroll)" : "")
            drawBox(rect, title: title, pane: .diagram, into: &grid)
        }
        let area = framed ? rect.inner : rect
        guard area.height >= 1, area.width >= 1 else { return }
        let bodyHeight = area.height - 1
        rows.extend(toRows: topRow + bodyHeight, trace: trace, facts: facts, counter: counter)

        let builder = DiagramRowBuilder(facts: facts, glyphs: glyphs)
        var shown: [DiagramRow] = []
        for row in topRow..<max(topRow, min(rows.count, topRow + bodyHeight)) {
            let number = rows.eventNumber(ofRow: row, in: trace)
            guard let record = counter.record(number, in: trace) else {
                shown.append(DiagramRow(shape: .banner, label: "(record \(number) unreadable)", role: .error, time: trace.index.time(of: number)))
                continue
            }
            shown.append(builder.row(record, offset: trace.index.offset(of: number), lanes: &lanes))
        }

        let timeWidth = area.width >= 50 ? 11 : 0
        let laneArea = Rect(row: area.row, column: area.column, height: area.height, width: area.width - timeWidth)
        // The selected row's lanes first, then those of the rows nearest it.
        let selectedLine = selectedRow - topRow
        let byNearness = shown.indices.sorted { abs($0 - selectedLine) < abs($1 - selectedLine) }
        let selectedLanes = shown.indices.contains(selectedLine) ? shown[selectedLine].lanes : []
        let visible = visibleLanes(active: laneOffset == 0 ? byNearness.flatMap { shown[$0].lanes } : selectedLanes, width: laneArea.width)
        let slot = visible.isEmpty ? laneArea.width : max(1, laneArea.width / visible.count)
        var columnOfLane: [Int: Int] = [:]
        for (position, lane) in visible.enumerated() { columnOfLane[lane] = laneArea.column + position * slot + slot / 2 }

        // Lane names, centred over their lanes; lanes with no channel open at the replay time are dimmed.
        for lane in visible {
            guard let x = columnOfLane[lane] else { continue }
            let title = format.fit(lanes.lanes[lane].title, max(1, slot - 1))
            let start = max(laneArea.column, x - Format.width(title) / 2)
            let alive = lanes.lanes[lane].isAlive(at: clock)
            grid.put(title, row: area.row, column: start, style: CellStyle(alive ? .laneHeader : .dim, bold: alive), limit: laneArea.right - start)
        }
        if timeWidth > 0 { grid.put("time", row: area.row, column: area.right - 5, style: CellStyle(.laneHeader)) }

        for (line, row) in shown.enumerated() {
            let y = area.row + 1 + line
            for lane in visible {
                guard let x = columnOfLane[lane] else { continue }
                grid[y, x] = Cell(glyphs.vertical, style: CellStyle(lanes.lanes[lane].isAlive(at: clock) ? .lane : .dim))
            }
            draw(row, y: y, area: laneArea, columns: columnOfLane, visible: visible, into: &grid)
            if timeWidth > 0 {
                var time = format.offset(relative(row.time))
                time.removeLast(2)  // " s": the header says time
                let isNow = topRow + line == selectedRow
                grid.put(time, row: y, column: area.right - Format.width(time), style: CellStyle(isNow && playing ? .timeMarker : .dim))
            }
            if topRow + line == selectedRow {
                grid.restyle(row: y, column: area.column, width: area.width) { $0.reverse = true }
            }
        }
        if shown.isEmpty && bodyHeight > 0 {
            let why = rows.isComplete(trace) ? (filterText.isEmpty ? "no events" : "no event matches the filter") : "indexing\(glyphs.ellipsis)"
            grid.put(why, row: area.row + 1, column: area.column + 1, style: CellStyle(.dim), limit: area.width - 1)
        }
    }

    func visibleLaneCapacity(_ width: Int) -> Int { max(1, (width - (width >= 50 ? 11 : 0)) / Self.minimumLaneWidth) }

    /// All lanes when they fit; else the lanes in `active` (most wanted first: unscrolled, those of the rows
    /// nearest the selection; scrolled sideways, the selected row's), then the others from the sideways
    /// scroll position on, as many as fit, in their own order.
    func visibleLanes(active: [Int], width: Int) -> [Int] {
        let capacity = max(1, width / Self.minimumLaneWidth)
        guard lanes.count > capacity else { return Array(0..<lanes.count) }
        var chosen: [Int] = []
        for lane in active where !chosen.contains(lane) && chosen.count < capacity { chosen.append(lane) }
        let order = Array(laneOffset..<lanes.count) + Array(0..<min(laneOffset, lanes.count))
        for lane in order where !chosen.contains(lane) && chosen.count < capacity { chosen.append(lane) }
        return chosen.sorted()
    }

    private func draw(_ row: DiagramRow, y: Int, area: Rect, columns: [Int: Int], visible: [Int], into grid: inout CellGrid) {
        let style = CellStyle(row.role, bold: row.role == .violation || row.role == .title)
        /// A hidden lane's column: the edge on its side of the visible ones.
        func column(_ lane: Int, other: Int) -> (x: Int, hidden: Bool) {
            if let x = columns[lane] { return (x, false) }
            let leftOfAll = visible.first.map { lane < $0 } ?? true
            return (leftOfAll ? area.column : area.right - 1, true)
        }
        switch row.shape {
        case .banner:
            grid.put(row.label, row: y, column: area.column + 1, style: style, limit: area.width - 1)
        case .mark(let lane, let glyph):
            let (x, hidden) = column(lane, other: lane)
            let start = hidden ? area.column : x
            grid[y, start] = Cell(glyph, style: style)
            putBeside(row.label, column: start, gap: 2, y: y, area: area, style: style, into: &grid)
        case .arrow(let from, let to, let line):
            let (xs, senderHidden) = column(from, other: to)
            let (xr, receiverHidden) = column(to, other: from)
            if senderHidden && receiverHidden && from != to {
                // Neither lane is drawn: say who in words.
                let text = "\(lanes.lanes[from].title) \(glyphs.rightwards) \(lanes.lanes[to].title): \(row.label)"
                grid.put(text, row: y, column: area.column + 1, style: style, limit: area.width - 1)
                return
            }
            if xs == xr {
                grid[y, xs + 1] = Cell(glyphs.selfLoop, style: style)
                putBeside(row.label, column: xs + 1, gap: 2, y: y, area: area, style: style, into: &grid)
                return
            }
            let left = min(xs, xr), right = max(xs, xr)
            if right - left > 1 { grid.fill(row: y, column: left + 1, height: 1, width: right - left - 1, with: Cell(line, style: style)) }
            if xr > xs { grid[y, xr - 1] = Cell(glyphs.arrowRight, style: style) } else { grid[y, xr + 1] = Cell(glyphs.arrowLeft, style: style) }
            // An end at a lane that is not drawn: the ellipsis at the edge says the line goes on.
            if senderHidden { grid[y, xs] = Cell(glyphs.ellipsis, style: style) }
            if receiverHidden { grid[y, xr] = Cell(glyphs.ellipsis, style: style) }
            // The label goes on the arrow when it fits; else past the arrow's right end when it fits there;
            // else cut to fit on the arrow.
            // On the arrow: from two cells after its left end to the cell before its head or its right end.
            let room = right - left - 3
            let label = " " + row.label + (Format.width(row.label) + 2 <= room ? " " : "")
            let after = area.right - right - 2
            if Format.width(label) <= room {
                grid.put(label, row: y, column: left + 2, style: style, limit: room)
            } else if Format.width(row.label) <= after || room < 8 {
                grid.put(row.label, row: y, column: right + 2, style: style, limit: after)
            } else {
                grid.put(format.fit(label, room), row: y, column: left + 2, style: style, limit: room)
            }
        }
    }

    /// Text after `column` (`gap` columns on); before it when it fits better there (the rightmost lane).
    private func putBeside(_ text: String, column: Int, gap: Int, y: Int, area: Rect, style: CellStyle, into grid: inout CellGrid) {
        let right = area.right - column - gap, left = column - 1 - area.column
        if Format.width(text) > right && left > right {
            let fitted = format.fit(text, left)
            grid.put(fitted, row: y, column: column - 1 - Format.width(fitted), style: style)
        } else {
            grid.put(text, row: y, column: column + gap, style: style, limit: right)
        }
    }
}
