/// Why a `.ipc` file (or a type spelling) could not be parsed, and where.
public struct SchemaError: Error, Hashable, Sendable, CustomStringConvertible {
    public var location: SourceLocation
    /// What was expected or what is wrong, without the location.
    public var message: String

    public init(_ message: String, at location: SourceLocation) {
        self.message = message
        self.location = location
    }

    /// `file:line:column: message`.
    public var description: String { "\(location): \(message)" }
}
