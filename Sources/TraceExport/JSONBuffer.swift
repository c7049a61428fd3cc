/// A byte buffer that JSON is written into, flushed to an ``ExportOutput`` as it fills: the exporters
/// build no strings and no Foundation objects per event.
///
/// Strings: the escaper writes `"`, `\` and control characters (U+0000–U+001F, U+007F) as escapes
/// (`\n`, `\t`, `\u00XX`, …), passes valid UTF-8 through unchanged, and replaces each byte of an invalid
/// UTF-8 sequence with U+FFFD (so every output is valid UTF-8 JSON; docs/export.md). Raw bytes that
/// must survive exactly (payloads) are written as base64 instead.
public struct JSONBuffer {
    public private(set) var bytes: [UInt8] = []
    /// Whether the current object or array already has a member (a comma goes before the next).
    private var needsComma: [Bool] = []

    public init(capacity: Int = 1 << 16) { bytes.reserveCapacity(capacity) }

    public mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }

    @inline(__always) mutating func raw(_ byte: UInt8) { bytes.append(byte) }
    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    // MARK: structure

    public mutating func beginObject() { separate(); raw(UInt8(ascii: "{")); needsComma.append(false) }
    public mutating func endObject() { needsComma.removeLast(); raw(UInt8(ascii: "}")) }
    public mutating func beginArray() { separate(); raw(UInt8(ascii: "[")); needsComma.append(false) }
    public mutating func endArray() { needsComma.removeLast(); raw(UInt8(ascii: "]")) }

    /// A member name; the value written next is its value.
    public mutating func key(_ name: StaticString) {
        separate()
        raw(UInt8(ascii: "\""))
        raw(name)
        raw(UInt8(ascii: "\""))
        raw(UInt8(ascii: ":"))
        pendingValueAfterKey = true  // the value that follows gets no comma of its own
    }

    /// A member name known only at run time (escaped like any string).
    public mutating func key(text name: String) {
        string(name)
        raw(UInt8(ascii: ":"))
        pendingValueAfterKey = true
    }

    private var pendingValueAfterKey = false

    private mutating func separate() {
        if pendingValueAfterKey {
            pendingValueAfterKey = false
            return
        }
        guard !needsComma.isEmpty else { return }
        if needsComma[needsComma.count - 1] { raw(UInt8(ascii: ",")) }
        needsComma[needsComma.count - 1] = true
    }

    // MARK: values

    public mutating func null() { separate(); raw("null") }
    public mutating func bool(_ value: Bool) { separate(); raw(value ? "true" : "false") }

    public mutating func int(_ value: Int64) {
        separate()
        if value < 0 {
            raw(UInt8(ascii: "-"))
            digits(value == .min ? UInt64(Int64.max) + 1 : UInt64(-value))
        } else {
            digits(UInt64(value))
        }
    }

    public mutating func uint(_ value: UInt64) { separate(); digits(value) }

    /// Seconds with nanosecond precision (`12.000345678`) from a signed nanosecond count, without Double.
    public mutating func seconds(nanoseconds value: Int64) {
        separate()
        var magnitude = value.magnitude
        if value < 0 { raw(UInt8(ascii: "-")) }
        digits(magnitude / 1_000_000_000)
        magnitude %= 1_000_000_000
        raw(UInt8(ascii: "."))
        var divisor: UInt64 = 100_000_000
        while divisor > 0 {
            raw(UInt8(ascii: "0") &+ UInt8(magnitude / divisor))
            magnitude %= divisor
            divisor /= 10
        }
    }

    /// Microseconds with three decimals (Chrome's `ts`/`dur` unit) from a signed nanosecond count.
    public mutating func microseconds(nanoseconds value: Int64) {
        separate()
        var magnitude = value.magnitude
        if value < 0 { raw(UInt8(ascii: "-")) }
        digits(magnitude / 1000)
        magnitude %= 1000
        raw(UInt8(ascii: "."))
        raw(UInt8(ascii: "0") &+ UInt8(magnitude / 100))
        raw(UInt8(ascii: "0") &+ UInt8(magnitude / 10 % 10))
        raw(UInt8(ascii: "0") &+ UInt8(magnitude % 10))
    }

    private mutating func digits(_ value: UInt64) {
        if value < 10 { raw(UInt8(ascii: "0") &+ UInt8(value)); return }
        var scratch: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes ≥ 20 digits
        let count = withUnsafeMutableBytes(of: &scratch) { buffer -> Int in
            var v = value, i = buffer.count
            while v > 0 { i -= 1; buffer[i] = UInt8(ascii: "0") &+ UInt8(v % 10); v /= 10 }
            bytes.append(contentsOf: buffer[i...])
            return buffer.count - i
        }
        _ = count
    }

    public mutating func string(_ text: StaticString) {
        separate()
        raw(UInt8(ascii: "\""))
        raw(text)
        raw(UInt8(ascii: "\""))
    }

    public mutating func string(_ text: String) {
        var text = text
        text.withUTF8 { string(bytes: UnsafeRawBufferPointer($0)) }
    }

    public mutating func string(bytes text: [UInt8]) {
        text.withUnsafeBytes { string(bytes: $0) }
    }

    /// A JSON string of arbitrary bytes: see the type's comment for what is escaped and replaced.
    public mutating func string(bytes text: UnsafeRawBufferPointer) {
        separate()
        raw(UInt8(ascii: "\""))
        var index = 0
        let count = text.count
        while index < count {
            let byte = text[index]
            if byte >= 0x20 && byte < 0x7F && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") {
                raw(byte)
                index += 1
                continue
            }
            if byte < 0x80 {
                escape(byte)
                index += 1
                continue
            }
            let length = Self.validSequenceLength(text, at: index)
            if length == 0 {
                bytes.append(contentsOf: [0xEF, 0xBF, 0xBD])  // U+FFFD for one invalid byte
                index += 1
            } else {
                bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: text[index..<index + length]))
                index += length
            }
        }
        raw(UInt8(ascii: "\""))
    }

    private mutating func escape(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): raw("\\\"")
        case UInt8(ascii: "\\"): raw("\\\\")
        case 0x0A: raw("\\n")
        case 0x0D: raw("\\r")
        case 0x09: raw("\\t")
        case 0x08: raw("\\b")
        case 0x0C: raw("\\f")
        default:
            let hex: [UInt8] = Array("0123456789abcdef".utf8)
            raw("\\u00")
            raw(hex[Int(byte >> 4)])
            raw(hex[Int(byte & 0xF)])
        }
    }

    /// The length of the well-formed UTF-8 sequence starting at `index` (Unicode Table 3-7), or 0.
    static func validSequenceLength(_ text: UnsafeRawBufferPointer, at index: Int) -> Int {
        let lead = text[index]
        let remaining = text.count - index
        func continuation(_ offset: Int, _ low: UInt8 = 0x80, _ high: UInt8 = 0xBF) -> Bool {
            offset < remaining && text[index + offset] >= low && text[index + offset] <= high
        }
        switch lead {
        case 0xC2...0xDF: return continuation(1) ? 2 : 0
        case 0xE0: return continuation(1, 0xA0) && continuation(2) ? 3 : 0
        case 0xE1...0xEC, 0xEE...0xEF: return continuation(1) && continuation(2) ? 3 : 0
        case 0xED: return continuation(1, 0x80, 0x9F) && continuation(2) ? 3 : 0
        case 0xF0: return continuation(1, 0x90) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF1...0xF3: return continuation(1) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF4: return continuation(1, 0x80, 0x8F) && continuation(2) && continuation(3) ? 4 : 0
        default: return 0
        }
    }

    /// Base64 (RFC 4648, padded) of `data` as a JSON string.
    public mutating func base64(_ data: [UInt8]) {
        separate()
        raw(UInt8(ascii: "\""))
        let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var i = 0
        while i + 3 <= data.count {
            let n = UInt32(data[i]) << 16 | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2])
            raw(alphabet[Int(n >> 18 & 63)]); raw(alphabet[Int(n >> 12 & 63)])
            raw(alphabet[Int(n >> 6 & 63)]); raw(alphabet[Int(n & 63)])
            i += 3
        }
        let rest = data.count - i
        if rest > 0 {
            let n = UInt32(data[i]) << 16 | (rest == 2 ? UInt32(data[i + 1]) << 8 : 0)
            raw(alphabet[Int(n >> 18 & 63)]); raw(alphabet[Int(n >> 12 & 63)])
            raw(rest == 2 ? alphabet[Int(n >> 6 & 63)] : UInt8(ascii: "="))
            raw(UInt8(ascii: "="))
        }
        raw(UInt8(ascii: "\""))
    }

    /// Ends a JSONL line (between top-level values).
    public mutating func newline() { raw(0x0A) }
}
