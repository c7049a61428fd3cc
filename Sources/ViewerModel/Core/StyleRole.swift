/// What a cell means, not how it looks: views say `.violation`, a theme says what colour that is.
/// Theme files (Themes/*.toml) use these names as keys, so renaming a case breaks users' themes.
public enum StyleRole: String, CaseIterable, Sendable, Hashable {
    case normal
    case dim
    case title
    case border
    case borderActive = "border-active"
    case selection
    case statusBar = "status-bar"
    case laneHeader = "lane-header"
    case lane
    case message
    case sync
    case response
    case ack
    case eof
    case transfer
    case violation
    case warning
    case error
    case queueBar = "queue-bar"
    case queueLimit = "queue-limit"
    case timeMarker = "time-marker"
    case hexHighlight = "hex-highlight"
    case match
    case prompt
    case helpKey = "help-key"
}

/// A role plus the attributes a view may add on top of the theme's choice for that role.
public struct CellStyle: Hashable, Sendable {
    public var role: StyleRole
    public var bold: Bool
    public var underline: Bool
    /// Swap foreground and background (the selected row, the cursor).
    public var reverse: Bool

    public init(_ role: StyleRole = .normal, bold: Bool = false, underline: Bool = false, reverse: Bool = false) {
        self.role = role
        self.bold = bold
        self.underline = underline
        self.reverse = reverse
    }

    public static let normal = CellStyle()
}
