import Testing
@testable import ViewerModel

@Suite struct CellGridTests {
    @Test func textIsClippedToTheGridAndToTheLimit() {
        var grid = CellGrid(rows: 2, columns: 6)
        let end = grid.put("abcdefgh", row: 0, column: 2)
        #expect(end == 6)
        #expect(grid.text(ofRow: 0) == "  abcd")
        grid.put("xyz", row: 1, column: 0, limit: 2)
        #expect(grid.text(ofRow: 1) == "xy    ")
        grid.put("never", row: 5, column: 0)
        grid.put("left", row: 1, column: -2)
        #expect(grid.text(ofRow: 1) == "ft    ")
    }

    @Test func wideCharactersTakeTwoCellsAndNeverStraddleTheEdge() {
        var grid = CellGrid(rows: 1, columns: 5)
        let end = grid.put("日本語", row: 0, column: 0)
        #expect(end == 4)
        #expect(grid[0, 1].isContinuation)
        #expect(grid.text(ofRow: 0) == "日本 ")
    }

    @Test func controlSequencesFromHostileTextAreNeverStored() {
        var grid = CellGrid(rows: 1, columns: 12)
        grid.put("a\u{1B}[2Jb\u{202E}c\u{9B}", row: 0, column: 0)
        let scalars = grid.cells.flatMap { $0.character.unicodeScalars }
        #expect(!scalars.contains(where: TerminalWidth.isUnsafe))
        #expect(grid.text(ofRow: 0).hasPrefix("a\u{FFFD}[2Jb\u{FFFD}c\u{FFFD}"))
    }
}
