import TOMLKit
import ViewerModel

/// Turns a theme file's bytes into a `Theme`. The file is hostile input: its size is bounded, its text
/// must be UTF-8 without NUL, and every key and value is checked; the first problem (by line) is the
/// error, naming its key and line.
public enum ThemeParser {
    /// Larger files are refused before parsing (the shipped themes are about 2 KiB).
    public static let maximumBytes = 64 * 1024

    public static func parse(bytes: [UInt8], source: String) throws(ThemeError) -> Theme {
        guard bytes.count <= maximumBytes else {
            throw ThemeError(source: source, "the file is larger than \(maximumBytes / 1024) KiB; a theme is a few KiB")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ThemeError(source: source, line: lineOfFirstInvalidUTF8(bytes), "the file is not UTF-8 text")
        }
        // TOMLKit hands the text to C as a NUL-terminated string: a NUL would silently end the file early.
        if let nul = bytes.firstIndex(of: 0) {
            throw ThemeError(source: source, line: line(ofOffset: nul, in: bytes), "the file contains a NUL byte")
        }
        if let (line, hazard) = TOMLHazards.firstHazard(in: bytes) {
            throw ThemeError(source: source, line: line, hazard.description)
        }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ThemeError(source: source, line: error.source.begin.line, "TOML syntax: \(ThemeError.printable(error.description))")
        } catch {
            throw ThemeError(source: source, "TOML syntax: \(error)")
        }
        var reader = Reader(source: source, locator: TOMLKeyLocator(text: text))
        let theme = reader.theme(from: table)
        if let first = reader.problems.min(by: { ($0.line ?? Int.max) < ($1.line ?? Int.max) }) {
            throw first
        }
        return theme
    }

    private static func line(ofOffset offset: Int, in bytes: [UInt8]) -> Int {
        1 + bytes[..<offset].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
    }

    private static func lineOfFirstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
        var offset = 0
        var decoder = UTF8()
        var iterator = bytes.makeIterator()
        var consumed = 0
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                consumed += UTF8.width(scalar)
                offset = consumed
            case .emptyInput:
                return nil
            case .error:
                return line(ofOffset: min(offset, bytes.count), in: bytes)
            }
        }
    }

    /// Walks the parsed table, collecting problems instead of stopping at the first, so that the one
    /// reported is the first in the file (TOMLKit's tables are not in file order).
    private struct Reader {
        let source: String
        let locator: TOMLKeyLocator
        var problems: [ThemeError] = []

        init(source: String, locator: TOMLKeyLocator) {
            self.source = source
            self.locator = locator
        }

        mutating func problem(_ path: [String], _ message: String) {
            problems.append(ThemeError(source: source, line: locator.line(of: path), key: path.joined(separator: "."), message))
        }

        mutating func theme(from root: TOMLTable) -> Theme {
            var name = source
            var styles: [StyleRole: ThemeStyle] = [:]
            for key in root.keys {
                guard let value = root[key] else { continue }
                switch key {
                case "theme":
                    guard let table = value.table else {
                        problem([key], "must be a table ([theme]), found \(describe(value))")
                        continue
                    }
                    if let found = metadata(table) { name = found }
                case "styles":
                    guard let table = value.table else {
                        problem([key], "must be a table ([styles]), found \(describe(value))")
                        continue
                    }
                    styles = self.styles(table)
                default:
                    problem([key], "unknown key; a theme has [theme] and [styles]")
                }
            }
            if root["styles"] == nil {
                problems.append(ThemeError(source: source, "no [styles] table; docs/themes.md lists the style roles"))
            }
            return Theme(name: name, source: source, styles: styles)
        }

        mutating func metadata(_ table: TOMLTable) -> String? {
            var name: String?
            for key in table.keys {
                guard let value = table[key] else { continue }
                switch key {
                case "name", "description":
                    guard let text = value.string else {
                        problem(["theme", key], "must be a string, found \(describe(value))")
                        continue
                    }
                    if text.unicodeScalars.count > 200 { problem(["theme", key], "longer than 200 characters") }
                    if key == "name" { name = text }
                default:
                    problem(["theme", key], "unknown key; [theme] has name and description")
                }
            }
            return name
        }

        mutating func styles(_ table: TOMLTable) -> [StyleRole: ThemeStyle] {
            var styles: [StyleRole: ThemeStyle] = [:]
            for key in table.keys {
                guard let value = table[key] else { continue }
                guard let role = StyleRole(rawValue: key) else {
                    problem(["styles", key], "unknown style role; the roles are \(StyleRole.allCases.map(\.rawValue).joined(separator: ", "))")
                    continue
                }
                guard let entry = value.table else {
                    problem(["styles", key], "must be a table such as { fg = \"red\", attributes = [\"bold\"] }, found \(describe(value))")
                    continue
                }
                styles[role] = style(entry, path: ["styles", key])
            }
            return styles
        }

        mutating func style(_ table: TOMLTable, path: [String]) -> ThemeStyle {
            var style = ThemeStyle()
            for key in table.keys {
                guard let value = table[key] else { continue }
                switch key {
                case "fg": style.foreground = color(value, path: path + [key])
                case "bg": style.background = color(value, path: path + [key])
                case "attributes": style.attributes = attributes(value, path: path + [key])
                default: problem(path + [key], "unknown key; a style has fg, bg and attributes")
                }
            }
            return style
        }

        mutating func color(_ value: TOMLValueConvertible, path: [String]) -> ThemeColor {
            let expected = "a colour name (\(ThemeColor.ansiNames.prefix(3).joined(separator: ", ")), … bright-white), default, \"#rrggbb\", or 0-255"
            if value.type == .int, let index = value.int {
                guard (0...255).contains(index) else {
                    problem(path, "colour index \(index) is not in 0-255")
                    return .terminalDefault
                }
                return .indexed(index)
            }
            guard let name = value.string else {
                problem(path, "must be \(expected), found \(describe(value))")
                return .terminalDefault
            }
            guard let color = ThemeColor(name: name) else {
                problem(path, "unknown colour \(ThemeError.quoted(name)); expected \(expected)")
                return .terminalDefault
            }
            return color
        }

        mutating func attributes(_ value: TOMLValueConvertible, path: [String]) -> ThemeAttributes {
            let known = ThemeAttributes.named.map(\.name).joined(separator: ", ")
            guard let array = value.array else {
                problem(path, "must be a list such as [\"bold\", \"underline\"], found \(describe(value))")
                return []
            }
            var attributes: ThemeAttributes = []
            for element in array {
                guard let name = element.string else {
                    problem(path, "must list attribute names (\(known)), found \(describe(element))")
                    continue
                }
                guard let attribute = ThemeAttributes.named.first(where: { $0.name == name })?.attribute else {
                    problem(path, "unknown attribute \(ThemeError.quoted(name)); the attributes are \(known)")
                    continue
                }
                attributes.insert(attribute)
            }
            return attributes
        }

        func describe(_ value: TOMLValueConvertible) -> String {
            switch value.type {
            case .table: "a table"
            case .array: "a list"
            case .string: "a string"
            case .int: "an integer"
            case .double: "a number"
            case .bool: "a boolean"
            case .date, .time, .dateTime: "a date or time"
            }
        }
    }
}
