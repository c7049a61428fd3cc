/// Parses the body of an `@ipcscope` line comment (everything after the marker, up to the end of the line):
///
///     enum Demo::LoadState : u8 { Idle = 0, Loading, Complete = 5 }
///     type Demo::PageID = u64
///
/// Enum values auto-increment like C; each must fit the underlying integer type.
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
        default:
            throw SchemaError("expected 'enum' or 'type' after '\(marker)'", at: location)
        }
        scanner.skipSpaces(includingNewlines: false)
        if !scanner.isAtEnd {
            throw SchemaError(
                "unexpected '\(scanner.currentCharacterText)' after \(keyword) declaration '\(declaration.name)'",
                at: scanner.location)
        }
        return declaration
    }

    private static func parseEnum(_ scanner: inout SchemaScanner, at location: SourceLocation) throws(SchemaError) -> EnumDeclaration {
        let name = try parseQualifiedName(&scanner, after: "enum")
        scanner.skipSpaces(includingNewlines: false)
        var underlying = IntegerKind.i32
        if scanner.consume(":") {
            scanner.skipSpaces(includingNewlines: false)
            let typeLocation = scanner.location
            let type = try scanner.parseTypeReference()
            guard type.arguments.isEmpty, let kind = IntegerKind(typeName: type.unqualifiedBaseName) else {
                throw SchemaError("underlying type of enum '\(name)' must be an integer type, found '\(type.spelling)'", at: typeLocation)
            }
            underlying = kind
            scanner.skipSpaces(includingNewlines: false)
        }
        guard scanner.consume("{") else {
            throw SchemaError("expected '{' after enum '\(name)', found '\(scanner.currentCharacterText)'", at: scanner.location)
        }

        var cases: [EnumDeclaration.Case] = []
        var seen: Set<String> = []
        var nextValue: Int64? = 0
        while true {
            scanner.skipSpaces(includingNewlines: false)
            if scanner.consume("}") { break }
            let caseLocation = scanner.location
            let caseName = scanner.readIdentifier()
            guard !caseName.isEmpty else {
                throw SchemaError("expected an enum case name or '}', found '\(scanner.currentCharacterText)'", at: caseLocation)
            }
            guard seen.insert(caseName).inserted else {
                throw SchemaError("duplicate case '\(caseName)' in enum '\(name)'", at: caseLocation)
            }
            scanner.skipSpaces(includingNewlines: false)
            var value: Int64
            if scanner.consume("=") {
                scanner.skipSpaces(includingNewlines: false)
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
            scanner.skipSpaces(includingNewlines: false)
            if scanner.consume(",") { continue }
            if scanner.consume("}") { break }
            throw SchemaError(
                "expected ',' or '}' after enum case '\(caseName)', found '\(scanner.currentCharacterText)'", at: scanner.location)
        }
        return EnumDeclaration(name: name, underlying: underlying, cases: cases, location: location)
    }

    private static func parseAlias(_ scanner: inout SchemaScanner, at location: SourceLocation) throws(SchemaError) -> AliasDeclaration {
        let name = try parseQualifiedName(&scanner, after: "type")
        scanner.skipSpaces(includingNewlines: false)
        guard scanner.consume("=") else {
            throw SchemaError("expected '=' after type name '\(name)', found '\(scanner.currentCharacterText)'", at: scanner.location)
        }
        scanner.skipSpaces(includingNewlines: false)
        let target = try scanner.parseTypeReference()
        return AliasDeclaration(name: name, target: target, location: location)
    }

    /// `A::B::C` or `::A::B`; returned without the leading `::`.
    private static func parseQualifiedName(_ scanner: inout SchemaScanner, after keyword: String) throws(SchemaError) -> String {
        scanner.skipSpaces(includingNewlines: false)
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
