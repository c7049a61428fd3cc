/// What a key does. The key table maps keys to these; ``TraceViewer`` performs them.
public enum ViewerAction: String, Sendable, CaseIterable {
    case rowDown, rowUp, pageDown, pageUp, firstRow, lastRow
    case nextEvent, previousEvent, nextMatchOrEvent, previousMatch
    case traceStart, traceEnd
    case playPause, faster, slower
    case nextViolation, previousViolation
    case filterPrompt, searchPrompt, commandPrompt
    case setMark, jumpToMark
    case nextPane, previousPane, expand
    case lanesLeft, lanesRight
    case toggleFollow
    case help, cancel, redraw, quit, suspend
}

/// One line of the key table: the keys, how the help overlay and docs/viewer.md spell them, what they do.
public struct KeyBinding: Sendable {
    public var keys: [Key]
    public var label: String
    public var summary: String
    public var action: ViewerAction

    public init(_ keys: [Key], _ label: String, _ summary: String, _ action: ViewerAction) {
        self.keys = keys
        self.label = label
        self.summary = summary
        self.action = action
    }
}

/// The one table that dispatches keys and that the help overlay (and docs/viewer.md, checked by a test)
/// is generated from, so no key can do something the help does not say.
public enum KeyTable {
    public static let bindings: [KeyBinding] = [
        KeyBinding([.character("j"), .down], "j Down", "next row (in the detail pane: next field)", .rowDown),
        KeyBinding([.character("k"), .up], "k Up", "previous row (in the detail pane: previous field)", .rowUp),
        KeyBinding([.pageDown, .control("d")], "PgDn ^D", "page down", .pageDown),
        KeyBinding([.pageUp, .control("u")], "PgUp ^U", "page up", .pageUp),
        KeyBinding([.home], "Home", "first row", .firstRow),
        KeyBinding([.end], "End", "last row", .lastRow),
        KeyBinding([.right], "Right", "next event (moves the replay clock)", .nextEvent),
        KeyBinding([.left, .character("p")], "Left p", "previous event", .previousEvent),
        KeyBinding([.character("n")], "n", "next search match; next event when no search is set", .nextMatchOrEvent),
        KeyBinding([.character("N")], "N", "previous search match", .previousMatch),
        KeyBinding([.character("g")], "g", "start of the trace", .traceStart),
        KeyBinding([.character("G")], "G", "end of the trace", .traceEnd),
        KeyBinding([.character(" ")], "space", "play / pause the replay", .playPause),
        KeyBinding([.character("+"), .character("=")], "+", "replay faster (up to x64)", .faster),
        KeyBinding([.character("-")], "-", "replay slower (down to x1/4)", .slower),
        KeyBinding([.character("v")], "v", "next violation", .nextViolation),
        KeyBinding([.character("V")], "V", "previous violation", .previousViolation),
        KeyBinding([.character("/")], "/", "filter (filter language; Enter applies, empty clears)", .filterPrompt),
        KeyBinding([.character("s"), .control("f")], "s ^F", "search text in rows", .searchPrompt),
        KeyBinding([.character(":")], ":", "command: :t 1.5s (go to time), :e 1234 (go to event)", .commandPrompt),
        KeyBinding([.character("m")], "m{a-z}", "set a mark at the selected event", .setMark),
        KeyBinding([.character("'")], "'{a-z}", "go to a mark", .jumpToMark),
        KeyBinding([.tab], "Tab", "next pane", .nextPane),
        KeyBinding([.backTab], "S-Tab", "previous pane", .previousPane),
        KeyBinding([.enter], "Enter", "expand: the detail full screen; in the detail pane, fold a field", .expand),
        KeyBinding([.character("<"), .character("h")], "< h", "scroll lanes left", .lanesLeft),
        KeyBinding([.character(">"), .character("l")], "> l", "scroll lanes right", .lanesRight),
        KeyBinding([.character("F")], "F", "follow a growing trace (keeps the newest event in view)", .toggleFollow),
        KeyBinding([.character("?"), .function(1)], "? F1", "this help", .help),
        KeyBinding([.escape], "Esc", "close help or prompt, clear the search", .cancel),
        KeyBinding([.control("l")], "^L", "redraw", .redraw),
        KeyBinding([.character("q")], "q", "quit", .quit),
        KeyBinding([.control("z")], "^Z", "suspend", .suspend),
    ]

    /// The action of `key`, nil when the key does nothing.
    public static func action(for key: Key) -> ViewerAction? { lookup[key] }

    private static let lookup: [Key: ViewerAction] = {
        var table: [Key: ViewerAction] = [:]
        for binding in bindings {
            for key in binding.keys {
                precondition(table[key] == nil, "key bound twice: \(key)")
                table[key] = binding.action
            }
        }
        return table
    }()

    /// The Markdown table of docs/viewer.md (a test checks the document holds exactly this).
    public static var markdown: String {
        var out = "| key | what it does |\n|---|---|\n"
        for binding in bindings {
            out += "| `\(binding.label)` | \(binding.summary) |\n"
        }
        return out
    }
}
