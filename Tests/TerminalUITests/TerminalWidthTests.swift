#if canImport(Glibc)
import Glibc
#endif
import CNCurses  // wcwidth, as GridPainter sees it
import Testing
import ViewerModel

/// The grid's width table against the C library's `wcwidth`, which decides what ncurses draws: a scalar the
/// C library draws two columns wide must have two columns in the grid, or the backend draws `?` in its place
/// (GridPainter) — as it did for 🚀 (U+1F680) and the other emoji outside U+1F300–1F64F.
@Suite struct TerminalWidthTests {
    @Test func everyScalarTheCLibraryDrawsWideIsWideInTheGrid() throws {
        // A UTF-8 locale for this thread only (uselocale), so other tests' locale is left alone.
        let utf8 = try #require(newlocale(LC_CTYPE_MASK, "C.UTF-8", nil))
        let previous = uselocale(utf8)
        defer {
            uselocale(previous)
            freelocale(utf8)
        }
        var narrowInGrid: [String] = []
        for value in UInt32(0x300)...0x3FFFF {
            guard let scalar = Unicode.Scalar(value), wcwidth(wchar_t(bitPattern: value)) == 2 else { continue }
            if TerminalWidth.of(scalar) != 2 { narrowInGrid.append(String(value, radix: 16)) }
        }
        #expect(narrowInGrid.isEmpty, "wide in wcwidth, not in the grid: \(narrowInGrid.prefix(20))")
        for emoji: Character in ["🚀", "🛑", "🟠", "🤖", "🥳", "🫠", "⌛", "⚡", "✅", "❌", "⭐"] {
            #expect(TerminalWidth.of(emoji) == 2, "\(emoji)")
        }
        for narrow: Character in ["a", "é", "→", "│"] { #expect(TerminalWidth.of(narrow) == 1) }
    }

    @Test func theWideRangesAreSortedAndDisjoint() {
        let ranges = TerminalWidth.wideRanges
        for (earlier, later) in zip(ranges, ranges.dropFirst()) {
            #expect(earlier.first <= earlier.last && earlier.last < later.first)
        }
    }
}
