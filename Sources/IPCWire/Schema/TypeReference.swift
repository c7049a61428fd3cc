/// A type as written in a schema: `u32`, `Vector<String>`, `HashMap<ByteString, Vector<Optional<u8>>>`,
/// `::Web::Foo`, `Array<u8, 16>`. Generic arguments are parsed recursively; a numeric argument (the `16`)
/// is kept as a literal reference. Inside `<…>` LibIPC's generator copies every character but `<` and `>`
/// verbatim (docs/protocol.md §5), so cv-qualifiers may stand on either side (`NonnullRefPtr<Foo::Bar const>`)
/// and `&`/`*` may follow: they are accepted, kept in ``writtenText``, and do not change the encoding.
///
/// Equality and hashing use the normalized form: `Foo const` and `const Foo` are the same type.
public struct TypeReference: Hashable, Sendable, CustomStringConvertible {
    /// Normalized text: single spaces, `", "` between arguments, qualifiers in front, e.g.
    /// `HashMap<String, Vector<u8>>`, `NonnullRefPtr<const Foo::Bar>`.
    public private(set) var spelling: String
    /// The type exactly as the schema wrote it, for display (the normalized ``spelling`` when built in code).
    public private(set) var writtenText: String
    /// The name before `<`, without `const`/`&`: `Vector`, `IPC::File`, `::Web::Foo`, or the digits of a literal.
    public private(set) var baseName: String
    public private(set) var arguments: [TypeReference]
    /// Written with a leading `const` (kept for display; it does not change the encoding).
    public private(set) var isConst: Bool
    /// Written with a trailing `&` (kept for display; it does not change the encoding).
    public private(set) var isReference: Bool
    /// Written with a trailing `*` (kept for display; it does not change the encoding).
    public private(set) var isPointer: Bool
    /// A numeric template argument such as the `16` of `Array<u8, 16>`.
    public private(set) var isLiteral: Bool

    public init(
        _ baseName: String, arguments: [TypeReference] = [], isConst: Bool = false, isReference: Bool = false,
        isPointer: Bool = false
    ) {
        self.baseName = baseName
        self.arguments = arguments
        self.isConst = isConst
        self.isReference = isReference
        self.isPointer = isPointer
        self.isLiteral = false
        self.spelling = ""
        self.writtenText = ""
        self.spelling = TypeReference.spell(self)
        self.writtenText = spelling
    }

    public static func == (lhs: TypeReference, rhs: TypeReference) -> Bool {
        lhs.spelling == rhs.spelling && lhs.isLiteral == rhs.isLiteral
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(spelling)
        hasher.combine(isLiteral)
    }

    /// A numeric template argument.
    public static func literal(_ digits: String) -> TypeReference {
        var reference = TypeReference(digits)
        reference.isLiteral = true
        return reference
    }

    /// Parses a type spelling on its own, e.g. for `IPCEncoder.encode(_:as:types:)`.
    public init(parsing text: String, file: String = "<type>") throws(SchemaError) {
        var scanner = SchemaScanner(text: text, file: file)
        scanner.skipSpaces(includingNewlines: true)
        let parsed = try scanner.parseTypeReference()
        scanner.skipSpaces(includingNewlines: true)
        if !scanner.isAtEnd {
            throw SchemaError("unexpected '\(scanner.currentCharacterText)' after type '\(parsed.spelling)'", at: scanner.location)
        }
        self = parsed
    }

    public var description: String { spelling }

    /// The value of a literal argument, when it fits an `Int`.
    public var literalValue: Int? { isLiteral ? Int(baseName) : nil }

    /// The base name without a leading `::` and without the `AK::` namespace, which every AK type may carry.
    public var unqualifiedBaseName: String {
        var name = Substring(baseName)
        if name.hasPrefix("::") { name = name.dropFirst(2) }
        if name.hasPrefix("AK::") { name = name.dropFirst(4) }
        return String(name)
    }

    mutating func setWrittenText(_ text: String) {
        writtenText = text
    }

    private static func spell(_ reference: TypeReference) -> String {
        var text = reference.isConst ? "const " : ""
        text += reference.baseName
        if !reference.arguments.isEmpty {
            text += "<" + reference.arguments.map(\.spelling).joined(separator: ", ") + ">"
        }
        if reference.isPointer { text += "*" }
        if reference.isReference { text += "&" }
        return text
    }
}

extension SchemaScanner {
    /// Deepest `<…>` nesting accepted in a type; deeper input is reported, never recursed into.
    static let maxTypeNesting = 64

    /// Parses `[cv] Name[<Arg, …>][*&]` at the cursor; inside `<…>` (depth > 0) also trailing cv-qualifiers,
    /// `Name const`, as the generator accepts them. Whitespace inside `<…>` may be spaces or tabs.
    mutating func parseTypeReference(depth: Int = 0) throws(SchemaError) -> TypeReference {
        let start = location
        let startPosition = position
        var isConst = false
        var name = readTypeName()
        while SchemaScanner.cvQualifiers.contains(name), peekIsSpace {
            skipSpaces(includingNewlines: false)
            if name == "const" { isConst = true }
            name = readTypeName()
        }
        if name.isEmpty {
            if isAtEnd { throw SchemaError("expected a type, found end of file", at: start) }
            throw SchemaError("expected a type, found '\(currentCharacterText)'", at: location)
        }
        if name.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            if depth == 0 { throw SchemaError("expected a type, found the number \(name)", at: start) }
            return .literal(name)
        }
        var arguments: [TypeReference] = []
        if peek() == UInt8(ascii: "<") {
            arguments = try parseTypeArguments(of: name, depth: depth)
        }
        var isReference = false
        var isPointer = false
        var writtenEnd = position
        // Inside `<…>` a space does not end the type (`Foo const &`); outside it ends the type.
        while let mark = nextTypeSuffix(spacesAllowed: depth > 0) {
            switch mark {
            case "&": isReference = true
            case "*": isPointer = true
            case "const": isConst = true
            default: break  // volatile: no effect on the encoding
            }
            writtenEnd = position
        }
        var reference = TypeReference(name, arguments: arguments, isConst: isConst, isReference: isReference,
                                      isPointer: isPointer)
        reference.setWrittenText(text(startPosition..<writtenEnd))
        return reference
    }

    static let cvQualifiers: Set<String> = ["const", "volatile"]

    /// A `&`, `*` or cv-qualifier after the type (after spaces when allowed), consumed; nil, with nothing
    /// consumed, when there is none.
    private mutating func nextTypeSuffix(spacesAllowed: Bool) -> String? {
        var lookahead = self
        if spacesAllowed { lookahead.skipSpaces(includingNewlines: false) }
        if let byte = lookahead.peek(), byte == UInt8(ascii: "&") || byte == UInt8(ascii: "*") {
            lookahead.advance()
            self = lookahead
            return byte == UInt8(ascii: "&") ? "&" : "*"
        }
        guard spacesAllowed else { return nil }
        let word = lookahead.readTypeName()
        guard SchemaScanner.cvQualifiers.contains(word) else { return nil }
        self = lookahead
        return word
    }

    private mutating func parseTypeArguments(of name: String, depth: Int) throws(SchemaError) -> [TypeReference] {
        let open = location
        if depth + 1 > SchemaScanner.maxTypeNesting {
            throw SchemaError("type nesting deeper than \(SchemaScanner.maxTypeNesting) levels", at: open)
        }
        advance() // '<'
        var arguments: [TypeReference] = []
        while true {
            skipSpaces(includingNewlines: false)
            if endsTypeUnterminated {
                throw SchemaError("unterminated '<' in type '\(name)'", at: open)
            }
            if peek() == UInt8(ascii: ">") || peek() == UInt8(ascii: ",") {
                throw SchemaError("expected a type argument of '\(name)', found '\(currentCharacterText)'", at: location)
            }
            arguments.append(try parseTypeReference(depth: depth + 1))
            skipSpaces(includingNewlines: false)
            switch peek() {
            case UInt8(ascii: ","):
                advance()
            case UInt8(ascii: ">"):
                advance()
                return arguments
            default:
                if endsTypeUnterminated {
                    throw SchemaError("unterminated '<' in type '\(name)'", at: open)
                }
                throw SchemaError(
                    "expected ',' or '>' after type argument '\(arguments.last?.spelling ?? "")', found '\(currentCharacterText)'",
                    at: location)
            }
        }
    }

    /// Characters that cannot occur inside `<…>`: reaching one means the `<` was never closed.
    private var endsTypeUnterminated: Bool {
        guard let byte = peek() else { return true }
        switch byte {
        case UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "{"),
             UInt8(ascii: "}"), UInt8(ascii: "="), UInt8(ascii: ";"), UInt8(ascii: "["), UInt8(ascii: "]"):
            return true
        default:
            return false
        }
    }

    /// A run of identifier characters and `:` (for `IPC::File`, `::NS::T`).
    private mutating func readTypeName() -> String {
        let begin = position
        while let byte = peek(), SchemaScanner.isIdentifierByte(byte) || byte == UInt8(ascii: ":") {
            advance()
        }
        return text(from: begin)
    }
}
