/// Why a filter does not compile, and where: `column 9: expected a value after '==', found end of input`.
/// Columns are 1-based and count Unicode scalars (code points), not bytes, so they line up with what the
/// user typed; the end of input is the column after the last character.
public struct FilterError: Error, Equatable, Sendable, CustomStringConvertible {
    public var column: Int
    public var message: String

    public init(column: Int, message: String) {
        self.column = column
        self.message = message
    }

    public var description: String { "column \(column): \(message)" }
}

/// A position in the filter text: a UTF-8 byte offset, converted to a column only when an error is shown.
public struct FilterPosition: Equatable, Hashable, Sendable {
    public var offset: Int

    public init(offset: Int) { self.offset = offset }

    /// 1-based column in Unicode scalars: UTF-8 continuation bytes (10xxxxxx) before the offset do not count.
    func column(in text: [UInt8]) -> Int {
        var column = 1
        for byte in text[..<min(offset, text.count)] where byte & 0xC0 != 0x80 { column += 1 }
        return column
    }
}

/// Bounds that keep hostile input cheap: the viewer compiles on every keystroke.
public enum FilterLimits {
    /// Longest filter text accepted, in UTF-8 bytes.
    public static let maxLength = 16 * 1024
    /// Deepest nesting of parentheses and `not` accepted; the parser recurses at most this deep.
    public static let maxDepth = 64
}
