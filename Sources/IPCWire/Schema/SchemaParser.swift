/// Parses `.ipc` endpoint definitions (docs/protocol.md §5), tolerant where Ladybird's generator is picky
/// (any number of comment lines anywhere whitespace may be) and strict where it would emit broken code
/// (unnamed or duplicate parameters, duplicate messages). Never traps: every problem is a ``SchemaError``.
public enum SchemaParser {
    public static func parse(_ text: String, path: String) throws(SchemaError) -> SchemaFile {
        try parse(bytes: Array(text.utf8), path: path)
    }

    public static func parse(bytes: [UInt8], path: String) throws(SchemaError) -> SchemaFile {
        var parser = SchemaFileParser(scanner: SchemaScanner(bytes: bytes, file: path))
        return try parser.parseFile()
    }
}

/// The recursive-descent parser behind ``SchemaParser``; one instance per file.
struct SchemaFileParser {
    var scanner: SchemaScanner
    private var declarations: [TypeDeclaration] = []
    private var declarationLocations: [String: SourceLocation] = [:]

    init(scanner: SchemaScanner) {
        self.scanner = scanner
    }

    mutating func parseFile() throws(SchemaError) -> SchemaFile {
        var endpoints: [Endpoint] = []
        var endpointLocations: [String: SourceLocation] = [:]
        var pendingIncludes: [String] = []
        var firstPendingInclude: SourceLocation?
        // Editors on some systems start UTF-8 files with a byte order mark.
        _ = scanner.consume("\u{FEFF}")

        while true {
            try skipTrivia()
            if scanner.isAtEnd { break }
            if scanner.peek() == UInt8(ascii: "#") {
                if firstPendingInclude == nil { firstPendingInclude = scanner.location }
                let begin = scanner.position
                scanner.skipToEndOfLine()
                pendingIncludes.append(trimmingCarriageReturn(scanner.text(from: begin)))
                continue
            }
            let location = scanner.location
            guard consumeKeyword("endpoint") else {
                throw SchemaError("expected 'endpoint', found '\(foundText())'", at: location)
            }
            let endpoint = try parseEndpoint(at: location, includes: pendingIncludes)
            if let first = endpointLocations[endpoint.name] {
                throw SchemaError("duplicate endpoint '\(endpoint.name)' (first declared at line \(first.line))", at: location)
            }
            endpointLocations[endpoint.name] = location
            endpoints.append(endpoint)
            pendingIncludes = []
            firstPendingInclude = nil
        }

        if let firstPendingInclude {
            throw SchemaError("expected 'endpoint' after '#' lines", at: firstPendingInclude)
        }
        if endpoints.isEmpty && declarations.isEmpty {
            throw SchemaError("empty file: expected 'endpoint'", at: scanner.location)
        }
        return SchemaFile(path: scanner.file, endpoints: endpoints, typeDeclarations: declarations)
    }

    // MARK: - Endpoint and messages

    private mutating func parseEndpoint(at location: SourceLocation, includes: [String]) throws(SchemaError) -> Endpoint {
        try skipTrivia()
        let nameLocation = scanner.location
        let name = scanner.readIdentifier()
        guard !name.isEmpty else {
            throw SchemaError("expected endpoint name after 'endpoint', found '\(foundText())'", at: nameLocation)
        }
        try skipTrivia()
        var routing: Parameter?
        if consumeKeyword("routed") {
            routing = try parseRouting(of: name)
            try skipTrivia()
        }
        guard scanner.consume("{") else {
            throw SchemaError("expected '{' after endpoint name '\(name)', found '\(foundText())'", at: scanner.location)
        }

        var messages: [MessageDefinition] = []
        var messageLocations: [String: SourceLocation] = [:]
        var nextID: Int32 = 1
        while true {
            try skipTrivia()
            if scanner.isAtEnd {
                throw SchemaError("expected '}' to close endpoint '\(name)' (opened at line \(location.line))", at: scanner.location)
            }
            if scanner.consume("}") { break }
            let message = try parseMessage(id: nextID)
            if let first = messageLocations[message.name] {
                throw SchemaError(
                    "duplicate message '\(message.name)' in endpoint '\(name)' (first declared at line \(first.line))",
                    at: message.location)
            }
            messageLocations[message.name] = message.location
            messages.append(message)
            let (advanced, overflow) = nextID.addingReportingOverflow(message.isSync ? 2 : 1)
            if overflow {
                throw SchemaError("too many messages in endpoint '\(name)': ids exceed Int32", at: message.location)
            }
            nextID = advanced
        }
        return Endpoint(name: name, includes: includes, messages: messages, location: location, routing: routing)
    }

    /// `routed by Type name` after an endpoint name: which parameter the generated code dispatches on. Each
    /// message still declares that parameter itself, so it changes nothing on the wire.
    private mutating func parseRouting(of endpoint: String) throws(SchemaError) -> Parameter {
        try skipTrivia()
        guard consumeKeyword("by") else {
            throw SchemaError("expected 'by' after 'routed' in endpoint '\(endpoint)', found '\(foundText())'", at: scanner.location)
        }
        try skipTrivia()
        let location = scanner.location
        let type = try scanner.parseTypeReference()
        try skipTrivia()
        let name = scanner.readIdentifier()
        guard !name.isEmpty else {
            throw SchemaError("expected a parameter name after 'routed by \(type.spelling)', found '\(foundText())'", at: scanner.location)
        }
        return Parameter(name: name, type: type, location: location)
    }

    private mutating func parseMessage(id: Int32) throws(SchemaError) -> MessageDefinition {
        // `[NotRouted] name(…)`: attributes for the generator, no effect on the wire.
        var attributes: [String] = []
        if scanner.consume("[") {
            attributes = try parseAttributes()
            try skipTrivia()
        }
        let location = scanner.location
        let name = scanner.readIdentifier()
        guard !name.isEmpty else {
            throw SchemaError("expected message name or '}', found '\(foundText())'", at: location)
        }
        try skipTrivia()
        guard scanner.consume("(") else {
            throw SchemaError("expected '(' after message name '\(name)', found '\(foundText())'", at: scanner.location)
        }
        let parameters = try parseParameterList(of: "message '\(name)'")
        try skipTrivia()
        if scanner.consume("=|") {
            return MessageDefinition(
                name: name, isSync: false, parameters: parameters, responseParameters: [],
                location: location, requestID: id, responseID: nil, attributes: attributes)
        }
        guard scanner.consume("=>") else {
            throw SchemaError(
                "expected '=|' or '=>' after the parameters of message '\(name)', found '\(foundText())'", at: scanner.location)
        }
        try skipTrivia()
        guard scanner.consume("(") else {
            throw SchemaError("expected '(' after '=>' in message '\(name)', found '\(foundText())'", at: scanner.location)
        }
        let outputs = try parseParameterList(of: "the response of message '\(name)'")
        return MessageDefinition(
            name: name, isSync: true, parameters: parameters, responseParameters: outputs,
            location: location, requestID: id, responseID: id &+ 1, attributes: attributes)
    }

    // MARK: - Parameters

    /// Parses after an opening `(` up to and including the matching `)`.
    private mutating func parseParameterList(of owner: String) throws(SchemaError) -> [Parameter] {
        try skipTrivia()
        if scanner.consume(")") { return [] }
        var parameters: [Parameter] = []
        var seen: Set<String> = []
        while true {
            let parameter = try parseParameter()
            guard seen.insert(parameter.name).inserted else {
                throw SchemaError(
                    "duplicate parameter name '\(parameter.name)' in \(owner)",
                    at: parameter.location ?? scanner.location)
            }
            parameters.append(parameter)
            try skipTrivia()
            if scanner.consume(",") {
                try skipTrivia()
                continue
            }
            if scanner.consume(")") { return parameters }
            throw SchemaError(
                "expected ',' or ')' after parameter '\(parameter.name)', found '\(foundText())'", at: scanner.location)
        }
    }

    private mutating func parseParameter() throws(SchemaError) -> Parameter {
        let location = scanner.location
        var attributes: [String] = []
        if scanner.consume("[") {
            attributes = try parseAttributes()
            try skipTrivia()
        }
        let typeLocation = scanner.location
        let type = try scanner.parseTypeReference()
        try skipTrivia()
        let name = scanner.readIdentifier()
        guard !name.isEmpty else {
            if scanner.isAtEnd || scanner.peek() == UInt8(ascii: ",") || scanner.peek() == UInt8(ascii: ")") {
                throw SchemaError("parameter of type '\(type.spelling)' must be named", at: typeLocation)
            }
            throw SchemaError(
                "expected a parameter name after type '\(type.spelling)', found '\(foundText())'", at: scanner.location)
        }
        return Parameter(name: name, type: type, attributes: attributes, location: location)
    }

    /// Parses after `[` up to and including `]`: `UTF8` or `A, B`.
    private mutating func parseAttributes() throws(SchemaError) -> [String] {
        var attributes: [String] = []
        while true {
            try skipTrivia()
            let attribute = scanner.readIdentifier()
            guard !attribute.isEmpty else {
                throw SchemaError("expected an attribute name, found '\(foundText())'", at: scanner.location)
            }
            attributes.append(attribute)
            try skipTrivia()
            if scanner.consume(",") { continue }
            if scanner.consume("]") { return attributes }
            throw SchemaError("expected ',' or ']' after attribute '\(attribute)', found '\(foundText())'", at: scanner.location)
        }
    }

    // MARK: - Trivia: whitespace, comments and the @ipcscope declarations inside comments

    private mutating func skipTrivia() throws(SchemaError) {
        while true {
            scanner.skipSpaces(includingNewlines: true)
            guard scanner.matches("//") else { return }
            var comment = scanner.limited(to: scanner.endOfLine)
            comment.advance(by: 2)
            comment.skipSpaces(includingNewlines: false)
            if comment.consume(TypeDeclarationParser.marker), comment.isAtEnd || comment.peekIsSpace {
                let declaration = try TypeDeclarationParser.parse(&comment)
                try record(declaration)
                // A multi-line declaration ends on a later line: go on from there.
                scanner.resume(at: comment)
            }
            scanner.skipToEndOfLine()
        }
    }

    private mutating func record(_ declaration: TypeDeclaration) throws(SchemaError) {
        if let first = declarationLocations[declaration.name] {
            throw SchemaError(
                "duplicate @ipcscope declaration of '\(declaration.name)' (first declared at line \(first.line))",
                at: declaration.location)
        }
        declarationLocations[declaration.name] = declaration.location
        declarations.append(declaration)
    }

    // MARK: - Helpers

    /// Consumes `keyword` when it is a whole word at the cursor.
    private mutating func consumeKeyword(_ keyword: String) -> Bool {
        guard scanner.matches(keyword) else { return false }
        if let next = scanner.peek(keyword.utf8.count), SchemaScanner.isIdentifierByte(next) { return false }
        scanner.advance(by: keyword.utf8.count)
        return true
    }

    /// What is at the cursor, for "found '…'": a whole word, or one character.
    private func foundText() -> String {
        var copy = scanner
        let word = copy.readIdentifier()
        return word.isEmpty ? scanner.currentCharacterText : word
    }

    private func trimmingCarriageReturn(_ line: String) -> String {
        line.hasSuffix("\r") ? String(line.dropLast()) : line
    }
}
