import CNCurses
import ViewerModel

/// Draws CellGrids into an ncurses window, touching only the cells that changed since the last grid it
/// drew (ncurses then sends only what changed on the physical screen).
struct GridPainter {
    private(set) var previous: CellGrid?
    let styles: StyleTable
    /// The locale is not UTF-8: anything outside printable ASCII is drawn as `?`.
    let asciiOnly: Bool

    init(styles: StyleTable, asciiOnly: Bool) {
        self.styles = styles
        self.asciiOnly = asciiOnly
    }

    /// Forgets the last grid, so that the next `draw` repaints every cell.
    mutating func invalidate() { previous = nil }

    mutating func draw(_ grid: CellGrid, into window: UnsafeMutablePointer<WINDOW>) {
        let old = previous.flatMap { $0.rows == grid.rows && $0.columns == grid.columns ? $0 : nil }
        for row in 0..<grid.rows {
            for column in 0..<grid.columns {
                let cell = grid[row, column]
                if let old, old[row, column] == cell { continue }
                drawCell(cell, row: row, column: column, in: grid, window: window)
            }
        }
        previous = grid
    }

    private func drawCell(_ cell: Cell, row: Int, column: Int, in grid: CellGrid, window: UnsafeMutablePointer<WINDOW>) {
        let style = styles.resolve(cell.style)
        if cell.isContinuation {
            // The wide character on the left covers this cell, unless it was drawn narrow (ASCII, or the C
            // library thinks it narrow): then a space keeps the columns where the grid has them.
            if !asciiOnly, let left = grid[row, column - 1].character.unicodeScalars.first, column > 0,
               !grid[row, column - 1].isContinuation, wcwidth(wchar_t(bitPattern: left.value)) == 2 {
                return
            }
            put([0x20], row: row, column: column, style: style, window: window)
            return
        }
        let scalars = Array(cell.character.unicodeScalars)
        guard let first = scalars.first else { return }
        if asciiOnly {
            let printable = first.value >= 0x20 && first.value < 0x7F
            put([printable ? wchar_t(first.value) : 0x3F], row: row, column: column, style: style, window: window)
            return
        }
        let gridWidth = grid[row, column + 1].isContinuation && column + 1 < grid.columns ? 2 : 1
        let width = wcwidth(wchar_t(bitPattern: first.value))
        // The C library would draw it wider than the grid placed it (or cannot draw it): a `?` keeps the
        // row aligned.
        if width < 1 || width > gridWidth {
            put([0x3F], row: row, column: column, style: style, window: window)
            return
        }
        let characters = scalars.prefix(5).map { wchar_t(bitPattern: $0.value) }
        if put(characters, row: row, column: column, style: style, window: window) == -2 {
            // setcchar rejected the sequence (a second spacing character, as in some emoji sequences).
            put([wchar_t(bitPattern: first.value)], row: row, column: column, style: style, window: window)
        }
    }

    /// The result of mvwadd_wch is not an error to report: it is ERR at the bottom-right cell although
    /// the character is drawn there.
    @discardableResult
    private func put(_ characters: [wchar_t], row: Int, column: Int, style: StyleTable.Entry, window: UnsafeMutablePointer<WINDOW>) -> Int32 {
        let terminated = characters + [0]
        return terminated.withUnsafeBufferPointer {
            ipcs_curses_put_cell(window, Int32(row), Int32(column), $0.baseAddress, style.attributes, style.pair)
        }
    }
}
