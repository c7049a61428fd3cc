/// Recursive descent over the grammar in docs/filters.md:
///
///     filter  := [or] END
///     or      := and (("or" | "||") and)*
///     and     := unary (("and" | "&&") unary)*
///     unary   := ("not" | "!") unary | "(" or ")" | test
///     test    := FIELD [op value | ["not"] "in" "{" value ("," value)* [","] "}"]
///
/// Recursion happens only at `(` and `not`, each counted against ``FilterLimits/maxDepth``, so hostile
/// input (100 000 '(') ends in an error, not a stack overflow. Chains of `and`/`or` are loops.
public struct FilterParser {
    private var lexer: FilterLexer
    private var current: FilterToken
    private var depth = 0

    /// Parses `text`; nil when it is empty or blank (a filter that matches everything).
    public static func parse(_ text: String) throws(FilterError) -> FilterExpression? {
        let bytes = Array(text.utf8)
        guard bytes.count <= FilterLimits.maxLength else {
            throw FilterError(
                column: FilterPosition(offset: FilterLimits.maxLength).column(in: bytes) ,
                message: "filter longer than \(FilterLimits.maxLength) bytes")
        }
        var parser = try FilterParser(bytes: bytes)
        if parser.current.kind == .end { return nil }
        let expression = try parser.parseOr()
        guard parser.current.kind == .end else {
            throw parser.error("expected 'and', 'or' or end of input, found \(parser.current.description)")
        }
        return expression
    }

    private init(bytes: [UInt8]) throws(FilterError) {
        lexer = FilterLexer(bytes: bytes)
        current = try lexer.next()
    }

    private mutating func advance() throws(FilterError) { current = try lexer.next() }

    private func isKeyword(_ word: String) -> Bool {
        current.kind == .word && current.text.elementsEqual(word.utf8)
    }

    private func error(_ message: String, at offset: Int? = nil) -> FilterError {
        lexer.error(at: offset ?? current.start, message)
    }

    private mutating func parseOr() throws(FilterError) -> FilterExpression {
        var operands = [try parseAnd()]
        while current.kind == .or || isKeyword("or") {
            try advance()
            operands.append(try parseAnd())
        }
        return operands.count == 1 ? operands[0] : .or(operands)
    }

    private mutating func parseAnd() throws(FilterError) -> FilterExpression {
        var operands = [try parseUnary()]
        while current.kind == .and || isKeyword("and") {
            try advance()
            operands.append(try parseUnary())
        }
        return operands.count == 1 ? operands[0] : .and(operands)
    }

    private mutating func enter() throws(FilterError) {
        depth += 1
        guard depth <= FilterLimits.maxDepth else {
            throw error("nesting deeper than \(FilterLimits.maxDepth) levels of '(' and 'not'")
        }
    }

    private mutating func parseUnary() throws(FilterError) -> FilterExpression {
        if current.kind == .bang || isKeyword("not") {
            try enter()
            try advance()
            let inner = try parseUnary()
            depth -= 1
            return .not(inner)
        }
        if current.kind == .leftParen {
            let open = current.start
            try enter()
            try advance()
            let inner = try parseOr()
            guard current.kind == .rightParen else {
                let column = FilterPosition(offset: open).column(in: lexer.bytes)
                throw error("expected ')' to close the '(' at column \(column), found \(current.description)")
            }
            try advance()
            depth -= 1
            return inner
        }
        return .test(try parseTest())
    }

    static let reserved: Set<String> = ["and", "or", "not", "in"]

    private mutating func parseTest() throws(FilterError) -> FilterTest {
        guard current.kind == .word, !Self.reserved.contains(String(decoding: current.text, as: UTF8.self)) else {
            throw error("expected a field name, '(' or 'not', found \(current.description)")
        }
        let field = String(decoding: current.text, as: UTF8.self)
        var test = FilterTest(field: field, fieldPosition: FilterPosition(offset: current.start))
        try advance()

        if let op = Self.comparisonOperator(current.kind) {
            let opToken = current
            try advance()
            test.comparison = .compare(op, try parseValue(after: "'\(FilterToken.spelling(opToken.kind))'", field: field))
        } else if isKeyword("in") {
            try advance()
            test.comparison = .inSet(try parseSet(field: field), negated: false)
        } else if isKeyword("not") {
            // `field not in {…}`; a lone `not` after a field is not an operator.
            try advance()
            guard isKeyword("in") else {
                throw error("expected 'in' after 'not' following a field, found \(current.description)", at: current.kind == .end ? nil : current.start)
            }
            try advance()
            test.comparison = .inSet(try parseSet(field: field), negated: true)
        } else if current.kind == .number || current.kind == .string || (current.kind == .word && !isKeyword("and") && !isKeyword("or")) {
            throw error("expected an operator (== != < <= > >= ~ !~ in) after '\(field)', found \(current.description)")
        }
        return test
    }

    static func comparisonOperator(_ kind: FilterToken.Kind) -> FilterOperator? {
        switch kind {
        case .equal: .equal
        case .notEqual: .notEqual
        case .less: .less
        case .lessOrEqual: .lessOrEqual
        case .greater: .greater
        case .greaterOrEqual: .greaterOrEqual
        case .contains: .contains
        case .notContains: .notContains
        default: nil
        }
    }

    private mutating func parseSet(field: String) throws(FilterError) -> [FilterLiteral] {
        guard current.kind == .leftBrace else { throw error("expected '{' after 'in', found \(current.description)") }
        try advance()
        var values: [FilterLiteral] = []
        while true {
            values.append(try parseValue(after: values.isEmpty ? "'{'" : "','", field: field))
            if current.kind == .comma {
                try advance()
                if current.kind == .rightBrace { break }
                continue
            }
            guard current.kind == .rightBrace else { throw error("expected ',' or '}' in the set, found \(current.description)") }
            break
        }
        try advance()
        return values
    }

    /// One value; for `dir` also `SENDER > RECEIVER` (`>`, `->` or `→`), kept as one literal `SENDER>RECEIVER`.
    private mutating func parseValue(after what: String, field: String) throws(FilterError) -> FilterLiteral {
        var literal = try parseAtom(after: what)
        if field == "dir", current.kind == .greater || current.kind == .arrow {
            try advance()
            let receiver = try parseAtom(after: "'>' in a direction")
            literal.text += ">" + receiver.text
            if receiver.form == .string { literal.form = .string }
        }
        return literal
    }

    private mutating func parseAtom(after what: String) throws(FilterError) -> FilterLiteral {
        let form: FilterLiteral.Form
        switch current.kind {
        case .word where !Self.reserved.contains(String(decoding: current.text, as: UTF8.self)): form = .word
        case .string: form = .string
        case .number: form = .number
        default: throw error("expected a value after \(what), found \(current.description)")
        }
        let literal = FilterLiteral(form: form, text: String(decoding: current.text, as: UTF8.self), position: FilterPosition(offset: current.start))
        try advance()
        return literal
    }
}
