/// The parsed filter, before fields and values are checked: what the user wrote, with positions for errors.
/// `FilterPrinter` prints it back as canonical text that parses to the same tree.
public indirect enum FilterExpression: Equatable, Sendable {
    case test(FilterTest)
    case not(FilterExpression)
    /// Two or more operands (chains are flattened: `a and b and c` is one node).
    case and([FilterExpression])
    case or([FilterExpression])
}

/// `field`, `field OP value` or `field [not] in {values}`.
public struct FilterTest: Equatable, Sendable {
    public var field: String
    public var fieldPosition: FilterPosition
    public var comparison: FilterComparison?

    public init(field: String, fieldPosition: FilterPosition, comparison: FilterComparison? = nil) {
        self.field = field
        self.fieldPosition = fieldPosition
        self.comparison = comparison
    }
}

public enum FilterComparison: Equatable, Sendable {
    case compare(FilterOperator, FilterLiteral)
    case inSet([FilterLiteral], negated: Bool)
}

public enum FilterOperator: String, Equatable, Sendable, CaseIterable {
    case equal = "=="
    case notEqual = "!="
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="
    /// Case-insensitive substring (ASCII letters fold; other characters compare exactly).
    case contains = "~"
    case notContains = "!~"

    var isOrdering: Bool { self == .less || self == .lessOrEqual || self == .greater || self == .greaterOrEqual }
}

/// A value as written. Whether it fits the field is the type checker's business.
public struct FilterLiteral: Equatable, Sendable {
    public enum Form: Equatable, Sendable {
        /// A bare word: `frame`, `WebContent*::load_url`, `a>b` (a direction is kept as one word).
        case word
        /// Quoted: escapes are decoded into `text`.
        case string
        /// Starts with a digit or '-': `42`, `0x1F`, `10ms`, `64KiB`.
        case number
    }

    public var form: Form
    public var text: String
    public var position: FilterPosition

    public init(form: Form, text: String, position: FilterPosition) {
        self.form = form
        self.text = text
        self.position = position
    }
}

extension FilterExpression {
    /// The same tree without positions, for comparing what two texts mean (round trips).
    public var withoutPositions: FilterExpression {
        switch self {
        case .test(var test):
            test.fieldPosition = FilterPosition(offset: 0)
            switch test.comparison {
            case .compare(let op, var literal)?:
                literal.position = FilterPosition(offset: 0)
                test.comparison = .compare(op, literal)
            case .inSet(let literals, let negated)?:
                test.comparison = .inSet(literals.map { var l = $0; l.position = FilterPosition(offset: 0); return l }, negated: negated)
            case nil: break
            }
            return .test(test)
        case .not(let inner): return .not(inner.withoutPositions)
        case .and(let operands): return .and(operands.map(\.withoutPositions))
        case .or(let operands): return .or(operands.map(\.withoutPositions))
        }
    }
}
