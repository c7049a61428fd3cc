/// A cursor over the UTF-8 bytes of a schema file that keeps track of lines for error locations.
///
/// Works on bytes so that scanning a large file is linear and cheap; columns are counted in Unicode
/// scalars only when a location is asked for.
struct SchemaScanner {
    let file: String
    private let bytes: [UInt8]
    /// One past the last byte this scanner may read (a sub-scanner can stop at the end of a line).
    private var end: Int
    /// The end of the whole input, which a limited scanner keeps so that it can continue on the next line.
    private let inputEnd: Int
    private(set) var position: Int
    private var line = 1
    /// Column of `position`, in Unicode scalars (kept incrementally so locations cost nothing).
    private var column = 1

    init(text: String, file: String) {
        self.init(bytes: Array(text.utf8), file: file)
    }

    init(bytes: [UInt8], file: String) {
        self.file = file
        self.bytes = bytes
        self.end = bytes.count
        self.inputEnd = bytes.count
        self.position = 0
    }

    /// A scanner that reads from here up to (not including) `end`, e.g. one comment line.
    func limited(to end: Int) -> SchemaScanner {
        var copy = self
        copy.end = min(end, self.end)
        return copy
    }

    var isAtEnd: Bool { position >= end }

    /// At the end of a limited line, moves onto the next line when that line (after spaces) is a `//`
    /// comment, past the `//`, and limits the scanner to that line: multi-line `@ipcscope` declarations.
    mutating func continueOnNextCommentLine() -> Bool {
        guard position == end, end < inputEnd, bytes[end] == UInt8(ascii: "\n") else { return false }
        var index = end + 1
        while index < inputEnd, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") || bytes[index] == UInt8(ascii: "\r") {
            index += 1
        }
        guard index + 1 < inputEnd, bytes[index] == UInt8(ascii: "/"), bytes[index + 1] == UInt8(ascii: "/") else { return false }
        var lineEnd = index
        while lineEnd < inputEnd, bytes[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
        // Step over the line break (counted as a new line) and on to just after `//`.
        end = lineEnd
        while position < index + 2 { advance() }
        return true
    }

    /// Takes over the position of `other`, a limited copy of this scanner that read further.
    mutating func resume(at other: SchemaScanner) {
        position = other.position
        line = other.line
        column = other.column
    }

    func peek(_ offset: Int = 0) -> UInt8? {
        let index = position + offset
        return index < end ? bytes[index] : nil
    }

    var peekIsSpace: Bool {
        guard let byte = peek() else { return false }
        return byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
    }

    mutating func advance() {
        guard position < end else { return }
        let byte = bytes[position]
        if byte == UInt8(ascii: "\n") {
            line += 1
            column = 1
        } else if byte & 0xC0 != 0x80 {
            // A UTF-8 continuation byte does not start a new column.
            column += 1
        }
        position += 1
    }

    mutating func advance(by count: Int) {
        for _ in 0..<count { advance() }
    }

    /// True (and consumed) when the bytes at the cursor spell `literal`.
    mutating func consume(_ literal: String) -> Bool {
        guard matches(literal) else { return false }
        advance(by: literal.utf8.count)
        return true
    }

    func matches(_ literal: String) -> Bool {
        var index = position
        for byte in literal.utf8 {
            guard index < end, bytes[index] == byte else { return false }
            index += 1
        }
        return true
    }

    var location: SourceLocation {
        SourceLocation(file: file, line: line, column: column)
    }

    /// Skips spaces and tabs, and line breaks too when asked.
    mutating func skipSpaces(includingNewlines: Bool) {
        while let byte = peek() {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), 0x0B, 0x0C:
                // A lone '\r' is the first half of a CRLF line break: treat it as a space.
                advance()
            case UInt8(ascii: "\n") where includingNewlines:
                advance()
            default:
                return
            }
        }
    }

    /// Index of the next `\n` at or after the cursor, or the end.
    var endOfLine: Int {
        var index = position
        while index < end, bytes[index] != UInt8(ascii: "\n") { index += 1 }
        return index
    }

    /// Moves to the next `\n` (not past it).
    mutating func skipToEndOfLine() {
        let target = endOfLine
        while position < target { advance() }
    }

    func text(from begin: Int) -> String {
        String(decoding: bytes[begin..<position], as: UTF8.self)
    }

    func text(_ range: Range<Int>) -> String {
        String(decoding: bytes[range], as: UTF8.self)
    }

    /// The character at the cursor, for messages (`end of file` at the end).
    var currentCharacterText: String {
        guard let first = peek() else { return "end of file" }
        if first == UInt8(ascii: "\n") { return "end of line" }
        let length: Int
        switch first {
        case 0xF0...0xF7: length = 4
        case 0xE0...0xEF: length = 3
        case 0xC0...0xDF: length = 2
        default: length = 1
        }
        return String(decoding: bytes[position..<min(position + length, end)], as: UTF8.self)
    }

    /// Reads `[A-Za-z_][A-Za-z0-9_]*`; empty when the cursor is not at one.
    mutating func readIdentifier() -> String {
        guard let first = peek(), SchemaScanner.isIdentifierStart(first) else { return "" }
        let begin = position
        while let byte = peek(), SchemaScanner.isIdentifierByte(byte) { advance() }
        return text(from: begin)
    }

    static func isIdentifierStart(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || byte == UInt8(ascii: "_")
    }

    static func isIdentifierByte(_ byte: UInt8) -> Bool {
        isIdentifierStart(byte) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }
}
