import ArgumentParser
import Foundation
import IPCWire

/// `ipcscope schema FILE.ipc…`: the endpoints, magics and message ids that LibIPC derives from `.ipc` files.
struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "List the endpoints, magics and message ids of .ipc files.",
        discussion: """
            Every file is parsed before anything is printed: a malformed file prints \
            'error: FILE:LINE:COL: message' on stderr and nothing on stdout, and the command exits non-zero.
            """
    )

    @Argument(help: "The .ipc files to read.")
    var files: [String] = []

    @Flag(name: .long, help: "Print JSON: {\"endpoints\":[{name, magic, file, messages:[{name, id, kind, params}]}]}.")
    var json = false

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one .ipc file") }
    }

    func run() throws {
        var parsed: [SchemaFile] = []
        var errors: [String] = []
        for path in files {
            switch SchemaFileLoader.load(path) {
            case .success(let file): parsed.append(file)
            case .failure(let message): errors.append(message)
            }
        }
        guard errors.isEmpty else {
            for message in errors { StandardError.write("error: " + message) }
            throw ExitCode.failure
        }
        for issue in SchemaSet(files: parsed).issues {
            StandardError.write("warning: \(issue)")
        }
        if json {
            print(try SchemaListingJSON.render(parsed))
        } else {
            print(SchemaListingText.render(parsed), terminator: "")
        }
    }
}

/// Reads and parses one file, turning every failure into the message to print after `error: `.
enum SchemaFileLoader {
    enum Loaded {
        case success(SchemaFile)
        case failure(String)
    }

    static func load(_ path: String) -> Loaded {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            return .failure("\(path): no such file")
        }
        if isDirectory.boolValue { return .failure("\(path): is a directory") }
        let bytes: [UInt8]
        switch SchemaFileReader.read(path) {
        case .success(let read): bytes = read
        case .failure(let failure): return .failure(failure.description)
        }
        do {
            return .success(try SchemaParser.parse(bytes: bytes, path: path))
        } catch {
            return .failure(error.description)
        }
    }
}

enum StandardError {
    static func write(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
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
    }

    static func render(_ files: [SchemaFile]) throws -> String {
        let listing = Listing(
            endpoints: files.flatMap { file in
                file.endpoints.map { endpoint in
                    EndpointEntry(
                        name: endpoint.name, magic: endpoint.magic, file: file.path,
                        messages: endpoint.messageDescriptors.map(messageEntry))
                }
            },
            types: files.flatMap { file in file.typeDeclarations.map { typeEntry($0, file: file.path) } })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(listing), as: UTF8.self)
    }

    private static func messageEntry(_ descriptor: MessageDescriptor) -> MessageEntry {
        MessageEntry(
            name: descriptor.name, id: descriptor.id, kind: descriptor.kind.rawValue,
            params: descriptor.parameters.map { parameter in
                ParameterEntry(
                    name: parameter.name, type: parameter.type.spelling,
                    attributes: parameter.attributes.isEmpty ? nil : parameter.attributes)
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
        }
    }
}
