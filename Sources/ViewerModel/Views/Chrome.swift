import TraceFormat

/// The frame around the panes: boxes, the status line, the footer (hints, prompt, messages), the help overlay.
extension TraceViewer {
    /// A box on `rect`'s edge with `title` in its top border; the focused pane's border is `border-active`.
    func drawBox(_ rect: Rect, title: String, pane: Pane?, into grid: inout CellGrid) {
        guard rect.width >= 2, rect.height >= 2 else { return }
        let style = CellStyle(pane != nil && pane == focus ? .borderActive : .border)
        let g = glyphs
        grid.fill(row: rect.row, column: rect.column, height: 1, width: rect.width, with: Cell(g.horizontal, style: style))
        grid.fill(row: rect.bottom - 1, column: rect.column, height: 1, width: rect.width, with: Cell(g.horizontal, style: style))
        grid.fill(row: rect.row, column: rect.column, height: rect.height, width: 1, with: Cell(g.vertical, style: style))
        grid.fill(row: rect.row, column: rect.right - 1, height: rect.height, width: 1, with: Cell(g.vertical, style: style))
        grid[rect.row, rect.column] = Cell(g.topLeft, style: style)
        grid[rect.row, rect.right - 1] = Cell(g.topRight, style: style)
        grid[rect.bottom - 1, rect.column] = Cell(g.bottomLeft, style: style)
        grid[rect.bottom - 1, rect.right - 1] = Cell(g.bottomRight, style: style)
        if rect.width > 4 {
            grid.put(" " + format.fit(title, rect.width - 4) + " ", row: rect.row, column: rect.column + 1,
                     style: CellStyle(.title, bold: pane == focus), limit: rect.width - 2)
        }
    }

    // MARK: status line

    func drawStatus(_ rect: Rect, into grid: inout CellGrid) {
        guard !rect.isEmpty else { return }
        let style = CellStyle(.statusBar)
        grid.fill(row: rect.row, column: rect.column, height: 1, width: rect.width, with: Cell(" ", style: style))
        let name = configuration.title ?? String(trace.path.split(separator: "/").last ?? Substring(trace.path))
        let total = max(0, trace.eventCount - 1)
        let number = selectedEvent.flatMap { trace.index.timePosition(ofEvent: $0) } ?? 0
        var parts = [
            "ipcscope", name, "event \(Format.grouped(number))/\(Format.grouped(total))",
            "t=\(format.offset(relative(clock)))",
            "\(playing ? glyphs.play : glyphs.pause) \(glyphs.times)\(Self.speedText(Self.speeds[speedIndex]))",
        ]
        if !filterText.isEmpty { parts.append("filter: \(filterText)" + (rows.isComplete(trace) ? " (\(Format.grouped(rows.count)) rows)" : "")) }
        parts.append(following ? "[F]ollow on" : "[F]ollow off")
        let progress = trace.progress
        if !progress.isComplete && progress.fileBytes > 0 {
            parts.append("indexing \(Int(Double(progress.indexedBytes) / Double(progress.fileBytes) * 100))%")
        } else if !facts.isComplete(trace) {
            // Names, lanes and latencies of what is not analysed yet are provisional (docs/viewer.md).
            parts.append("analysing \(analysedPercent)%")
        }
        grid.put(" " + parts.joined(separator: "  "), row: rect.row, column: rect.column, style: style, limit: rect.width)
    }

    static func speedText(_ speed: Double) -> String {
        switch speed {
        case 0.25: "1/4"
        case 0.5: "1/2"
        default: String(Int(speed))
        }
    }

    // MARK: footer

    func drawFooter(_ rect: Rect, into grid: inout CellGrid) {
        guard !rect.isEmpty else { return }
        if let prompt {
            let lead: String = switch prompt.kind {
            case .filter: "/"
            case .search: "search: "
            case .command: ":"
            }
            let start = grid.put(lead, row: rect.row, column: rect.column, style: CellStyle(.prompt, bold: true), limit: rect.width)
            let end = grid.put(prompt.text, row: rect.row, column: start, style: CellStyle(.prompt), limit: rect.right - start)
            if let error = prompt.error {
                // The error column: the character there (or the cell after the text, for the end of input).
                let column = start + Format.width(String(prompt.text.unicodeScalars.prefix(max(0, error.column - 1)).map(Character.init)))
                if column < rect.right {
                    let cell = grid[rect.row, column]
                    grid[rect.row, column] = Cell(cell.character, style: CellStyle(.error, reverse: true))
                }
                grid.put("  column \(error.column): \(error.message)", row: rect.row, column: max(end, column + 1), style: CellStyle(.error), limit: rect.right - max(end, column + 1))
            } else if prompt.kind == .filter {
                grid.put("  ok", row: rect.row, column: end, style: CellStyle(.dim), limit: rect.right - end)
            }
            return
        }
        if let pendingMark {
            grid.put(pendingMark == .setMark ? "mark: press a letter" : "go to mark: press a letter", row: rect.row, column: rect.column, style: CellStyle(.prompt), limit: rect.width)
            return
        }
        if let message {
            grid.put(message, row: rect.row, column: rect.column, style: CellStyle(.warning), limit: rect.width)
            return
        }
        let hints = "j/k move  / filter  s search  space play  +/- speed  v next violation  Tab pane  ? help  q quit"
        grid.put(hints, row: rect.row, column: rect.column, style: CellStyle(.dim), limit: rect.width)
    }

    // MARK: help

    /// Every binding of the key table, in a box over the screen (scrolled with j/k when it does not fit).
    func drawHelp(into grid: inout CellGrid) {
        let bindings = KeyTable.bindings
        let labelWidth = bindings.map { Format.width($0.label) }.max() ?? 0
        let width = min(grid.columns, max(20, labelWidth + 6 + (bindings.map { Format.width($0.summary) }.max() ?? 0)))
        let height = min(grid.rows, bindings.count + 2)
        guard width >= 4, height >= 3 else { return }
        let rect = Rect(row: (grid.rows - height) / 2, column: (grid.columns - width) / 2, height: height, width: width)
        grid.fill(row: rect.row, column: rect.column, height: rect.height, width: rect.width)
        drawBox(rect, title: "Keys (? or Esc closes, j/k scroll)", pane: nil, into: &grid)
        let inner = rect.inner
        helpTop = min(helpTop, max(0, bindings.count - inner.height))
        for (line, binding) in bindings.dropFirst(helpTop).prefix(inner.height).enumerated() {
            let row = inner.row + line
            grid.put(binding.label, row: row, column: inner.column + 1, style: CellStyle(.helpKey, bold: true), limit: labelWidth)
            grid.put(binding.summary, row: row, column: inner.column + labelWidth + 3, limit: inner.right - (inner.column + labelWidth + 3))
        }
    }
}
