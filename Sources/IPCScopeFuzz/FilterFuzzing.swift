import TraceAnalysis

/// Arbitrary bytes (as UTF-8, invalid sequences replaced) compiled as a filter. What must hold: no trap and
/// no deep recursion (the parser bounds nesting); an error's column lies within the text (or just after
/// it); a filter that compiles prints canonical text that parses to the same tree, compiles to as many
/// instructions and gives the same verdict on sample events.
enum FilterFuzzing {
    static func run(_ data: UnsafeRawBufferPointer) {
        let text = String(decoding: data, as: UTF8.self)
        let filter: CompiledFilter
        do {
            filter = try CompiledFilter(text)
        } catch {
            precondition(error.column >= 1 && error.column <= text.unicodeScalars.count + 1, "column \(error.column) outside the text")
            return
        }
        let canonical = filter.canonicalText
        guard let again = try? CompiledFilter(canonical) else { preconditionFailure("canonical text does not compile: \(canonical)") }
        precondition(again.canonicalText == canonical, "canonical text is not stable")
        precondition(again.expression?.withoutPositions == filter.expression?.withoutPositions, "the tree changed")
        precondition(again.instructionCount == filter.instructionCount)
        for subject in FuzzSubject.samples {
            precondition(filter.matches(subject) == again.matches(subject))
        }
    }
}

/// Two events with every integer and text field, and parameters that answer by path.
struct FuzzSubject: FilterSubject {
    var base: Int64
    var text: [UInt8]

    static let samples = [
        FuzzSubject(base: 0, text: Array("WebContentServer::load_url".utf8)),
        FuzzSubject(base: 3, text: Array("Ünïcode*?".utf8)),
    ]

    func integer(_ field: FilterIntegerField) -> Int64? { base + Int64(field.rawValue) }

    func withText<R>(_ field: FilterTextField, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R? {
        field == .severity ? nil : text.withUnsafeBufferPointer(body)
    }

    func parameter(_ path: FilterParameterPath) -> FilterParameterValue? {
        switch path.components.count % 4 {
        case 0: .integer(base)
        case 1: .text(String(decoding: text, as: UTF8.self))
        case 2: .boolean(base == 0)
        default: nil
        }
    }
}
