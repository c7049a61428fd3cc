/// A filter whose fields are known and whose values have their field's type: what the compiler turns into
/// instructions. `!=`, `!~` and `not in` are `not` around the positive test, and fields of either side or of
/// the sender/receiver are spelled out as `or`/`and` of side tests, so the evaluator has few instructions.
indirect enum CheckedFilter: Equatable {
    case integer(FilterIntegerField, IntegerTest)
    case text(FilterTextField, TextTest)
    /// The record kind is one of these raw kinds (bit n = kind n).
    case kinds(UInt32)
    case parameter(ParameterTest)
    case constant(Bool)
    case not(CheckedFilter)
    case and([CheckedFilter])
    case or([CheckedFilter])
}

enum IntegerTest: Equatable {
    /// `==`, `<`, `<=`, `>`, `>=` against a constant.
    case compare(FilterOperator, Int64)
    case oneOf([Int64])
    /// The event has the field.
    case present
    /// The event has the field and it is not 0.
    case nonZero
}

/// A text pattern: exact bytes, or a glob (`*` any run, `?` one character, `\*` `\?` `\\` literal).
struct TextPattern: Equatable {
    var bytes: [UInt8]
    var isGlob: Bool

    init(_ text: [UInt8]) {
        var hasWildcard = false
        var index = 0
        while index < text.count {
            if text[index] == UInt8(ascii: "\\"), index + 1 < text.count { index += 2; continue }
            if text[index] == UInt8(ascii: "*") || text[index] == UInt8(ascii: "?") { hasWildcard = true }
            index += 1
        }
        isGlob = hasWildcard
        bytes = hasWildcard ? text : FilterGlob.unescaped(text)
    }
}

enum TextTest: Equatable {
    /// Equal to (or, for a glob, matched by) any of the patterns.
    case matches([TextPattern])
    /// Contains the needle, ignoring ASCII case (the needle is stored lowercased).
    case contains([UInt8])
    case nonEmpty
}

struct ParameterTest: Equatable {
    enum Test: Equatable {
        case present
        case compare(FilterOperator, Int64)
        case oneOf([Int64])
        case matches([TextPattern])
        case contains([UInt8])
    }

    var path: FilterParameterPath
    var test: Test
}

enum FilterTypeChecker {
    static func check(_ expression: FilterExpression, text: [UInt8]) throws(FilterError) -> CheckedFilter {
        var checker = Checker(text: text)
        return try checker.check(expression)
    }

    private struct Checker {
        let text: [UInt8]

        func error(_ position: FilterPosition, _ message: String) -> FilterError {
            FilterError(column: position.column(in: text), message: message)
        }

        mutating func check(_ expression: FilterExpression) throws(FilterError) -> CheckedFilter {
            switch expression {
            case .not(let inner): return .not(try check(inner))
            case .and(let operands):
                var checked: [CheckedFilter] = []
                for operand in operands { checked.append(try check(operand)) }
                return .and(checked)
            case .or(let operands):
                var checked: [CheckedFilter] = []
                for operand in operands { checked.append(try check(operand)) }
                return .or(checked)
            case .test(let test): return try check(test)
            }
        }

        func check(_ test: FilterTest) throws(FilterError) -> CheckedFilter {
            guard let shape = FilterField.shape(named: test.field) else {
                var message = "unknown field '\(test.field)'"
                if let prefix = ["sender", "receiver"].first(where: { test.field == $0 || test.field.hasPrefix($0 + ".") }) {
                    message += ": expected \(prefix).endpoint, \(prefix).process or \(prefix).pid"
                } else if test.field == "param" || test.field.hasPrefix("param.") {
                    message += ": expected param.NAME, param.NAME.FIELD or param.NAME.INDEX"
                } else if let near = FilterField.suggestion(for: test.field, among: FilterField.table.map(\.name) + ["param"]) {
                    message += ": did you mean '\(near)'?"
                } else {
                    message += ": expected one of \(FilterField.names.joined(separator: ", "))"
                }
                throw error(test.fieldPosition, message)
            }
            switch test.comparison {
            case nil:
                return presence(shape)
            case .compare(let op, let literal)?:
                let positive: FilterOperator = op == .notEqual ? .equal : op == .notContains ? .contains : op
                let checked = try compare(shape, field: test, op: positive, literal)
                return positive == op ? checked : .not(checked)
            case .inSet(let literals, let negated)?:
                let checked = try member(shape, field: test, of: literals)
                return negated ? .not(checked) : checked
            }
        }

        // MARK: presence

        func presence(_ shape: FilterField.Shape) -> CheckedFilter {
            switch shape {
            case .integer(let field, _, let nonZero): .integer(field, nonZero ? .nonZero : .present)
            case .text(let field): .text(field, .nonEmpty)
            case .sidePID(let role): sides(role, .integer(.pidA, .present), .integer(.pidB, .present))
            case .sideEndpoint(let role): sides(role, .text(.endpointA, .nonEmpty), .text(.endpointB, .nonEmpty))
            case .sideProcess(let role): sides(role, .text(.processA, .nonEmpty), .text(.processB, .nonEmpty))
            case .kind: .integer(.kind, .present)
            case .direction: .integer(.direction, .present)
            case .parameter(let path): .parameter(ParameterTest(path: path, test: .present))
            }
        }

        /// `either`: A or B; `sender`: A when the event goes A→B, B when it goes B→A; `receiver` the other one.
        func sides(_ role: FilterField.Role, _ a: CheckedFilter, _ b: CheckedFilter) -> CheckedFilter {
            switch role {
            case .either: .or([a, b])
            case .sender: .or([.and([Self.direction(0), a]), .and([Self.direction(1), b])])
            case .receiver: .or([.and([Self.direction(0), b]), .and([Self.direction(1), a])])
            }
        }

        static func direction(_ value: Int64) -> CheckedFilter { .integer(.direction, .compare(.equal, value)) }

        // MARK: comparisons

        func compare(_ shape: FilterField.Shape, field: FilterTest, op: FilterOperator, _ literal: FilterLiteral) throws(FilterError) -> CheckedFilter {
            switch shape {
            case .integer(let integerField, let quantity, _):
                try requireNumeric(op, field: field)
                return .integer(integerField, .compare(op, try number(literal, quantity, field: field)))
            case .sidePID(let role):
                try requireNumeric(op, field: field)
                let value = try number(literal, .count, field: field)
                return sides(role, .integer(.pidA, .compare(op, value)), .integer(.pidB, .compare(op, value)))
            case .text(let textField):
                return .text(textField, try textTest(op, [literal], field: field))
            case .sideEndpoint(let role):
                let test = try textTest(op, [literal], field: field)
                return sides(role, .text(.endpointA, test), .text(.endpointB, test))
            case .sideProcess(let role):
                let test = try textTest(op, [literal], field: field)
                return sides(role, .text(.processA, test), .text(.processB, test))
            case .kind:
                guard op == .equal else { throw error(field.fieldPosition, "'kind' compares with '==', '!=' or 'in', not '\(op.rawValue)'") }
                return .kinds(try kindMask(literal))
            case .direction:
                guard op == .equal else { throw error(field.fieldPosition, "'dir' compares with '==', '!=' or 'in', not '\(op.rawValue)'") }
                return try direction(literal)
            case .parameter(let path):
                return .parameter(ParameterTest(path: path, test: try parameterTest(op, [literal], field: field)))
            }
        }

        func member(_ shape: FilterField.Shape, field: FilterTest, of literals: [FilterLiteral]) throws(FilterError) -> CheckedFilter {
            switch shape {
            case .integer(let integerField, let quantity, _):
                var values: [Int64] = []
                for literal in literals { values.append(try number(literal, quantity, field: field)) }
                return .integer(integerField, .oneOf(values))
            case .sidePID(let role):
                var values: [Int64] = []
                for literal in literals { values.append(try number(literal, .count, field: field)) }
                return sides(role, .integer(.pidA, .oneOf(values)), .integer(.pidB, .oneOf(values)))
            case .text(let textField):
                return .text(textField, try textTest(.equal, literals, field: field))
            case .sideEndpoint(let role):
                let test = try textTest(.equal, literals, field: field)
                return sides(role, .text(.endpointA, test), .text(.endpointB, test))
            case .sideProcess(let role):
                let test = try textTest(.equal, literals, field: field)
                return sides(role, .text(.processA, test), .text(.processB, test))
            case .kind:
                var mask: UInt32 = 0
                for literal in literals { mask |= try kindMask(literal) }
                return .kinds(mask)
            case .direction:
                var alternatives: [CheckedFilter] = []
                for literal in literals { alternatives.append(try direction(literal)) }
                return .or(alternatives)
            case .parameter(let path):
                return .parameter(ParameterTest(path: path, test: try parameterTest(.equal, literals, field: field, inSet: true)))
            }
        }

        func requireNumeric(_ op: FilterOperator, field: FilterTest) throws(FilterError) {
            if op == .contains {
                throw error(field.fieldPosition, "'~' searches text, but '\(field.field)' is a number: compare it with == != < <= > >=")
            }
        }

        func number(_ literal: FilterLiteral, _ quantity: FilterField.Quantity, field: FilterTest) throws(FilterError) -> Int64 {
            guard literal.form == .number else {
                let found = literal.form == .string ? "a string" : "'\(literal.text)'"
                let expected = switch quantity {
                case .count: "a number"
                case .size: "a size such as 4096 or 64KiB"
                case .duration: "a duration such as 10ms or 1.5s"
                }
                throw error(literal.position, "expected \(expected) for '\(field.field)', found \(found)")
            }
            let parsed: FilterNumber
            switch FilterNumber.parse(literal.text) {
            case .success(let number): parsed = number
            case .failure(let failure): throw error(literal.position, failure.message)
            }
            switch (quantity, parsed.dimension) {
            case (.duration, .duration), (.size, .plain), (.size, .bytes), (.count, .plain):
                return parsed.value
            case (.duration, _):
                throw error(literal.position, "'\(field.field)' is a duration: give a time unit (ns, us, ms, s, min), e.g. \(literal.text.filter(\.isNumber))ms")
            case (.count, .bytes), (.count, .duration), (.size, .duration):
                throw error(literal.position, "'\(field.field)' is \(quantity == .count ? "a count" : "a size"): '\(literal.text)' has a unit that does not fit it")
            }
        }

        func textTest(_ op: FilterOperator, _ literals: [FilterLiteral], field: FilterTest) throws(FilterError) -> TextTest {
            if op.isOrdering {
                throw error(field.fieldPosition, "'\(op.rawValue)' compares numbers, but '\(field.field)' is text: use == (glob) or ~ (contains)")
            }
            if op == .contains { return .contains(Self.needle(literals[0])) }
            return .matches(literals.map { TextPattern(Array($0.text.utf8)) })
        }

        /// A `~` needle: the text as typed, the lexer's kept escapes (`\\`, `\*`, `\?`) undone, lowercased.
        static func needle(_ literal: FilterLiteral) -> [UInt8] {
            FilterGlob.lowercased(FilterGlob.unescaped(Array(literal.text.utf8)))
        }

        func kindMask(_ literal: FilterLiteral) throws(FilterError) -> UInt32 {
            guard literal.form != .number, let entry = FilterField.kinds.first(where: { $0.name == literal.text }) else {
                var message = "unknown kind '\(literal.text)'"
                if let near = FilterField.suggestion(for: literal.text, among: FilterField.kinds.map(\.name)) {
                    message += ": did you mean '\(near)'?"
                } else {
                    message += ": expected one of \(FilterField.kinds.prefix(17).map(\.name).joined(separator: ", "))"
                }
                throw error(literal.position, message)
            }
            return entry.rawKinds.reduce(0) { $0 | (1 << UInt32($1)) }
        }

        func direction(_ literal: FilterLiteral) throws(FilterError) -> CheckedFilter {
            switch literal.text.lowercased() {
            case "a>b": return Self.direction(0)
            case "b>a": return Self.direction(1)
            default: break
            }
            let parts = literal.text.split(separator: ">", maxSplits: 1, omittingEmptySubsequences: false)
            guard literal.form != .number, parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw error(literal.position, "expected a direction: a>b, b>a or SENDER>RECEIVER (endpoint or process names, globs allowed), found '\(literal.text)'")
            }
            let sender = TextPattern(Array(parts[0].utf8)), receiver = TextPattern(Array(parts[1].utf8))
            func side(_ endpoint: FilterTextField, _ process: FilterTextField, _ pattern: TextPattern) -> CheckedFilter {
                if pattern.isGlob, pattern.bytes == [UInt8(ascii: "*")] { return .constant(true) }
                return .or([.text(endpoint, .matches([pattern])), .text(process, .matches([pattern]))])
            }
            let sideA = (FilterTextField.endpointA, FilterTextField.processA), sideB = (FilterTextField.endpointB, FilterTextField.processB)
            return .or([
                .and([Self.direction(0), side(sideA.0, sideA.1, sender), side(sideB.0, sideB.1, receiver)]),
                .and([Self.direction(1), side(sideB.0, sideB.1, sender), side(sideA.0, sideA.1, receiver)]),
            ])
        }

        func parameterTest(_ op: FilterOperator, _ literals: [FilterLiteral], field: FilterTest, inSet: Bool = false) throws(FilterError) -> ParameterTest.Test {
            let numbers = literals.allSatisfy { $0.form == .number }
            if op == .contains {
                guard literals[0].form != .number else {
                    throw error(literals[0].position, "'~' searches text: quote the number (\"\(literals[0].text)\") to search for its digits")
                }
                return .contains(Self.needle(literals[0]))
            }
            if numbers {
                var values: [Int64] = []
                for literal in literals {
                    switch FilterNumber.parse(literal.text) {
                    case .success(let number): values.append(number.value)
                    case .failure(let failure): throw error(literal.position, failure.message)
                    }
                }
                return inSet ? .oneOf(values) : .compare(op, values[0])
            }
            if op.isOrdering {
                throw error(literals[0].position, "'\(op.rawValue)' compares numbers: expected a number, found '\(literals[0].text)'")
            }
            if let first = literals.first, let odd = literals.first(where: { ($0.form == .number) != (first.form == .number) }) {
                throw error(odd.position, "a set mixes numbers and text: quote the numbers to match them as text")
            }
            return .matches(literals.map { TextPattern(Array($0.text.utf8)) })
        }
    }
}
