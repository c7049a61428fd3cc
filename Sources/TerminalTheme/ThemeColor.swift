/// A colour as a theme file names it. The backend maps it down to what the terminal has (`terminalColor`).
public enum ThemeColor: Sendable, Hashable {
    /// The terminal's own foreground or background.
    case terminalDefault
    /// One of the 16 ANSI colours (0–7 normal, 8–15 bright).
    case ansi(Int)
    /// An index into the 256-colour palette.
    case indexed(Int)
    case rgb(red: UInt8, green: UInt8, blue: UInt8)

    /// The names a theme file may use for the 16 ANSI colours, in palette order.
    public static let ansiNames = [
        "black", "red", "green", "yellow", "blue", "magenta", "cyan", "white",
        "bright-black", "bright-red", "bright-green", "bright-yellow", "bright-blue", "bright-magenta", "bright-cyan", "bright-white",
    ]

    /// Parses a colour name, `#rrggbb` or `default`; nil when it is none of these.
    public init?(name: String) {
        if name == "default" {
            self = .terminalDefault
        } else if let index = Self.ansiNames.firstIndex(of: name) {
            self = .ansi(index)
        } else if name.utf8.count == 7, name.hasPrefix("#"), let value = UInt32(name.dropFirst(), radix: 16),
                  name.dropFirst().allSatisfy(\.isHexDigit) {
            self = .rgb(red: UInt8(value >> 16), green: UInt8((value >> 8) & 0xFF), blue: UInt8(value & 0xFF))
        } else {
            return nil
        }
    }

    /// The colour number for a terminal with `colors` colours (ncurses' `COLORS`), or nil for the
    /// terminal's default. Colours the terminal lacks become the nearest one it has: 256-colour indexes and
    /// RGB go to the nearest of 16 (or 8) ANSI colours, bright ANSI colours to their normal ones on 8-colour
    /// terminals. Under 8 colours there is no colour at all.
    public func terminalColor(colors: Int) -> Int? {
        guard colors >= 8 else { return nil }
        switch self {
        case .terminalDefault:
            return nil
        case .ansi(let index):
            return colors >= 16 ? index : index % 8
        case .indexed(let index):
            if index < min(colors, 256) { return index }
            return Palette.nearest(to: Palette.rgb(ofIndex: index), among: colors >= 16 ? 0..<16 : 0..<8)
        case .rgb(let red, let green, let blue):
            let candidates = colors >= 256 ? 16..<256 : colors >= 16 ? 0..<16 : 0..<8
            return Palette.nearest(to: (red, green, blue), among: candidates)
        }
    }
}

/// xterm's default palette, for mapping colours to the ones a terminal has.
enum Palette {
    typealias RGB = (UInt8, UInt8, UInt8)

    static let ansi: [RGB] = [
        (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
        (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
    ]

    static let cubeLevels: [UInt8] = [0, 95, 135, 175, 215, 255]

    static func rgb(ofIndex index: Int) -> RGB {
        switch index {
        case 0..<16: return ansi[index]
        case 16..<232:
            let n = index - 16
            return (cubeLevels[n / 36], cubeLevels[(n / 6) % 6], cubeLevels[n % 6])
        default:
            let level = UInt8(8 + 10 * (min(index, 255) - 232))
            return (level, level, level)
        }
    }

    /// The palette index in `candidates` closest to `color` ("redmean" weighted distance: cheap, and closer
    /// to what eyes see than plain RGB distance). Ties go to the lower index.
    static func nearest(to color: RGB, among candidates: Range<Int>) -> Int {
        var best = candidates.lowerBound
        var bestDistance = Int.max
        for index in candidates {
            let distance = self.distance(color, rgb(ofIndex: index))
            if distance < bestDistance {
                best = index
                bestDistance = distance
            }
        }
        return best
    }

    static func distance(_ a: RGB, _ b: RGB) -> Int {
        let meanRed = (Int(a.0) + Int(b.0)) / 2
        let dr = Int(a.0) - Int(b.0), dg = Int(a.1) - Int(b.1), db = Int(a.2) - Int(b.2)
        return (((512 + meanRed) * dr * dr) >> 8) + 4 * dg * dg + (((767 - meanRed) * db * db) >> 8)
    }
}
