/// Why the terminal session could not start.
public enum TerminalError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Standard input or output is not a terminal.
    case notATerminal
    /// ncurses could not set up this terminal type (unknown or unusable TERM).
    case unusableTerminal(term: String)
    /// A system call failed while setting up (operation, errno).
    case system(String, Int32)

    public var description: String {
        switch self {
        case .notATerminal:
            "standard input and output must be a terminal"
        case .unusableTerminal(let term):
            "cannot use the terminal type TERM=\(term.isEmpty ? "(unset)" : term); set TERM to your terminal (for example xterm-256color)"
        case .system(let operation, let code):
            "\(operation) failed: errno \(code)"
        }
    }
}
