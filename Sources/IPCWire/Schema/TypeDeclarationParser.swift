/// Parses the body of an `@ipcscope` line comment (everything after the marker):
///
///     enum Demo::LoadState : u8 { Idle = 0, Loading, Complete = 5 }
///     type Demo::PageID = u64
///     struct Demo::Header { ByteString name; ByteString value }
///     variant Demo::Reply : u8 { 0 = JsonValue value, 1 = Demo::Error error }
///     opaque Demo::Blob "the reason it cannot be declared"
///
/// Enum values auto-increment like C; each must fit the underlying integer type. A declaration may go on
/// over the following lines when each of them is a `//` comment too: wherever a space may stand, the line
/// may end (a `<…>` must still close on its line).
enum TypeDeclarationParser {
    static let marker = "@ipcscope"

    static func parse(_ scanner: inout SchemaScanner) throws(SchemaError) -> TypeDeclaration {
        scanner.skipSpaces(includingNewlines: false)
        let location = scanner.location
        let keyword = scanner.readIdentifier()
        let declaration: TypeDeclaration
        switch keyword {
        case "enum":
            declaration = .enumeration(try parseEnum(&scanner, at: location))
        case "type":
            declaration = .alias(try parseAlias(&scanner, at: location))
        case "struct":
            declaration = .structure(try parseStruct(&scanner, at: location))
        case "variant":
            declaration = .taggedUnion(try parseTaggedUnion(&scanner, at: location))
        case "opaque":
            declaration = .opaque(try parseOpaque(&scanner, at: location))
        default:
            throw SchemaError("expected 'enum', 'type', 'struct', 'variant' or 'opaque' after '\(marker)'", at: location)
        }
        scanner.skipSpaces(includingNewlines: false)
        if !scanner.isAtEnd {
            throw SchemaError(
                "unexpected '\(scanner.currentCharacterText)' after \(keyword) declaration '\(declaration.name)'",
                at: scanner.location)
        }
        return declaration
    }

    /// Spaces, and line ends followed by a `//` comment line, between the tokens of a declaration. A `//`
    /// inside the comment starts a remark that runs to the end of that line.
    private static func space(_ scanner: inout SchemaScanner) {
        while true {
            scanner.skipSpaces(includingNewlines: false)
            if scanner.matches("//") { scanner.skipToEndOfLine() }
            guard scanner.isAtEnd, scanner.continueOnNextCommentLine() else { return }
        }
    }

    private static func found(_ scanner: SchemaScanner) -> String {
        scanner.currentCharacterText
    }

    private static func parseEnum(_ scanner: inout SchemaScanner, at location: SourceLocation) throws(SchemaError) -> EnumDeclaration {
        let name = try parseQualifiedName(&scanner, after: "enum")
        space(&scanner)
        var underlying = IntegerKind.i32
        if scanner.consume(":") {
            space(&scanner)
            let typeLocation = scanner.location
            let type = try scanner.parseTypeReference()
            guard type.arguments.isEmpty, let kind = IntegerKind(typeName: type.unqualifiedBaseName) else {
                throw SchemaError("underlying type of enum '\(name)' must be an integer type, found '\(type.spelling)'", at: typeLocation)
            }
            underlying = kind
            space(&scanner)
        }
        guard scanner.consume("{") else {
            throw SchemaError("expected '{' after enum '\(name)', found '\(scanner.currentCharacterText)'", at: scanner.location)
        }

        var cases: [EnumDeclaration.Case] = []
        var seen: Set<String> = []
        var nextValue: Int64? = 0
        while true {
            space(&scanner)
            if scanner.consume("}") { break }
            let caseLocation = scanner.location
            let caseName = scanner.readIdentifier()
            guard !caseName.isEmpty else {
                throw SchemaError("expected an enum case name or '}', found '\(scanner.currentCharacterText)'", at: caseLocation)
            }
            guard seen.insert(caseName).inserted else {
                throw SchemaError("duplicate case '\(caseName)' in enum '\(name)'", at: caseLocation)
            }
            space(&scanner)
            var value: Int64
            if scanner.consume("=") {
                space(&scanner)
                value = try parseInteger(&scanner, for: caseName)
            } else if let nextValue {
                value = nextValue
            } else {
                throw SchemaError("value of case '\(caseName)' overflows Int64", at: caseLocation)
            }
            guard underlying.contains(value) else {
                throw SchemaError("value \(value) of case '\(caseName)' does not fit \(underlying.rawValue)", at: caseLocation)
            }
            cases.append(EnumDeclaration.Case(name: caseName, value: value))
            let (following, overflow) = value.addingReportingOverflow(1)
            nextValue = overflow ? nil : following
            space(&scanner)
            if scanner.consume(",") { continue }
            if scanner.consume("}") { break }
            throw SchemaError(
                "expected ',' or '}' after enum case '\(caseName)', found '\(scanner.currentCharacterText)'", at: scanner.location)
        }
        return EnumDeclaration(name: name, underlying: underlying, cases: cases, location: location)
    }

    private static func parseAlias(_ scanner: inout SchemaScanner, at location: SourceLocation) throws(SchemaError) -> AliasDeclaration {
        let name = try parseQualifiedName(&scanner, after: "type")
        space(&scanner)
        guard scanner.consume("=") else {
            throw SchemaError("expected '=' after type name '\(name)', found '\(scanner.currentCharacterText)'", at: scanner.location)
        }
        space(&scanner)
        let target = try scanner.parseTypeReference()
        return AliasDeclaration(name: name, target: target, location: location)
    }

    private static func parseStruct(_ scanner: inout SchemaScanner, at location: SourceLocation) throws(SchemaError) -> StructDeclaration {
        let name = try parseQualifiedName(&scanner, after: "struct")
        space(&scanner)
        guard scanner.consume("{") else {
            throw SchemaError("expected '{' after struct '\(name)', found '\(found(scanner))'", at: scanner.location)
        }
        var fields: [StructDeclaration.Field] = []
        var seen: Set<String> = []
        while true {
            space(&scanner)
            if scanner.consume("}") { break }
            let fieldLocation = scanner.location
            let type = try scanner.parseTypeReference()
            space(&scanner)
            let fieldName = scanner.readIdentifier()
            guard !fieldName.isEmpty else {
                throw SchemaError(
                    "expected a field name after type '\(type.spelling)' in struct '\(name)', found '\(found(scanner))'",
                    at: scanner.location)
            }
            guard seen.insert(fieldName).inserted else {
                throw SchemaError("duplicate field '\(fieldName)' in struct '\(name)'", at: fieldLocation)
            }
            fields.append(StructDeclaration.Field(name: fieldName, type: type))
            space(&scanner)
            if scanner.consume(";") || scanner.consume(",") { continue }
            if scanner.consume("}") { break }
            throw SchemaError(
                "expected ';' or '}' after field '\(fieldName)' of struct '\(name)', found '\(found(scanner))'", at: scanner.location)
        }
        return StructDeclaration(name: name, fields: fields, location: location)
    }

    private static func parseTaggedUnion(
        _ scanner: inout SchemaScanner, at location: SourceLocation
    ) throws(SchemaError) -> TaggedUnionDeclaration {
        let name = try parseQualifiedName(&scanner, after: "variant")
        space(&scanner)
        guard scanner.consume(":") else {
            throw SchemaError("expected ':' and the tag type after variant '\(name)', found '\(found(scanner))'", at: scanner.location)
        }
        space(&scanner)
        let tag = try parseIntegerKind(&scanner, of: "tag of variant '\(name)'")
        space(&scanner)
        guard scanner.consume("{") else {
            throw SchemaError("expected '{' after variant '\(name)', found '\(found(scanner))'", at: scanner.location)
        }
        var cases: [TaggedUnionDeclaration.Case] = []
        while true {
            space(&scanner)
            if scanner.consume("}") { break }
            let caseLocation = scanner.location
            let value = try parseInteger(&scanner, for: "variant '\(name)'")
            guard tag.contains(value) else {
                throw SchemaError("tag \(value) does not fit \(tag.rawValue) in variant '\(name)'", at: caseLocation)
            }
            guard !cases.contains(where: { $0.tag == value }) else {
                throw SchemaError("duplicate tag \(value) in variant '\(name)'", at: caseLocation)
            }
            space(&scanner)
            guard scanner.consume("=") else {
                throw SchemaError("expected '=' and a type after tag \(value) of variant '\(name)', found '\(found(scanner))'",
                                  at: scanner.location)
            }
            space(&scanner)
            let type = try scanner.parseTypeReference()
            scanner.skipSpaces(includingNewlines: false)
            var caseName = scanner.readIdentifier()
            if caseName.isEmpty { caseName = "value" }
            cases.append(TaggedUnionDeclaration.Case(tag: value, name: caseName, type: type))
            space(&scanner)
            if scanner.consume(",") || scanner.consume(";") { continue }
            if scanner.consume("}") { break }
            throw SchemaError(
                "expected ',' or '}' after tag \(value) of variant '\(name)', found '\(found(scanner))'", at: scanner.location)
        }
        guard !cases.isEmpty else {
            throw SchemaError("variant '\(name)' needs at least one case", at: location)
        }
        return TaggedUnionDeclaration(name: name, tag: tag, cases: cases, location: location)
    }

    private static func parseOpaque(_ scanner: inout SchemaScanner, at location: SourceLocation) throws(SchemaError) -> OpaqueDeclaration {
        let name = try parseQualifiedName(&scanner, after: "opaque")
        space(&scanner)
        let quoteLocation = scanner.location
        guard scanner.consume("\"") else {
            throw SchemaError("expected a quoted reason after opaque '\(name)', found '\(found(scanner))'", at: quoteLocation)
        }
        var reason: [UInt8] = []
        while let byte = scanner.peek(), byte != UInt8(ascii: "\"") {
            reason.append(byte)
            scanner.advance()
        }
        guard scanner.consume("\"") else {
            throw SchemaError("unterminated reason of opaque '\(name)': the closing '\"' must be on the same line", at: quoteLocation)
        }
        return OpaqueDeclaration(name: name, reason: String(decoding: reason, as: UTF8.self), location: location)
    }

    /// `u8`…`i64`, C spellings, or `bool` (one byte).
    private static func parseIntegerKind(_ scanner: inout SchemaScanner, of what: String) throws(SchemaError) -> IntegerKind {
        let typeLocation = scanner.location
        let type = try scanner.parseTypeReference()
        if type.arguments.isEmpty, type.unqualifiedBaseName == "bool" { return .u8 }
        guard type.arguments.isEmpty, let kind = IntegerKind(typeName: type.unqualifiedBaseName) else {
            throw SchemaError("\(what) must be an integer type or bool, found '\(type.spelling)'", at: typeLocation)
        }
        return kind
    }

    /// `A::B::C` or `::A::B`; returned without the leading `::`.
    private static func parseQualifiedName(_ scanner: inout SchemaScanner, after keyword: String) throws(SchemaError) -> String {
        space(&scanner)
        let location = scanner.location
        _ = scanner.consume("::")
        var components: [String] = []
        repeat {
            let component = scanner.readIdentifier()
            guard !component.isEmpty else {
                throw SchemaError("expected a type name after '\(keyword)', found '\(scanner.currentCharacterText)'", at: location)
            }
            components.append(component)
        } while scanner.consume("::")
        return components.joined(separator: "::")
    }

    /// `-12`, `42`, `0x2A`, within Int64.
    private static func parseInteger(_ scanner: inout SchemaScanner, for caseName: String) throws(SchemaError) -> Int64 {
        let location = scanner.location
        let negative = scanner.consume("-")
        let radix: Int64 = scanner.consume("0x") || scanner.consume("0X") ? 16 : 10
        var magnitude: UInt64 = 0
        var digits = 0
        while let byte = scanner.peek(), let digit = digitValue(byte, radix: radix) {
            let (shifted, overflowA) = magnitude.multipliedReportingOverflow(by: UInt64(radix))
            let (added, overflowB) = shifted.addingReportingOverflow(UInt64(digit))
            if overflowA || overflowB {
                throw SchemaError("value of case '\(caseName)' is out of range", at: location)
            }
            magnitude = added
            digits += 1
            scanner.advance()
        }
        guard digits > 0 else {
            throw SchemaError("expected an integer value for case '\(caseName)'", at: location)
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else {
                throw SchemaError("value of case '\(caseName)' is out of range", at: location)
            }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else {
            throw SchemaError("value of case '\(caseName)' is out of range", at: location)
        }
        return Int64(magnitude)
    }

    private static func digitValue(_ byte: UInt8, radix: Int64) -> Int64? {
        let value: Int64
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): value = Int64(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): value = Int64(byte - UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): value = Int64(byte - UInt8(ascii: "A")) + 10
        default: return nil
        }
        return value < radix ? value : nil
    }
}
