import ViewerModel

/// Attributes a theme may give a style role (the viewer adds bold, underline and reverse per cell on top).
public struct ThemeAttributes: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let bold = ThemeAttributes(rawValue: 1 << 0)
    public static let dim = ThemeAttributes(rawValue: 1 << 1)
    public static let underline = ThemeAttributes(rawValue: 1 << 2)
    public static let reverse = ThemeAttributes(rawValue: 1 << 3)
    public static let italic = ThemeAttributes(rawValue: 1 << 4)

    /// The names a theme file uses, in the order docs/themes.md lists them.
    public static let named: [(name: String, attribute: ThemeAttributes)] = [
        ("bold", .bold), ("dim", .dim), ("underline", .underline), ("reverse", .reverse), ("italic", .italic),
    ]
}

/// How one style role looks.
public struct ThemeStyle: Sendable, Hashable {
    public var foreground: ThemeColor
    public var background: ThemeColor
    public var attributes: ThemeAttributes

    public init(foreground: ThemeColor = .terminalDefault, background: ThemeColor = .terminalDefault, attributes: ThemeAttributes = []) {
        self.foreground = foreground
        self.background = background
        self.attributes = attributes
    }

    public static let plain = ThemeStyle()
}

/// A loaded theme: a style for every `StyleRole`. Roles a theme file leaves out look like `normal`.
public struct Theme: Sendable, Equatable {
    public var name: String
    /// Where it came from: a shipped theme's name or a file path (for messages).
    public var source: String
    public private(set) var styles: [StyleRole: ThemeStyle]
    /// Roles the file did not set (they use `normal`'s style). Shipped themes leave none out.
    public private(set) var missingRoles: [StyleRole]

    public init(name: String, source: String, styles: [StyleRole: ThemeStyle]) {
        self.name = name
        self.source = source
        let normal = styles[.normal] ?? .plain
        var complete: [StyleRole: ThemeStyle] = [:]
        var missing: [StyleRole] = []
        for role in StyleRole.allCases {
            if let style = styles[role] {
                complete[role] = style
            } else {
                complete[role] = normal
                missing.append(role)
            }
        }
        self.styles = complete
        self.missingRoles = missing
    }

    public subscript(role: StyleRole) -> ThemeStyle { styles[role] ?? .plain }

    /// Whether any role has a colour (false for mono and for a theme with colours stripped).
    public var usesColor: Bool {
        styles.values.contains { $0.foreground != .terminalDefault || $0.background != .terminalDefault }
    }

    /// The same theme with every colour replaced by the terminal's default (NO_COLOR): attributes stay.
    public func withoutColors() -> Theme {
        var copy = self
        for role in StyleRole.allCases {
            copy.styles[role]?.foreground = .terminalDefault
            copy.styles[role]?.background = .terminalDefault
        }
        return copy
    }

    /// Colour numbers for a terminal with `colors` colours (nil: the terminal's default). A pair whose
    /// foreground and background come out the same (bright colours folded onto 8) keeps the foreground
    /// and drops the background, so text never becomes invisible.
    public func terminalColors(role: StyleRole, colors: Int) -> (foreground: Int?, background: Int?) {
        let style = self[role]
        let foreground = style.foreground.terminalColor(colors: colors)
        let background = style.background.terminalColor(colors: colors)
        if foreground != nil, foreground == background { return (foreground, nil) }
        return (foreground, background)
    }
}
