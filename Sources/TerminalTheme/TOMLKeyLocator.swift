/// Finds the line a dotted key is written on, by scanning the TOML text: TOMLKit reports lines for syntax
/// errors only, and a theme error must name the line of a wrong key or value too. Understands table
/// headers (`[styles]`, `[styles.violation]`), dotted and quoted keys, and keys inside one-line inline
/// tables (`violation = { fg = "red" }`) — all that a theme file needs. Nil when not found.
struct TOMLKeyLocator {
    private let lines: [Substring]

    init(text: String) {
        lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    }

    func line(of path: [String]) -> Int? {
        var table: [String] = []
        var best: Int?
        for (index, rawLine) in lines.enumerated() {
            let line = rawLine.drop { $0 == " " || $0 == "\t" }
            if line.hasPrefix("[") {
                let isArrayHeader = line.hasPrefix("[[")
                let inner = line.dropFirst(isArrayHeader ? 2 : 1)
                guard let (keys, _) = Self.parseKey(inner) else { continue }
                table = keys
                if table == path { return index + 1 }
                if best == nil, path.starts(with: table), !table.isEmpty, table.count < path.count { best = index + 1 }
                continue
            }
            guard let (keys, rest) = Self.parseKey(line), rest.first == "=" else { continue }
            let full = table + keys
            if full == path { return index + 1 }
            if path.starts(with: full), full.count < path.count {
                // An inline table on this line: look for the remaining key inside it.
                if Self.containsKey(path[full.count...], in: rest.dropFirst()) { return index + 1 }
                best = best ?? index + 1
            }
        }
        return best
    }

    /// Whether `keys` (one or more, nested inline tables) appear as `key =` in an inline table's text.
    private static func containsKey(_ keys: ArraySlice<String>, in text: Substring) -> Bool {
        var rest = text
        for key in keys {
            guard let found = findKeyAssignment(key, in: rest) else { return false }
            rest = found
        }
        return true
    }

    private static func findKeyAssignment(_ key: String, in text: Substring) -> Substring? {
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character == "{" || character == "," || index == text.startIndex {
                let start = character == "{" || character == "," ? text.index(after: index) : index
                if let (keys, rest) = parseKey(text[start...].drop { $0 == " " || $0 == "\t" }), rest.first == "=",
                   keys.first == key {
                    return rest.dropFirst()
                }
            }
            index = text.index(after: index)
        }
        return nil
    }

    /// Parses a dotted key (`a.b`, `"c d".e`) at the start of `text`; returns the keys and the text after
    /// it (spaces skipped), or nil when there is no key there.
    static func parseKey(_ text: Substring) -> ([String], Substring)? {
        var keys: [String] = []
        var rest = text.drop { $0 == " " || $0 == "\t" }
        while true {
            guard let first = rest.first else { return nil }
            if first == "\"" || first == "'" {
                let body = rest.dropFirst()
                guard let close = body.firstIndex(of: first) else { return nil }
                keys.append(String(body[..<close]))
                rest = body[body.index(after: close)...]
            } else {
                let bare = rest.prefix { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
                guard !bare.isEmpty else { return nil }
                keys.append(String(bare))
                rest = rest[bare.endIndex...]
            }
            rest = rest.drop { $0 == " " || $0 == "\t" }
            if rest.first == "." {
                rest = rest.dropFirst().drop { $0 == " " || $0 == "\t" }
                continue
            }
            if rest.first == "]" { rest = rest.dropFirst() }
            return (keys, rest)
        }
    }
}
