/// One terminal cell: a character of width 1 or 2 and its style. The cell after a wide character is a
/// continuation (drawn by its left neighbour; backends skip it).
public struct Cell: Hashable, Sendable {
    public var character: Character
    public var style: CellStyle
    public var isContinuation: Bool

    public init(_ character: Character = " ", style: CellStyle = .normal, isContinuation: Bool = false) {
        self.character = character
        self.style = style
        self.isContinuation = isContinuation
    }

    public static let blank = Cell()
}

/// The screen as rows × columns of cells (ratatui's buffer): views render into it, the ncurses backend
/// draws it, tests read it. Writes are clipped to the grid, so a view cannot draw outside its area, and
/// characters a terminal would interpret (escape, bidi overrides) are stored as `�`: hostile text in a
/// trace can never reach the terminal as a control sequence.
public struct CellGrid: Sendable, Equatable {
    public let rows: Int
    public let columns: Int
    public private(set) var cells: [Cell]

    public static let replacement: Character = "\u{FFFD}"

    public init(rows: Int, columns: Int) {
        self.rows = max(0, rows)
        self.columns = max(0, columns)
        cells = Array(repeating: .blank, count: self.rows * self.columns)
    }

    public subscript(row: Int, column: Int) -> Cell {
        get { contains(row: row, column: column) ? cells[row * columns + column] : .blank }
        set { if contains(row: row, column: column) { cells[row * columns + column] = newValue } }
    }

    public func contains(row: Int, column: Int) -> Bool { row >= 0 && row < rows && column >= 0 && column < columns }

    /// Writes `text` from (`row`, `column`) and returns the column after the last cell written. Stops at
    /// `limit` columns (default: the grid's edge); a wide character that would straddle the limit is not written.
    @discardableResult
    public mutating func put(_ text: some StringProtocol, row: Int, column: Int, style: CellStyle = .normal, limit: Int? = nil) -> Int {
        let end = min(columns, limit.map { column + max(0, $0) } ?? columns)
        guard row >= 0, row < rows else { return column }
        var x = column
        for character in text {
            let safe = character.unicodeScalars.contains(where: TerminalWidth.isUnsafe) ? Self.replacement : character
            let width = TerminalWidth.of(safe)
            if width == 0 { continue }  // combining marks alone: dropped rather than merged across cells
            if x + width > end { break }
            if x >= 0 {
                self[row, x] = Cell(safe, style: style)
                if width == 2 { self[row, x + 1] = Cell(" ", style: style, isContinuation: true) }
            }
            x += width
        }
        return x
    }

    /// Fills a rectangle with one character and style.
    public mutating func fill(row: Int, column: Int, height: Int, width: Int, with cell: Cell = .blank) {
        for y in max(0, row)..<min(rows, row + height) {
            for x in max(0, column)..<min(columns, column + width) { self[y, x] = cell }
        }
    }

    /// Sets the style of existing cells in a run (highlighting a selected row without redrawing its text).
    public mutating func restyle(row: Int, column: Int, width: Int, _ change: (inout CellStyle) -> Void) {
        guard row >= 0, row < rows else { return }
        for x in max(0, column)..<min(columns, column + width) { change(&cells[row * columns + x].style) }
    }

    /// The text of one row (continuation cells skipped), trailing spaces kept: what a test reads.
    public func text(ofRow row: Int) -> String {
        guard row >= 0, row < rows else { return "" }
        var line = ""
        for x in 0..<columns where !cells[row * columns + x].isContinuation { line.append(cells[row * columns + x].character) }
        return line
    }

    /// All rows joined by newlines, trailing spaces trimmed from each (for snapshot-like assertions).
    public var text: String {
        (0..<rows).map { row in
            var line = Substring(text(ofRow: row))
            while line.last == " " { line = line.dropLast() }
            return String(line)
        }.joined(separator: "\n")
    }
}
