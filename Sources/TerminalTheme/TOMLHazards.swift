/// Input that TOMLKit's parser (toml++ 3) must not see, because it asserts instead of reporting an error
/// (an abort in a debug build, an assumed-false condition in a release build). Found by
/// ThemeMutationTests and probed case by case:
/// - a `}` where an array element is expected: `a = [}]`, `a = [1, }]` (`!is_value_terminator(*cp)`);
/// - a table header whose first key starts with anything but an ASCII bare-key character, a quote or
///   `]`: `[#`, `[=]`, `[é]`, `[` at the end of a line, and — found by the theme fuzzer — a third `[`
///   (`[[[x]]]`), a lone carriage return (`[[\r`), a header after a byte order mark (`\u{FEFF}[,]`)
///   (`is_bare_key_character(*cp) || …`).
/// This scan finds both, outside strings and comments, before parsing.
enum TOMLHazards {
    /// What the first hazard is, said the way a TOML error would be.
    enum Hazard: Equatable {
        case braceForListElement
        case headerWithoutKey

        var description: String {
            switch self {
            case .braceForListElement: "TOML syntax: `}` where a list element is expected"
            case .headerWithoutKey: "TOML syntax: a table header must start with a key (a letter, digit, `_`, `-` or a quote)"
            }
        }
    }

    /// The 1-based line of the first hazard, or nil.
    static func firstHazardLine(in bytes: [UInt8]) -> Int? { firstHazard(in: bytes)?.line }

    /// The first hazard and its 1-based line, or nil.
    static func firstHazard(in bytes: [UInt8]) -> (line: Int, hazard: Hazard)? {
        var line = 1
        var index = 0
        var open: [UInt8] = []
        var expectingElement = false
        var expectingHeaderKey = false
        var headerBrackets = 0
        var atLineStart = true
        let count = bytes.count
        // toml++ drops a leading byte order mark, so what follows it starts the first line.
        if count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { index = 3 }
        while index < count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\n"):
                if expectingHeaderKey { return (line, .headerWithoutKey) }
                line += 1
                index += 1
                atLineStart = true
                continue
            case UInt8(ascii: " "), UInt8(ascii: "\t"):
                index += 1
                continue
            // A carriage return is whitespace only before a newline; toml++ takes a lone one as a key character's place.
            case UInt8(ascii: "\r") where index + 1 < count && bytes[index + 1] == UInt8(ascii: "\n"):
                index += 1
                continue
            case UInt8(ascii: "#"):
                if expectingHeaderKey { return (line, .headerWithoutKey) }
                while index < count, bytes[index] != UInt8(ascii: "\n") { index += 1 }
                continue
            default:
                break
            }
            if expectingElement, byte == UInt8(ascii: "}") { return (line, .braceForListElement) }
            expectingElement = false
            if expectingHeaderKey {
                if byte == UInt8(ascii: "["), headerBrackets == 1, bytes[index - 1] == UInt8(ascii: "[") {
                    headerBrackets = 2 // `[[`: an array-of-tables header; a third `[` is a key, and a hazard
                    index += 1
                    continue
                }
                guard isBareKeyByte(byte) || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") || byte == UInt8(ascii: "]") else {
                    return (line, .headerWithoutKey)
                }
                expectingHeaderKey = false
            }
            let startsStatement = atLineStart && open.isEmpty
            atLineStart = false
            if startsStatement, byte == UInt8(ascii: "[") {
                expectingHeaderKey = true
                headerBrackets = 1
                open.append(byte)
                index += 1
                continue
            }
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                index = skipString(bytes, from: index, line: &line)
                continue
            case UInt8(ascii: "["):
                open.append(byte)
                expectingElement = true
            case UInt8(ascii: "{"):
                open.append(byte)
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                _ = open.popLast()
            case UInt8(ascii: ","):
                expectingElement = open.last == UInt8(ascii: "[")
            default:
                break
            }
            index += 1
        }
        return expectingHeaderKey ? (line, .headerWithoutKey) : nil
    }

    private static func isBareKeyByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }

    /// Skips a basic or literal string, one-line or multi-line (`"""`, `'''`), counting its newlines;
    /// returns the index after it (or the end of the line or file when it is not closed: the parser
    /// reports that).
    private static func skipString(_ bytes: [UInt8], from start: Int, line: inout Int) -> Int {
        let quote = bytes[start]
        let escapes = quote == UInt8(ascii: "\"")
        let count = bytes.count
        let multiline = start + 2 < count && bytes[start + 1] == quote && bytes[start + 2] == quote
        var index = start + (multiline ? 3 : 1)
        while index < count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\n") {
                if !multiline { return index }
                line += 1
            } else if escapes, byte == UInt8(ascii: "\\") {
                if index + 1 < count, bytes[index + 1] == UInt8(ascii: "\n") { line += 1 }
                index += 2
                continue
            } else if byte == quote {
                if !multiline { return index + 1 }
                if index + 2 < count, bytes[index + 1] == quote, bytes[index + 2] == quote { return index + 3 }
            }
            index += 1
        }
        return count
    }
}
