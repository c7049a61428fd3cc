/// Prints a parsed filter as canonical text: keywords `and`/`or`/`not`, double-quoted strings, parentheses
/// only where precedence needs them. Parsing the output gives the same tree (positions aside).
public enum FilterPrinter {
    public static func print(_ expression: FilterExpression) -> String {
        var output = ""
        write(expression, into: &output)
        return output
    }

    private static func write(_ expression: FilterExpression, into output: inout String) {
        switch expression {
        case .test(let test):
            write(test, into: &output)
        case .not(let inner):
            output += "not "
            writeOperand(inner, parenthesised: { if case .test = $0 { false } else if case .not = $0 { false } else { true } }, into: &output)
        case .and(let operands):
            for (index, operand) in operands.enumerated() {
                if index > 0 { output += " and " }
                writeOperand(operand, parenthesised: { if case .and = $0 { true } else if case .or = $0 { true } else { false } }, into: &output)
            }
        case .or(let operands):
            for (index, operand) in operands.enumerated() {
                if index > 0 { output += " or " }
                writeOperand(operand, parenthesised: { if case .or = $0 { true } else { false } }, into: &output)
            }
        }
    }

    private static func writeOperand(
        _ operand: FilterExpression, parenthesised: (FilterExpression) -> Bool, into output: inout String
    ) {
        if parenthesised(operand) {
            output += "("
            write(operand, into: &output)
            output += ")"
        } else {
            write(operand, into: &output)
        }
    }

    private static func write(_ test: FilterTest, into output: inout String) {
        output += test.field
        switch test.comparison {
        case nil:
            break
        case .compare(let op, let literal)?:
            output += " \(op.rawValue) " + text(of: literal)
        case .inSet(let literals, let negated)?:
            output += negated ? " not in {" : " in {"
            output += literals.map(text(of:)).joined(separator: ", ")
            output += "}"
        }
    }

    /// A literal as it would be typed: words and numbers as they were, strings quoted and escaped.
    public static func text(of literal: FilterLiteral) -> String {
        switch literal.form {
        case .number: return literal.text
        case .word:
            // A word cannot hold '>', so one there joins a direction's sender and receiver. Printed tight, a
            // sender ending in '-' would lex as `…-` `->` and lose that hyphen: spaces keep it.
            if literal.text.contains("->"), let join = literal.text.lastIndex(of: ">") {
                return String(literal.text[..<join]) + " > " + String(literal.text[literal.text.index(after: join)...])
            }
            return literal.text
        case .string: return quoted(literal.text)
        }
    }

    static func quoted(_ text: String) -> String {
        var output = "\""
        let bytes = Array(text.utf8)
        var index = 0
        var plain: [UInt8] = []
        func flush() {
            output += String(decoding: plain, as: UTF8.self)
            plain.removeAll()
        }
        while index < bytes.count {
            let b = bytes[index]
            switch b {
            case UInt8(ascii: "\""): flush(); output += "\\\""
            case 0x0A: flush(); output += "\\n"
            case 0x09: flush(); output += "\\t"
            case 0x0D: flush(); output += "\\r"
            case 0x00: flush(); output += "\\0"
            case UInt8(ascii: "\\"):
                // The lexer keeps `\\`, `\*` and `\?` as two bytes (glob escapes): print them as they came.
                if index + 1 < bytes.count, [UInt8(ascii: "\\"), UInt8(ascii: "*"), UInt8(ascii: "?")].contains(bytes[index + 1]) {
                    plain.append(b)
                    plain.append(bytes[index + 1])
                    index += 1
                } else {
                    plain.append(contentsOf: [b, b])
                }
            case ..<0x20, 0x7F:
                flush()
                output += "\\u{" + String(b, radix: 16, uppercase: true) + "}"
            default:
                plain.append(b)
            }
            index += 1
        }
        flush()
        return output + "\""
    }
}
