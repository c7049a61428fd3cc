/// How much of a set of endpoint files the decoder can decode fully: messages (every id: async messages,
/// requests and responses) whose parameters all resolve, parameters that resolve, and the types that do
/// not, with the number of parameters each one blocks (`ipcscope schema --coverage`).
public struct SchemaCoverage: Sendable {
    public struct UnresolvedType: Hashable, Sendable {
        /// The type as written at the point where decoding would stop (`Web::Foo`, not `Vector<Web::Foo>`).
        public var name: String
        /// Parameters that contain it (a parameter counts once per distinct unresolved type).
        public var uses: Int
        public var reason: String
    }

    public var messages = 0
    public var decodableMessages = 0
    public var parameters = 0
    public var resolvedParameters = 0
    /// Most used first, then by name.
    public var unresolved: [UnresolvedType] = []

    /// Counts every endpoint of `files` (also those whose magic another file already uses).
    public init(files: [SchemaFile], types: TypeTable) {
        var uses: [String: (count: Int, reason: String)] = [:]
        for descriptor in files.flatMap(\.messageDescriptors) {
            messages += 1
            var complete = true
            for parameter in descriptor.parameters {
                parameters += 1
                let missing = types.unresolvedTypes(in: parameter.type)
                if missing.isEmpty {
                    resolvedParameters += 1
                    continue
                }
                complete = false
                for (name, reason) in missing {
                    uses[name, default: (0, reason)].count += 1
                }
            }
            if complete { decodableMessages += 1 }
        }
        unresolved = uses.map { UnresolvedType(name: $0.key, uses: $0.value.count, reason: $0.value.reason) }
            .sorted { ($0.uses, $1.name) > ($1.uses, $0.name) }
    }

    public init(schemas: SchemaSet) {
        self.init(files: schemas.files, types: schemas.types)
    }
}

extension TypeTable {
    /// The parts of `type` (it, or any part at any depth: arguments, struct fields, variant cases) that
    /// cannot be decoded, each once, with the reason; empty when `type` decodes fully.
    public func unresolvedTypes(in type: TypeReference) -> [(name: String, reason: String)] {
        var visited: Set<String> = []
        var found: [(name: String, reason: String)] = []
        collectUnresolved(in: type, visited: &visited, found: &found, depth: 0)
        return found
    }

    private func collectUnresolved(
        in type: TypeReference, visited: inout Set<String>, found: inout [(name: String, reason: String)], depth: Int
    ) {
        guard depth < Self.maxAliasHops, visited.insert(type.spelling).inserted else { return }
        let shape = shape(of: type)
        if case .unknown(let reason) = shape {
            let name = type.arguments.isEmpty ? TypeTable.declaredName(type) : type.spelling
            if !found.contains(where: { $0.name == name }) { found.append((name, reason)) }
            return
        }
        var children: [TypeReference] = []
        _ = shape.mapChildren { children.append($0) }
        for child in children {
            collectUnresolved(in: child, visited: &visited, found: &found, depth: depth + 1)
        }
    }
}
