/// One step of a compiled filter. The evaluator runs them in order with one Bool register: a test sets it,
/// `and`/`or` jump over the rest of their operands as soon as the register decides them (short circuit),
/// `not` negates it. No stack, no allocation: constants live in the program's pools, referenced by index.
enum FilterInstruction: Equatable {
    case integerCompare(FilterIntegerField, FilterOperator, Int64)
    /// `integers[first ..< first + count]`.
    case integerOneOf(FilterIntegerField, first: Int32, count: Int32)
    case integerPresent(FilterIntegerField)
    case integerNonZero(FilterIntegerField)
    case kinds(UInt32)
    /// Any of `patterns[first ..< first + count]`.
    case textMatches(FilterTextField, first: Int32, count: Int32)
    case textContains(FilterTextField, pattern: Int32)
    case textNonEmpty(FilterTextField)
    case parameter(Int32)
    case constant(Bool)
    case negate
    /// Jump to the absolute instruction index when the register is false (`and`) / true (`or`).
    case jumpIfFalse(Int32)
    case jumpIfTrue(Int32)
}

/// A pattern's bytes in the program's byte pool.
struct PatternReference: Equatable {
    var start: Int32
    var count: Int32
    var isGlob: Bool
}

/// Turns a checked filter into instructions and constant pools.
struct FilterCompiler {
    private(set) var code: [FilterInstruction] = []
    private(set) var integers: [Int64] = []
    private(set) var bytes: [UInt8] = []
    private(set) var patterns: [PatternReference] = []
    private(set) var parameters: [ParameterTest] = []

    mutating func emit(_ filter: CheckedFilter) {
        switch filter {
        case .and(let operands): emitChain(operands, jump: FilterInstruction.jumpIfFalse)
        case .or(let operands): emitChain(operands, jump: FilterInstruction.jumpIfTrue)
        case .not(let inner):
            emit(inner)
            code.append(.negate)
        case .constant(let value): code.append(.constant(value))
        case .kinds(let mask): code.append(.kinds(mask))
        case .parameter(let test):
            code.append(.parameter(Int32(parameters.count)))
            parameters.append(test)
        case .integer(let field, let test):
            switch test {
            case .compare(let op, let value): code.append(.integerCompare(field, op, value))
            case .oneOf(let values):
                code.append(.integerOneOf(field, first: Int32(integers.count), count: Int32(values.count)))
                integers.append(contentsOf: values)
            case .present: code.append(.integerPresent(field))
            case .nonZero: code.append(.integerNonZero(field))
            }
        case .text(let field, let test):
            switch test {
            case .matches(let list):
                code.append(.textMatches(field, first: Int32(patterns.count), count: Int32(list.count)))
                for pattern in list { addPattern(pattern.bytes, isGlob: pattern.isGlob) }
            case .contains(let needle):
                code.append(.textContains(field, pattern: Int32(patterns.count)))
                addPattern(needle, isGlob: false)
            case .nonEmpty: code.append(.textNonEmpty(field))
            }
        }
    }

    private mutating func emitChain(_ operands: [CheckedFilter], jump: (Int32) -> FilterInstruction) {
        var pending: [Int] = []
        for (index, operand) in operands.enumerated() {
            emit(operand)
            if index < operands.count - 1 {
                pending.append(code.count)
                code.append(jump(0))
            }
        }
        let end = Int32(code.count)
        for site in pending { code[site] = jump(end) }
    }

    private mutating func addPattern(_ pattern: [UInt8], isGlob: Bool) {
        patterns.append(PatternReference(start: Int32(bytes.count), count: Int32(pattern.count), isGlob: isGlob))
        bytes.append(contentsOf: pattern)
    }
}
