/// Why a theme could not be used: where (file and line, when known), which key, and what is wrong.
public struct ThemeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file path, or the name that was asked for.
    public var source: String
    /// 1-based line in the file, when the problem is at one.
    public var line: Int?
    /// The dotted key (`styles.violation.fg`), when the problem is at one.
    public var key: String?
    public var message: String

    public init(source: String, line: Int? = nil, key: String? = nil, _ message: String) {
        self.source = source
        self.line = line
        self.key = key
        self.message = message
    }

    /// `theme.toml:12: styles.violation.fg: unknown colour "redd" (…)`: file, line and key printable even
    /// when the file is hostile (control characters escaped).
    public var description: String {
        var text = "theme " + Self.printable(source)
        if let line { text += ":\(line)" }
        text += ": "
        if let key { text += Self.printable(key) + ": " }
        return text + message
    }

    /// Text from a hostile file, safe to print on a terminal: control characters and bidi overrides as
    /// `\u{…}` escapes, and at most 80 characters.
    static func printable(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars.prefix(80) {
            let v = scalar.value
            if v < 0x20 || (v >= 0x7F && v < 0xA0) || (v >= 0x202A && v <= 0x202E) || (v >= 0x2066 && v <= 0x2069) {
                result += "\\u{\(String(v, radix: 16))}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        if text.unicodeScalars.count > 80 { result += "…" }
        return result
    }

    /// A value from the file quoted for a message.
    static func quoted(_ text: String) -> String { "\"" + printable(text) + "\"" }
}
