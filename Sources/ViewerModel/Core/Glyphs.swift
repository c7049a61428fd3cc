/// The characters views draw lines, arrows and bars with: Unicode box drawing where the locale is UTF-8,
/// plain ASCII where it is not (the backend decides and hands the model one of these).
public struct Glyphs: Sendable, Equatable {
    public var horizontal: Character
    public var vertical: Character
    public var topLeft: Character
    public var topRight: Character
    public var bottomLeft: Character
    public var bottomRight: Character
    public var teeLeft: Character
    public var teeRight: Character
    public var arrowRight: Character
    public var arrowLeft: Character
    public var dashed: Character
    public var doubleHorizontal: Character
    public var cross: Character
    public var ellipsis: Character
    public var check: Character
    public var play: Character
    public var pause: Character
    /// Bars of rising height for sparklines, lowest first (index 0 is empty).
    public var bars: [Character]
    /// A violation in the sequence diagram.
    public var violationMark: Character = "◆"
    /// One direction ended while the other may go on (EOF of a sender: a half-close).
    public var halfClose: Character = "⊣"
    /// A message a lane sends to itself (both sides of the channel in one process).
    public var selfLoop: Character = "↺"
    /// Text in labels: speeds (`×4`), microseconds, "from → to".
    public var times: String = "×"
    public var micro: String = "µ"
    public var rightwards: String = "→"

    public static let unicode = Glyphs(
        horizontal: "─", vertical: "│", topLeft: "┌", topRight: "┐", bottomLeft: "└", bottomRight: "┘",
        teeLeft: "├", teeRight: "┤", arrowRight: "▶", arrowLeft: "◀", dashed: "┄", doubleHorizontal: "═",
        cross: "✖", ellipsis: "…", check: "✓", play: "▶", pause: "⏸",
        bars: [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"])

    public static let ascii = Glyphs(
        horizontal: "-", vertical: "|", topLeft: "+", topRight: "+", bottomLeft: "+", bottomRight: "+",
        teeLeft: "+", teeRight: "+", arrowRight: ">", arrowLeft: "<", dashed: ".", doubleHorizontal: "=",
        cross: "X", ellipsis: "~", check: "v", play: ">", pause: "=",
        bars: [" ", ".", ".", ":", ":", "|", "|", "#", "#"],
        violationMark: "!", halfClose: "]", selfLoop: "@", times: "x", micro: "u", rightwards: "->")
}
