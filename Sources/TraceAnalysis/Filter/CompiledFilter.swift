/// A filter ready to evaluate: `try CompiledFilter("kind == frame and size > 4KiB").matches(event)`.
///
/// Compiling parses (``FilterParser``), checks fields and value types (``FilterTypeChecker``: `size ~ 5` and
/// `time > "x"` fail here, not per event) and emits instructions (``FilterCompiler``). ``matches(_:)`` then
/// runs them over a ``FilterSubject`` on stack values only: it allocates nothing unless the filter reaches a
/// `param.…` test, whose subject decodes the payload.
public struct CompiledFilter: Sendable {
    /// The parsed filter; nil for an empty filter, which matches every event.
    public let expression: FilterExpression?
    let code: [FilterInstruction]
    let integers: [Int64]
    let bytes: [UInt8]
    let patterns: [PatternReference]
    let parameters: [ParameterTest]

    public init(_ text: String) throws(FilterError) {
        expression = try FilterParser.parse(text)
        var compiler = FilterCompiler()
        if let expression {
            compiler.emit(try FilterTypeChecker.check(expression, text: Array(text.utf8)))
        }
        code = compiler.code
        integers = compiler.integers
        bytes = compiler.bytes
        patterns = compiler.patterns
        parameters = compiler.parameters
    }

    /// The filter as canonical text (empty for the empty filter).
    public var canonicalText: String { expression.map(FilterPrinter.print) ?? "" }

    /// Whether the filter has `param.…` tests (whose evaluation decodes payloads).
    public var usesParameters: Bool { !parameters.isEmpty }

    /// The integer fields the filter reads: a reader whose index holds them (kind, time, channel, direction,
    /// id, magic) can evaluate the filter without decoding record bodies when ``textFields`` is empty too.
    public var integerFields: Set<FilterIntegerField> {
        var fields: Set<FilterIntegerField> = []
        for instruction in code {
            switch instruction {
            case .integerCompare(let field, _, _), .integerOneOf(let field, _, _), .integerPresent(let field),
                 .integerNonZero(let field):
                fields.insert(field)
            case .kinds: fields.insert(.kind)
            default: break
            }
        }
        return fields
    }

    /// The text fields the filter reads.
    public var textFields: Set<FilterTextField> {
        var fields: Set<FilterTextField> = []
        for instruction in code {
            switch instruction {
            case .textMatches(let field, _, _), .textContains(let field, _), .textNonEmpty(let field): fields.insert(field)
            default: break
            }
        }
        return fields
    }

    /// Instructions in the compiled program (for tests and the benchmark).
    public var instructionCount: Int { code.count }

    public func matches<Subject: FilterSubject>(_ subject: Subject) -> Bool {
        if code.isEmpty { return true }
        return code.withUnsafeBufferPointer { code in
            bytes.withUnsafeBufferPointer { bytes in
                integers.withUnsafeBufferPointer { integers in
                    run(code, bytes: bytes, integers: integers, subject)
                }
            }
        }
    }

    private func run<Subject: FilterSubject>(
        _ code: UnsafeBufferPointer<FilterInstruction>, bytes: UnsafeBufferPointer<UInt8>,
        integers: UnsafeBufferPointer<Int64>, _ subject: Subject
    ) -> Bool {
        var register = true
        var pc = 0
        while pc < code.count {
            switch code[pc] {
            case .integerCompare(let field, let op, let constant):
                register = subject.integer(field).map { Self.compare($0, op, constant) } ?? false
            case .integerOneOf(let field, let first, let count):
                if let value = subject.integer(field) {
                    register = false
                    for index in Int(first)..<Int(first + count) where integers[index] == value {
                        register = true
                        break
                    }
                } else {
                    register = false
                }
            case .integerPresent(let field):
                register = subject.integer(field) != nil
            case .integerNonZero(let field):
                register = (subject.integer(field) ?? 0) != 0
            case .kinds(let mask):
                register = subject.integer(.kind).map { $0 >= 0 && $0 < 32 && mask & (1 << UInt32($0)) != 0 } ?? false
            case .textMatches(let field, let first, let count):
                register = subject.withText(field) { text in
                    for index in Int(first)..<Int(first + count) where Self.matches(patterns[index], bytes: bytes, text) {
                        return true
                    }
                    return false
                } ?? false
            case .textContains(let field, let pattern):
                let needle = Self.slice(patterns[Int(pattern)], bytes)
                register = subject.withText(field) { FilterGlob.containsIgnoringCase($0, needle) } ?? false
            case .textNonEmpty(let field):
                register = subject.withText(field) { !$0.isEmpty } ?? false
            case .parameter(let index):
                let test = parameters[Int(index)]
                register = subject.parameter(test.path).map { Self.evaluate(test.test, on: $0) } ?? false
            case .constant(let value):
                register = value
            case .negate:
                register.toggle()
            case .jumpIfFalse(let target):
                if !register { pc = Int(target); continue }
            case .jumpIfTrue(let target):
                if register { pc = Int(target); continue }
            }
            pc += 1
        }
        return register
    }

    @inline(__always)
    static func compare<T: Comparable>(_ value: T, _ op: FilterOperator, _ constant: T) -> Bool {
        switch op {
        case .equal: value == constant
        case .notEqual: value != constant
        case .less: value < constant
        case .lessOrEqual: value <= constant
        case .greater: value > constant
        case .greaterOrEqual: value >= constant
        case .contains, .notContains: false // the type checker never emits these on numbers
        }
    }

    @inline(__always)
    static func slice(_ pattern: PatternReference, _ bytes: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: bytes[Int(pattern.start)..<Int(pattern.start + pattern.count)])
    }

    @inline(__always)
    static func matches(_ pattern: PatternReference, bytes: UnsafeBufferPointer<UInt8>, _ text: UnsafeBufferPointer<UInt8>) -> Bool {
        let pattern_ = slice(pattern, bytes)
        if pattern.isGlob { return FilterGlob.matches(pattern_, text) }
        return pattern_.count == text.count && (pattern_.isEmpty || memoryEqual(pattern_, text))
    }

    @inline(__always)
    static func memoryEqual(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        for index in 0..<a.count where a[index] != b[index] { return false }
        return true
    }

    // MARK: parameters (their subject allocates anyway: it decodes)

    static func evaluate(_ test: ParameterTest.Test, on value: FilterParameterValue) -> Bool {
        switch test {
        case .present:
            switch value {
            case .integer(let v): return v != 0
            case .unsigned(let v): return v != 0
            case .real(let v): return v != 0
            case .boolean(let v): return v
            case .text(let v): return !v.isEmpty
            case .bytes(let v): return !v.isEmpty
            case .composite(let count): return count > 0
            case .absent: return false
            }
        case .compare(let op, let constant):
            return numericCompare(value, op, constant)
        case .oneOf(let constants):
            return constants.contains { numericCompare(value, .equal, $0) }
        case .matches(let patterns):
            guard var text = textOf(value) else { return false }
            return text.withUTF8 { text in
                patterns.contains { pattern in
                    pattern.bytes.withUnsafeBufferPointer { p in
                        pattern.isGlob ? FilterGlob.matches(p, text) : (p.count == text.count && memoryEqual(p, text))
                    }
                }
            }
        case .contains(let needle):
            guard var text = textOf(value) else { return false }
            return text.withUTF8 { text in needle.withUnsafeBufferPointer { FilterGlob.containsIgnoringCase(text, $0) } }
        }
    }

    /// Text a pattern can match: strings and enum names; booleans as `true`/`false`.
    static func textOf(_ value: FilterParameterValue) -> String? {
        switch value {
        case .text(let text): text
        case .boolean(let flag): flag ? "true" : "false"
        default: nil
        }
    }

    static func numericCompare(_ value: FilterParameterValue, _ op: FilterOperator, _ constant: Int64) -> Bool {
        switch value {
        case .integer(let v): return compare(v, op, constant)
        case .unsigned(let v): return constant < 0 ? compare(1, op, 0) : compare(v, op, UInt64(constant))
        case .real(let v): return compare(v, op, Double(constant))
        case .boolean(let v): return compare(v ? 1 : 0, op, constant)
        default: return false
        }
    }
}
