import ArgumentParser
import Foundation
import IPCWire
import SystemSupport

/// `ipcscope schema FILE.ipc|DIR…`: the endpoints, magics and message ids that LibIPC derives from `.ipc`
/// files; with `--coverage`, how much of them the decoder can decode.
struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "List the endpoints, magics and message ids of .ipc files, or how much of them decodes.",
        discussion: """
            A directory is searched recursively for .ipc files. Every file is parsed before anything is \
            printed: a malformed file prints 'ipcscope schema: FILE:LINE:COL: message' on stderr and nothing on \
            stdout. The Ladybird type pack is loaded when the files name one of its types (--no-type-pack leaves it out).

            Examples:
              ipcscope schema Services/WebContent/WebContentServer.ipc
              ipcscope schema --json Services/ | jq '.endpoints[].name'
              ipcscope schema --coverage Services/WebContent/

            Exit status: 0; 65 when a file does not parse (or is too large for a schema); 66 when a file or \
            directory cannot be read or holds no .ipc file; 64 for a usage error.
            """
    )

    @Argument(help: "The .ipc files, or directories to search for them.")
    var files: [String] = []

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    @Flag(name: .long, help: "Print how many messages and parameters decode fully, and every unresolved type with its number of uses.")
    var coverage = false

    @Flag(name: .customLong("no-type-pack"), help: "Do not load the Ladybird type pack.")
    var noTypePack = false

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one .ipc file or directory") }
    }

    func run() throws {
        var parsed: [SchemaFile] = []
        var errors: [(message: String, status: Int32)] = []
        for path in files {
            switch SchemaFileLoader.loadAll(path) {
            case .success(let loaded): parsed += loaded
            case .failure(let message, let status): errors.append((message, status))
            }
        }
        if let first = errors.first {
            for error in errors { ErrorLine.write("schema", error.message) }
            throw ExitCode(first.status)
        }
        let set = SchemaSet(files: parsed, typePacks: noTypePack ? [] : TypePack.defaults)
        for issue in set.issues {
            ErrorLine.write("schema", "warning: \(issue)")
        }
        if coverage {
            let report = SchemaCoverage(schemas: set)
            print(json ? try SchemaCoverageOutput.json(report, set: set) : SchemaCoverageOutput.text(report, set: set),
                  terminator: json ? "\n" : "")
        } else if json {
            print(try SchemaListingJSON.render(parsed, types: set.types))
        } else {
            print(SchemaListingText.render(parsed), terminator: "")
        }
    }
}

/// Reads and parses one file, turning every failure into the message to print after `error: `.
enum SchemaFileLoader {
    /// A failure carries its exit status: 66 (cannot be read) or 65 (does not parse).
    enum Loaded {
        case success(SchemaFile)
        case failure(String, Int32)
    }

    enum LoadedAll {
        case success([SchemaFile])
        case failure(String, Int32)
    }

    /// A file, or every `.ipc` file under a directory (recursively, in path order).
    static func loadAll(_ path: String) -> LoadedAll {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            return .failure("\(path): \(ErrnoText.describe(ENOENT))", CLIStatus.noInput)
        }
        guard isDirectory.boolValue else {
            switch load(path) {
            case .success(let file): return .success([file])
            case .failure(let message, let status): return .failure(message, status)
            }
        }
        guard let walker = FileManager.default.enumerator(atPath: path) else {
            return .failure("\(path): cannot be listed", CLIStatus.noInput)
        }
        let base = path.hasSuffix("/") ? path : path + "/"
        var files: [SchemaFile] = []
        for relative in walker.compactMap({ $0 as? String }).filter({ $0.hasSuffix(".ipc") }).sorted() {
            switch load(base + relative) {
            case .success(let file): files.append(file)
            case .failure(let message, let status): return .failure(message, status)
            }
        }
        guard !files.isEmpty else { return .failure("\(path): no .ipc files in this directory", CLIStatus.noInput) }
        return .success(files)
    }

    static func load(_ path: String) -> Loaded {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            return .failure("\(path): \(ErrnoText.describe(ENOENT))", CLIStatus.noInput)
        }
        if isDirectory.boolValue { return .failure("\(path): \(ErrnoText.describe(EISDIR))", CLIStatus.noInput) }
        let bytes: [UInt8]
        switch SchemaFileReader.read(path) {
        case .success(let read): bytes = read
        case .failure(let failure):
            if case .tooLarge = failure { return .failure(failure.description, CLIStatus.dataError) }
            return .failure(failure.description, CLIStatus.noInput)
        }
        do {
            return .success(try SchemaParser.parse(bytes: bytes, path: path))
        } catch {
            return .failure(error.description, CLIStatus.dataError)
        }
    }
}

// MARK: - Coverage

/// `schema --coverage`: totals, then the unresolved types, most used first.
enum SchemaCoverageOutput {
    static func text(_ report: SchemaCoverage, set: SchemaSet) -> String {
        var out = "messages    \(report.decodableMessages) of \(report.messages) fully decodable (\(percent(report.decodableMessages, report.messages)))\n"
        out += "parameters  \(report.resolvedParameters) of \(report.parameters) resolved (\(percent(report.resolvedParameters, report.parameters)))\n"
        out += "type packs  " + (set.loadedTypePacks.isEmpty ? "none" : set.loadedTypePacks.map { "\($0.name) (\($0.describes))" }.joined(separator: ", ")) + "\n"
        if report.unresolved.isEmpty { return out + "unresolved types: none\n" }
        out += "unresolved types (\(report.unresolved.count)):\n"
        let width = report.unresolved.map { String($0.uses).count }.max() ?? 1
        let nameWidth = min(60, report.unresolved.map(\.name.count).max() ?? 0)
        for type in report.unresolved {
            let uses = String(repeating: " ", count: width - String(type.uses).count) + String(type.uses)
            // A type nobody declared needs no repetition of its name as the reason.
            let reason = type.reason == "unknown type '\(type.name)'" ? "not declared" : type.reason
            out += "  \(uses)  \(type.name)\(String(repeating: " ", count: max(0, nameWidth - type.name.count)))  \(reason)\n"
        }
        return out
    }

    struct Report: Encodable {
        struct Count: Encodable {
            var total: Int
            var decodable: Int
        }

        struct Unresolved: Encodable {
            var name: String
            var uses: Int
            var reason: String
        }

        struct Pack: Encodable {
            var name: String
            var describes: String
        }

        var messages: Count
        var parameters: Count
        var typePacks: [Pack]
        var unresolvedTypes: [Unresolved]
    }

    static func json(_ report: SchemaCoverage, set: SchemaSet) throws -> String {
        let value = Report(
            messages: .init(total: report.messages, decodable: report.decodableMessages),
            parameters: .init(total: report.parameters, decodable: report.resolvedParameters),
            typePacks: set.loadedTypePacks.map { .init(name: $0.name, describes: $0.describes) },
            unresolvedTypes: report.unresolved.map { .init(name: $0.name, uses: $0.uses, reason: $0.reason) })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// One decimal, rounded down, so that 94.96 % never shows as 95.0 %.
    static func percent(_ part: Int, _ whole: Int) -> String {
        guard whole > 0 else { return "100.0%" }
        let tenths = part * 1000 / whole
        return "\(tenths / 10).\(tenths % 10)%"
    }
}

// MARK: - Text listing

/// Aligned, human-readable listing: one block per endpoint, then the declared types.
enum SchemaListingText {
    static func render(_ files: [SchemaFile]) -> String {
        var out = ""
        for file in files {
            for endpoint in file.endpoints {
                if !out.isEmpty { out += "\n" }
                out += renderEndpoint(endpoint, file: file.path)
            }
        }
        let declarations = files.flatMap { file in file.typeDeclarations.map { (file.path, $0) } }
        if !declarations.isEmpty {
            if !out.isEmpty { out += "\n" }
            out += "types\n"
            for (path, declaration) in declarations {
                out += "  " + render(declaration) + "    (\(path):\(declaration.location.line))\n"
            }
        }
        return out
    }

    private static func renderEndpoint(_ endpoint: Endpoint, file: String) -> String {
        let hex = String(endpoint.magic, radix: 16, uppercase: true)
        var out = "endpoint \(endpoint.name)  magic 0x\(String(repeating: "0", count: max(0, 8 - hex.count)))\(hex)"
            + " (\(endpoint.magic))  \(file)\n"
        let descriptors = endpoint.messageDescriptors
        if descriptors.isEmpty { return out + "  (no messages)\n" }
        let idWidth = max(2, descriptors.map { String($0.id).count }.max() ?? 0)
        let kindWidth = MessageKind.allCases.map(\.rawValue.count).max() ?? 8
        let nameWidth = descriptors.map(\.name.count).max() ?? 0
        out += "  " + pad("id", idWidth, right: true) + "  " + pad("kind", kindWidth) + "  " + pad("message", nameWidth)
            + "  parameters\n"
        for descriptor in descriptors {
            let parameters = descriptor.parameters.map { parameter in
                let attributes = parameter.attributes.isEmpty ? "" : "[" + parameter.attributes.joined(separator: ", ") + "] "
                return attributes + parameter.type.writtenText + " " + parameter.name
            }
            out += "  " + pad(String(descriptor.id), idWidth, right: true) + "  " + pad(descriptor.kind.rawValue, kindWidth)
                + "  " + pad(descriptor.name, nameWidth) + "  (" + parameters.joined(separator: ", ") + ")\n"
        }
        return out
    }

    private static func render(_ declaration: TypeDeclaration) -> String {
        switch declaration {
        case .enumeration(let enumeration):
            let cases = enumeration.cases.map { "\($0.name) = \($0.value)" }.joined(separator: ", ")
            return "enum \(enumeration.name) : \(enumeration.underlying.rawValue) { \(cases) }"
        case .alias(let alias):
            return "type \(alias.name) = \(alias.target.spelling)"
        case .structure(let structure):
            return "struct \(structure.name) { " + structure.fields.map { "\($0.type.spelling) \($0.name)" }.joined(separator: "; ") + " }"
        case .taggedUnion(let union):
            let cases = union.cases.map { "\($0.tag) = \($0.type.spelling) \($0.name)" }.joined(separator: ", ")
            return "variant \(union.name) : \(union.tag.rawValue) { \(cases) }"
        case .opaque(let opaque):
            return "opaque \(opaque.name) \"\(opaque.reason)\""
        }
    }

    private static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let padding = String(repeating: " ", count: max(0, width - text.count))
        return right ? padding + text : text + padding
    }
}

// MARK: - JSON listing

/// `{"endpoints":[{"name","magic","file","messages":[{"name","id","kind","params":[{"name","type"}]}]}],"types":[…]}`.
enum SchemaListingJSON {
    struct Listing: Encodable {
        var endpoints: [EndpointEntry]
        var types: [TypeEntry]
    }

    struct EndpointEntry: Encodable {
        var name: String
        var magic: UInt32
        var file: String
        var messages: [MessageEntry]
    }

    struct MessageEntry: Encodable {
        var name: String
        var id: Int32
        var kind: String
        var params: [ParameterEntry]
    }

    struct ParameterEntry: Encodable {
        var name: String
        var type: String
        /// Omitted when the parameter has none.
        var attributes: [String]?
        /// Whether the decoder knows every part of the type.
        var resolved: Bool
        /// The parts it does not know (omitted when resolved).
        var unresolved: [String]?
    }

    struct TypeEntry: Encodable {
        struct Case: Encodable {
            var name: String
            var value: Int64
        }

        var name: String
        var kind: String
        var file: String
        var underlying: String?
        var cases: [Case]?
        var target: String?
        /// Struct fields, or variant cases (`tag` set), in wire order.
        var fields: [Field]?
        var tagType: String?
        var reason: String?
    }

    struct Field: Encodable {
        var name: String
        var type: String
        var tag: Int64?
    }

    static func render(_ files: [SchemaFile], types: TypeTable) throws -> String {
        let listing = Listing(
            endpoints: files.flatMap { file in
                file.endpoints.map { endpoint in
                    EndpointEntry(
                        name: endpoint.name, magic: endpoint.magic, file: file.path,
                        messages: endpoint.messageDescriptors.map { messageEntry($0, types: types) })
                }
            },
            types: files.flatMap { file in file.typeDeclarations.map { typeEntry($0, file: file.path) } })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(listing), as: UTF8.self)
    }

    private static func messageEntry(_ descriptor: MessageDescriptor, types: TypeTable) -> MessageEntry {
        MessageEntry(
            name: descriptor.name, id: descriptor.id, kind: descriptor.kind.rawValue,
            params: descriptor.parameters.map { parameter in
                let missing = types.unresolvedTypes(in: parameter.type).map(\.name)
                return ParameterEntry(
                    name: parameter.name, type: parameter.type.spelling,
                    attributes: parameter.attributes.isEmpty ? nil : parameter.attributes,
                    resolved: missing.isEmpty, unresolved: missing.isEmpty ? nil : missing)
            })
    }

    private static func typeEntry(_ declaration: TypeDeclaration, file: String) -> TypeEntry {
        switch declaration {
        case .enumeration(let enumeration):
            TypeEntry(
                name: enumeration.name, kind: "enum", file: file, underlying: enumeration.underlying.rawValue,
                cases: enumeration.cases.map { TypeEntry.Case(name: $0.name, value: $0.value) })
        case .alias(let alias):
            TypeEntry(name: alias.name, kind: "alias", file: file, target: alias.target.spelling)
        case .structure(let structure):
            TypeEntry(
                name: structure.name, kind: "struct", file: file,
                fields: structure.fields.map { Field(name: $0.name, type: $0.type.spelling) })
        case .taggedUnion(let union):
            TypeEntry(
                name: union.name, kind: "variant", file: file,
                fields: union.cases.map { Field(name: $0.name, type: $0.type.spelling, tag: $0.tag) }, tagType: union.tag.rawValue)
        case .opaque(let opaque):
            TypeEntry(name: opaque.name, kind: "opaque", file: file, reason: opaque.reason)
        }
    }
}
