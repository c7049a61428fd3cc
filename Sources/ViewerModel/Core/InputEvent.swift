/// Everything that can change the viewer's state, from the terminal, the trace or the clock.
/// The ncurses backend and the test backend both produce these; the model never sees ncurses codes.
public enum InputEvent: Sendable, Equatable {
    case key(Key)
    case mouse(MouseEvent)
    /// The terminal now has this many rows and columns.
    case resize(rows: Int, columns: Int)
    /// The replay clock's tick: monotonic nanoseconds now (the model keeps its own trace-time clock).
    case tick(monotonicNanoseconds: UInt64)
    /// The trace file grew (follow mode) or indexing advanced.
    case traceChanged
}

public enum Key: Sendable, Equatable, Hashable {
    /// A printable character as typed (`j`, `G`, `/`, `é`).
    case character(Character)
    /// Ctrl plus a letter, lower case (`.control("l")` is Ctrl-L).
    case control(Character)
    case up, down, left, right
    case pageUp, pageDown, home, end
    case enter, escape, tab, backTab, backspace, delete
    case function(Int)
}

public struct MouseEvent: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        case press(button: Int)
        case release
        case wheelUp
        case wheelDown
    }

    public var action: Action
    public var row: Int
    public var column: Int

    public init(_ action: Action, row: Int, column: Int) {
        self.action = action
        self.row = row
        self.column = column
    }
}
