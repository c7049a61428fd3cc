import TraceAnalysis

/// `-f EXPR` of show, stats and export: compiles the filter, or explains a filter that does not compile the
/// way every command shows it (the error, then the text with a caret under the column; docs/filters.md).
enum FilterOption {
    struct Problem: Error, CustomStringConvertible {
        let description: String
    }

    static func compile(_ text: String?) -> Result<CompiledFilter?, Problem> {
        guard let text else { return .success(nil) }
        do {
            return .success(try CompiledFilter(text))
        } catch {
            return .failure(Problem(description: "-f: \(error)\n  \(text)\n  " + String(repeating: " ", count: max(error.column - 1, 0)) + "^"))
        }
    }
}
