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
    /// The type packs loaded because the files refer to a type they declare (see ``TypePack``).
    public let loadedTypePacks: [TypePack]

    /// - Parameter typePacks: packs to load when the files refer to one of their types; the files' own
    ///   declarations come first, so they override a pack's.
    public init(files: [SchemaFile], typePacks: [TypePack] = TypePack.defaults) {
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
                    if !existing.sameMeaning(as: declaration) {
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

        var loadedPacks: [TypePack] = []
        for pack in typePacks where Self.refers(to: pack, files: files, declared: declarationByName) {
            loadedPacks.append(pack)
            for declaration in pack.declarations where declarationByName[declaration.name] == nil {
                declarationByName[declaration.name] = declaration
                declarations.append(declaration)
            }
        }

        let types = TypeTable(declarations: declarations)
        let ownNames = Set(files.flatMap(\.typeDeclarations).map(\.name))
        for declaration in declarations where ownNames.contains(declaration.name) {
            if case .alias(let alias) = declaration, let problem = types.problem(withAlias: alias.name) {
                issues.append(Issue(message: problem, location: alias.location))
            }
        }

        self.files = files
        self.endpointsByMagic = endpoints
        self.types = types
        self.issues = issues
        self.loadedTypePacks = loadedPacks
    }

    /// Whether a parameter or a declaration of `files` names a type that `pack` declares and they do not.
    private static func refers(to pack: TypePack, files: [SchemaFile], declared: [String: TypeDeclaration]) -> Bool {
        let offered = Set(pack.declarations.map(\.name)).subtracting(declared.keys)
        guard !offered.isEmpty else { return false }
        var referred = false
        func visit(_ type: TypeReference) {
            if !referred { type.forEachBaseName { if offered.contains($0) { referred = true } } }
        }
        for file in files {
            for endpoint in file.endpoints {
                for message in endpoint.messages {
                    message.parameters.forEach { visit($0.type) }
                    message.responseParameters.forEach { visit($0.type) }
                }
            }
            for declaration in file.typeDeclarations {
                switch declaration {
                case .alias(let alias): visit(alias.target)
                case .structure(let structure): structure.fields.forEach { visit($0.type) }
                case .taggedUnion(let union): union.cases.forEach { visit($0.type) }
                case .enumeration, .opaque: break
                }
            }
            if referred { return true }
        }
        return referred
    }

    public func endpoint(magic: UInt32) -> IndexedEndpoint? {
        endpointsByMagic[magic]
    }

    public func message(magic: UInt32, id: Int32) -> MessageDescriptor? {
        endpointsByMagic[magic]?.descriptor(id: id)
    }
}
