/// One token of a filter. `text` holds the bytes of words and numbers as written, and the decoded bytes of
/// quoted strings.
struct FilterToken: Equatable {
    enum Kind: Equatable {
        case word            // a bare word: field name, keyword, or a value such as `frame` or `WebContent*`
        case number          // starts with a digit (or '-' then a digit): `42`, `0x1F`, `1.5s`, `64KiB`
        case string          // quoted, escapes decoded
        case equal           // == (also =)
        case notEqual        // !=
        case less, lessOrEqual, greater, greaterOrEqual
        case contains        // ~
        case notContains     // !~
        case and             // && (the word `and` is a .word)
        case or              // ||
        case bang            // !
        case leftParen, rightParen, leftBrace, rightBrace, comma
        case arrow           // -> or →, inside a direction value
        case end
    }

    var kind: Kind
    var start: Int
    var end: Int
    var text: [UInt8] = []

    /// How the token is named in "found …" messages.
    var description: String {
        switch kind {
        case .end: "end of input"
        case .word, .number:
            // Long words are cut: an error message stays one line whatever was typed.
            text.count > 40 ? "'\(String(decoding: text.prefix(37), as: UTF8.self))...'" : "'\(String(decoding: text, as: UTF8.self))'"
        case .string: "a string"
        default: "'\(FilterToken.spelling(kind))'"
        }
    }

    static func spelling(_ kind: Kind) -> String {
        switch kind {
        case .equal: "=="
        case .notEqual: "!="
        case .less: "<"
        case .lessOrEqual: "<="
        case .greater: ">"
        case .greaterOrEqual: ">="
        case .contains: "~"
        case .notContains: "!~"
        case .and: "&&"
        case .or: "||"
        case .bang: "!"
        case .leftParen: "("
        case .rightParen: ")"
        case .leftBrace: "{"
        case .rightBrace: "}"
        case .comma: ","
        case .arrow: "->"
        case .word: "word"
        case .number: "number"
        case .string: "string"
        case .end: "end of input"
        }
    }
}
