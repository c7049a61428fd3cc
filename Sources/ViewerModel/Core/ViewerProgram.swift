/// The contract between a viewer model and a backend (ratatui's immediate mode): the backend feeds events,
/// asks for a frame when the answer says so, and draws the grid it gets. Nothing here knows about terminals.
public protocol ViewerProgram: AnyObject {
    /// Applies one event to the state and says what the backend should do next.
    func update(_ event: InputEvent) -> ViewerEffect
    /// Draws the whole screen for the current state into `grid` (already sized to the terminal).
    func render(into grid: inout CellGrid)
    /// How often the backend should send `.tick` (while replay plays or follow is on); zero: as soon as no
    /// input is waiting (background work is left, done a slice per tick); nil: no ticks needed.
    var tickInterval: Duration? { get }
}

public enum ViewerEffect: Sendable, Equatable {
    /// Nothing visible changed.
    case none
    /// Render and draw again.
    case redraw
    /// Restore the terminal and leave.
    case quit
    /// Restore the terminal, stop the process (Ctrl-Z), redraw everything when continued.
    case suspend
}
