/// Cuts filter text (UTF-8 bytes) into tokens, one at a time. Never reads outside the bytes and never
/// allocates more than the tokens' own text.
struct FilterLexer {
    let bytes: [UInt8]
    private(set) var position = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    private func byte(at index: Int) -> UInt8? { index < bytes.count ? bytes[index] : nil }

    static func isWordStart(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b == 0x2A || b == 0x3F || b == 0x2F || b >= 0x80
    }

    static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    static func isWordContinuation(_ b: UInt8) -> Bool {
        isWordStart(b) || isDigit(b) || b == 0x2E || b == 0x3A || b == 0x2D
    }

    /// `→` (U+2192) is E2 86 92 in UTF-8.
    private func isUnicodeArrow(at index: Int) -> Bool {
        byte(at: index) == 0xE2 && byte(at: index + 1) == 0x86 && byte(at: index + 2) == 0x92
    }

    mutating func next() throws(FilterError) -> FilterToken {
        while let b = byte(at: position), b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { position += 1 }
        let start = position
        guard let b = byte(at: position) else { return FilterToken(kind: .end, start: start, end: start) }

        func single(_ kind: FilterToken.Kind, length: Int = 1) -> FilterToken {
            position += length
            return FilterToken(kind: kind, start: start, end: position)
        }
        let following = byte(at: position + 1)
        switch b {
        case UInt8(ascii: "="): return single(.equal, length: following == UInt8(ascii: "=") ? 2 : 1)
        case UInt8(ascii: "!"):
            if following == UInt8(ascii: "=") { return single(.notEqual, length: 2) }
            if following == UInt8(ascii: "~") { return single(.notContains, length: 2) }
            return single(.bang)
        case UInt8(ascii: "<"): return following == UInt8(ascii: "=") ? single(.lessOrEqual, length: 2) : single(.less)
        case UInt8(ascii: ">"): return following == UInt8(ascii: "=") ? single(.greaterOrEqual, length: 2) : single(.greater)
        case UInt8(ascii: "~"): return single(.contains)
        case UInt8(ascii: "("): return single(.leftParen)
        case UInt8(ascii: ")"): return single(.rightParen)
        case UInt8(ascii: "{"): return single(.leftBrace)
        case UInt8(ascii: "}"): return single(.rightBrace)
        case UInt8(ascii: ","): return single(.comma)
        case UInt8(ascii: "&"):
            guard following == UInt8(ascii: "&") else { throw error(at: start, "expected '&&' (or 'and'), found a single '&'") }
            return single(.and, length: 2)
        case UInt8(ascii: "|"):
            guard following == UInt8(ascii: "|") else { throw error(at: start, "expected '||' (or 'or'), found a single '|'") }
            return single(.or, length: 2)
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            return try string(quote: b)
        case UInt8(ascii: "-"):
            if following == UInt8(ascii: ">") { return single(.arrow, length: 2) }
            if let following, Self.isDigit(following) { return number() }
            throw error(at: start, "unexpected character '-'")
        default:
            if isUnicodeArrow(at: position) { return single(.arrow, length: 3) }
            if Self.isDigit(b) { return number() }
            if Self.isWordStart(b) { return word() }
            throw error(at: start, "unexpected character \(Self.describe(byte: b))")
        }
    }

    private mutating func word() -> FilterToken {
        let start = position
        while let b = byte(at: position), Self.isWordContinuation(b), !isUnicodeArrow(at: position) {
            // `a->b`: the arrow ends the word.
            if b == UInt8(ascii: "-"), byte(at: position + 1) == UInt8(ascii: ">") { break }
            position += 1
        }
        return FilterToken(kind: .word, start: start, end: position, text: Array(bytes[start..<position]))
    }

    private mutating func number() -> FilterToken {
        let start = position
        position += 1 // a digit or the sign
        // The unit is part of the number (`10ms`, `250µs`); FilterNumber says which units exist.
        while let b = byte(at: position), Self.isDigit(b) || Self.isWordStart(b) || b == UInt8(ascii: ".") || b == UInt8(ascii: "_"),
              !isUnicodeArrow(at: position) {
            position += 1
        }
        return FilterToken(kind: .number, start: start, end: position, text: Array(bytes[start..<position]))
    }

    private mutating func string(quote: UInt8) throws(FilterError) -> FilterToken {
        let start = position
        position += 1
        var text: [UInt8] = []
        while true {
            guard let b = byte(at: position) else {
                throw error(at: start, "unterminated string: expected a closing \(quote == 0x22 ? "'\"'" : "\"'\"") before end of input")
            }
            if b == quote {
                position += 1
                return FilterToken(kind: .string, start: start, end: position, text: text)
            }
            guard b == UInt8(ascii: "\\") else {
                text.append(b)
                position += 1
                continue
            }
            let escapeStart = position
            guard let e = byte(at: position + 1) else {
                throw error(at: start, "unterminated string: expected a closing \(quote == 0x22 ? "'\"'" : "\"'\"") before end of input")
            }
            position += 2
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "'"): text.append(e)
            case UInt8(ascii: "n"): text.append(0x0A)
            case UInt8(ascii: "t"): text.append(0x09)
            case UInt8(ascii: "r"): text.append(0x0D)
            case UInt8(ascii: "0"): text.append(0)
            // Kept with their backslash: a glob reads `\*`, `\?` and `\\` as the literal character.
            case UInt8(ascii: "\\"), UInt8(ascii: "*"), UInt8(ascii: "?"): text.append(0x5C); text.append(e)
            case UInt8(ascii: "x"):
                guard let high = byte(at: position).flatMap(Self.hexValue), let low = byte(at: position + 1).flatMap(Self.hexValue) else {
                    throw error(at: escapeStart, "expected two hex digits after '\\x'")
                }
                position += 2
                let value = high << 4 | low
                guard value < 0x80 else { throw error(at: escapeStart, "'\\x' escapes stop at 7F; write \\u{…} for other characters") }
                text.append(value)
            case UInt8(ascii: "u"):
                try unicodeEscape(startingAt: escapeStart, into: &text)
            default:
                throw error(at: escapeStart, "unknown escape '\\\(Self.describe(byte: e, quoted: false))': expected one of \\\" \\' \\\\ \\n \\t \\r \\0 \\xHH \\u{…} \\* \\?")
            }
        }
    }

    private mutating func unicodeEscape(startingAt escapeStart: Int, into text: inout [UInt8]) throws(FilterError) {
        guard byte(at: position) == UInt8(ascii: "{") else { throw error(at: escapeStart, "expected '{' after '\\u'") }
        position += 1
        var value: UInt32 = 0
        var digits = 0
        while let b = byte(at: position), let digit = Self.hexValue(b) {
            guard digits < 6 else { throw error(at: escapeStart, "'\\u{…}' takes at most 6 hex digits") }
            value = value << 4 | UInt32(digit)
            digits += 1
            position += 1
        }
        guard digits > 0, byte(at: position) == UInt8(ascii: "}") else {
            throw error(at: escapeStart, "expected hex digits and '}' in '\\u{…}'")
        }
        position += 1
        guard let scalar = Unicode.Scalar(value) else { throw error(at: escapeStart, "'\\u{…}' is not a Unicode scalar value") }
        if let encoded = UTF8.encode(scalar) { text.append(contentsOf: encoded) }
    }

    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: b - 0x30
        case 0x41...0x46: b - 0x41 + 10
        case 0x61...0x66: b - 0x61 + 10
        default: nil
        }
    }

    static func describe(byte b: UInt8, quoted: Bool = true) -> String {
        let text = b >= 0x20 && b < 0x7F ? String(UnicodeScalar(b)) : "\\x" + String(b, radix: 16, uppercase: true)
        return quoted ? "'\(text)'" : text
    }

    func error(at offset: Int, _ message: String) -> FilterError {
        FilterError(column: FilterPosition(offset: offset).column(in: bytes), message: message)
    }
}
