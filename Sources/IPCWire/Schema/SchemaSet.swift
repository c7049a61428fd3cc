/// Several parsed schema files indexed for decoding: endpoints by magic, messages by id, and the
/// `@ipcscope` type declarations of all files merged into one ``TypeTable``.
///
/// Conflicts do not stop loading; they are listed in ``issues`` and the first declaration wins.
public struct SchemaSet: Sendable {
    /// Something odd about the combination of files: two endpoints with the same magic, or two different
    /// declarations of one type name.
    public struct Issue: Hashable, Sendable, CustomStringConvertible {
        public var message: String
        public var location: SourceLocation

        public var description: String { "\(location): \(message)" }
    }

    /// An endpoint and its message ids; `descriptors[id - 1]` is message `id`.
    public struct IndexedEndpoint: Sendable {
        public var endpoint: Endpoint
        public var file: String
        public var descriptors: [MessageDescriptor]

        public func descriptor(id: Int32) -> MessageDescriptor? {
            let index = Int(id) - 1
            return descriptors.indices.contains(index) ? descriptors[index] : nil
        }
    }

    public let files: [SchemaFile]
    public let endpointsByMagic: [UInt32: IndexedEndpoint]
    public let types: TypeTable
    public let issues: [Issue]

    public init(files: [SchemaFile]) {
        var endpoints: [UInt32: IndexedEndpoint] = [:]
        var declarations: [TypeDeclaration] = []
        var declarationByName: [String: TypeDeclaration] = [:]
        var issues: [Issue] = []

        for file in files {
            for endpoint in file.endpoints {
                if let existing = endpoints[endpoint.magic] {
                    let hex = "0x" + String(endpoint.magic, radix: 16, uppercase: true)
                    issues.append(Issue(
                        message: "endpoint '\(endpoint.name)' has magic \(hex), already used by '\(existing.endpoint.name)' "
                            + "(\(existing.endpoint.location)); '\(endpoint.name)' is ignored for decoding",
                        location: endpoint.location))
                    continue
                }
                endpoints[endpoint.magic] = IndexedEndpoint(
                    endpoint: endpoint, file: file.path, descriptors: endpoint.messageDescriptors)
            }
            for declaration in file.typeDeclarations {
                if let existing = declarationByName[declaration.name] {
                    if !Self.sameMeaning(existing, declaration) {
                        issues.append(Issue(
                            message: "type '\(declaration.name)' is declared differently at \(existing.location); the first declaration is used",
                            location: declaration.location))
                    }
                    continue
                }
                declarationByName[declaration.name] = declaration
                declarations.append(declaration)
            }
        }

        let types = TypeTable(declarations: declarations)
        for declaration in declarations {
            if case .alias(let alias) = declaration, let problem = types.problem(withAlias: alias.name) {
                issues.append(Issue(message: problem, location: alias.location))
            }
        }

        self.files = files
        self.endpointsByMagic = endpoints
        self.types = types
        self.issues = issues
    }

    public func endpoint(magic: UInt32) -> IndexedEndpoint? {
        endpointsByMagic[magic]
    }

    public func message(magic: UInt32, id: Int32) -> MessageDescriptor? {
        endpointsByMagic[magic]?.descriptor(id: id)
    }

    /// Declarations that differ only in where they are written are the same declaration.
    private static func sameMeaning(_ a: TypeDeclaration, _ b: TypeDeclaration) -> Bool {
        switch (a, b) {
        case (.enumeration(let x), .enumeration(let y)):
            x.underlying == y.underlying && x.cases == y.cases
        case (.alias(let x), .alias(let y)):
            x.target == y.target
        default:
            false
        }
    }
}
