import CNCurses
import TerminalTheme
import ViewerModel

/// A theme turned into ncurses attributes and colour pairs, one pair per role that has a colour. Built
/// once per session, after `start_color`.
struct StyleTable {
    struct Entry {
        var attributes: attr_t
        var pair: Int16
    }

    private var entries: [StyleRole: Entry] = [:]

    /// `colors`: ncurses' COLORS, or 0 to draw without colour. `defaultColors`: use_default_colors
    /// succeeded, so -1 means the terminal's own colour; otherwise defaults are white on black.
    init(theme: Theme, colors: Int, colorPairs: Int, defaultColors: Bool) {
        var nextPair: Int16 = 1
        for role in StyleRole.allCases {
            var entry = Entry(attributes: Self.attributes(theme[role].attributes), pair: 0)
            let (foreground, background) = theme.terminalColors(role: role, colors: colors)
            if foreground != nil || background != nil, Int(nextPair) < colorPairs {
                let fg = Int16(foreground ?? (defaultColors ? -1 : Int(COLOR_WHITE)))
                let bg = Int16(background ?? (defaultColors ? -1 : Int(COLOR_BLACK)))
                if init_pair(nextPair, fg, bg) == OK {
                    entry.pair = nextPair
                    nextPair += 1
                }
            }
            entries[role] = entry
        }
    }

    /// Attributes and pair for a cell: the theme's choice for its role plus the cell's own bold,
    /// underline and reverse.
    func resolve(_ style: CellStyle) -> Entry {
        var entry = entries[style.role] ?? Entry(attributes: ipcs_curses_a_normal(), pair: 0)
        if style.bold { entry.attributes |= ipcs_curses_a_bold() }
        if style.underline { entry.attributes |= ipcs_curses_a_underline() }
        if style.reverse { entry.attributes ^= ipcs_curses_a_reverse() }
        return entry
    }

    static func attributes(_ attributes: ThemeAttributes) -> attr_t {
        var result = ipcs_curses_a_normal()
        if attributes.contains(.bold) { result |= ipcs_curses_a_bold() }
        if attributes.contains(.dim) { result |= ipcs_curses_a_dim() }
        if attributes.contains(.underline) { result |= ipcs_curses_a_underline() }
        if attributes.contains(.reverse) { result |= ipcs_curses_a_reverse() }
        if attributes.contains(.italic) { result |= ipcs_curses_a_italic() }
        return result
    }
}
