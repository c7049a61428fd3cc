/// A JSON value rendered as Foundation's `JSONEncoder` renders with `[.prettyPrinted, .sortedKeys,
/// .withoutEscapingSlashes]` — `check --json` had that format before it moved here, and keeps it
/// byte for byte: two-space indent, `"key" : value`, members sorted by the UTF-8 bytes of their keys, an
/// empty array or object as `[`, an empty line, `]`; `"`, `\` and control characters escaped (`\b`, `\t`,
/// `\n`, `\f`, `\r`, else `\u00xx`), everything else (`/`, U+007F, non-ASCII) as it is.
public indirect enum PrettyJSON: Sendable, Equatable {
    case string(String)
    case int(Int64)
    case uint(UInt64)
    case bool(Bool)
    case array([PrettyJSON])
    /// Members in any order (rendered sorted); an absent optional is simply not a member.
    case object([(String, PrettyJSON)])

    public static func == (lhs: PrettyJSON, rhs: PrettyJSON) -> Bool {
        switch (lhs, rhs) {
        case (.string(let a), .string(let b)): a == b
        case (.int(let a), .int(let b)): a == b
        case (.uint(let a), .uint(let b)): a == b
        case (.bool(let a), .bool(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)): a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    /// The text, without a final newline.
    public func rendered() -> String {
        var out: [UInt8] = []
        write(into: &out, indent: 0)
        return String(decoding: out, as: UTF8.self)
    }

    private func write(into out: inout [UInt8], indent: Int) {
        switch self {
        case .string(let text): Self.string(text, into: &out)
        case .int(let value): out += String(value).utf8
        case .uint(let value): out += String(value).utf8
        case .bool(let value): out += (value ? "true" : "false").utf8
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            Self.members(elements.count, into: &out, indent: indent) { number, out in
                elements[number].write(into: &out, indent: indent + 2)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            let sorted = members.sorted { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
            out.append(UInt8(ascii: "{"))
            Self.members(sorted.count, into: &out, indent: indent) { number, out in
                Self.string(sorted[number].0, into: &out)
                out += " : ".utf8
                sorted[number].1.write(into: &out, indent: indent + 2)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// The inside of a container: each member on its own line, indented; none is an empty line.
    private static func members(_ count: Int, into out: inout [UInt8], indent: Int, _ member: (Int, inout [UInt8]) -> Void) {
        out.append(0x0A)
        for number in 0..<count {
            out += repeatElement(UInt8(ascii: " "), count: indent + 2)
            member(number, &out)
            if number < count - 1 { out.append(UInt8(ascii: ",")) }
            out.append(0x0A)
        }
        if count == 0 { out.append(0x0A) }
        out += repeatElement(UInt8(ascii: " "), count: indent)
    }

    private static func string(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += #"\""#.utf8
            case UInt8(ascii: "\\"): out += #"\\"#.utf8
            case 0x08: out += #"\b"#.utf8
            case 0x09: out += #"\t"#.utf8
            case 0x0A: out += #"\n"#.utf8
            case 0x0C: out += #"\f"#.utf8
            case 0x0D: out += #"\r"#.utf8
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += #"\u00"#.utf8
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
