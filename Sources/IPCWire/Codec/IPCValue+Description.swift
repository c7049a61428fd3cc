extension IPCValue: CustomStringConvertible {
    /// A compact one-line rendering: `true`, `42`, `"http"`, `[3 bytes: 01 02 03]`, `fd#0 (file)`,
    /// `Loading (1)`, `none`, `[1, 2]`, `{"a": 1}`, `(x: …)` is left to viewers that know field names.
    public var description: String {
        switch self {
        case .bool(let raw):
            switch raw {
            case 0: return "false"
            case 1: return "true"
            default: return "bool(0x\(String(raw, radix: 16)))"
            }
        case .signed(let number): return String(number)
        case .unsigned(let number): return String(number)
        case .float(let number): return "\(number)"
        case .double(let number): return "\(number)"
        case .string(let text): return Self.quoted(text)
        case .bytes(let raw): return Self.hex(raw, total: raw.count)
        case .elided(let prefix, let total):
            switch prefix {
            case .bytes(let raw): return Self.hex(raw, total: total)
            case .string(let text): return Self.quoted(text) + "… (\(total) total)"
            case .list(let items): return "[" + items.map(\.description).joined(separator: ", ") + ", … (\(total) total)]"
            default: return prefix.description + "… (\(total) total)"
            }
        case .attachment(let attachment):
            var text = "fd#\(attachment.index) (\(attachment.kind.rawValue)"
            if let size = attachment.bufferSize { text += ", \(size) bytes" }
            return text + ")"
        case .enumCase(let name, let raw): return name.map { "\($0) (\(raw))" } ?? "unknown enum value \(raw)"
        case .absent: return "none"
        case .present(let inner): return inner.description
        case .empty: return "{}"
        case .list(let items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .map(let entries):
            return "{" + entries.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
        case .structure(let fields): return "(" + fields.map(\.description).joined(separator: ", ") + ")"
        case .variant(let index, let inner): return "#\(index) \(inner)"
        }
    }

    private static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                result += "\\u{" + String(scalar.value, radix: 16) + "}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }

    private static func hex(_ raw: [UInt8], total: Int) -> String {
        let shown = raw.prefix(32).map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }
        let more = total > shown.count ? " …" : ""
        return "[\(total) bytes: " + shown.joined(separator: " ") + more + "]"
    }
}
