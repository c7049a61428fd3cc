/// The `@ipcscope` declarations in force, and the lookup that turns a ``TypeReference`` into its wire
/// shape. Declarations take precedence over built-in names, so a schema can correct a built-in.
public struct TypeTable: Sendable {
    /// Longest alias chain followed before giving up (a chain this long is almost surely a cycle).
    static let maxAliasHops = 64

    public private(set) var enumerations: [String: EnumDeclaration] = [:]
    public private(set) var aliases: [String: AliasDeclaration] = [:]
    public private(set) var structures: [String: StructDeclaration] = [:]
    public private(set) var taggedUnions: [String: TaggedUnionDeclaration] = [:]
    public private(set) var opaques: [String: OpaqueDeclaration] = [:]

    public init(declarations: [TypeDeclaration] = []) {
        var taken: Set<String> = []
        for declaration in declarations {
            // The first declaration of a name wins, whatever its kind.
            guard taken.insert(declaration.name).inserted else { continue }
            switch declaration {
            case .enumeration(let enumeration): enumerations[enumeration.name] = enumeration
            case .alias(let alias): aliases[alias.name] = alias
            case .structure(let structure): structures[structure.name] = structure
            case .taggedUnion(let union): taggedUnions[union.name] = union
            case .opaque(let opaque): opaques[opaque.name] = opaque
            }
        }
        for enumeration in TypeShape<TypeReference>.builtinEnumerations where !taken.contains(enumeration.name) {
            enumerations[enumeration.name] = enumeration
        }
    }

    /// Whether `name` (without a leading `::`) is declared, by any kind of declaration.
    public func declares(_ name: String) -> Bool {
        enumerations[name] != nil || aliases[name] != nil || structures[name] != nil || taggedUnions[name] != nil
            || opaques[name] != nil
    }

    /// True when the decoder knows how `type` itself is laid out (its arguments are not checked).
    public func knows(_ type: TypeReference) -> Bool {
        if case .unknown = shape(of: type) { return false }
        return true
    }

    /// Follows aliases, then looks up enums and built-ins.
    func shape(of type: TypeReference) -> TypeShape<TypeReference> {
        switch resolveAliases(type) {
        case .success(let resolved):
            if resolved.arguments.isEmpty {
                let name = Self.declaredName(resolved)
                if let enumeration = enumerations[name] { return .enumeration(enumeration) }
                if let structure = structures[name] {
                    return .fields(structure.fields.map { TypeField(name: $0.name, type: $0.type) })
                }
                if let union = taggedUnions[name] {
                    return .taggedUnion(tag: union.tag, cases: union.cases.map { TaggedCase(tag: $0.tag, name: $0.name, type: $0.type) })
                }
                if let opaque = opaques[name] {
                    return .unknown(reason: "'\(name)' is not declarable: \(opaque.reason)")
                }
            }
            return .builtin(resolved)
        case .failure(let problem):
            return .unknown(reason: problem.reason)
        }
    }

    struct AliasProblem: Error {
        var reason: String
    }

    /// The type an alias chain ends at (the type itself when it is no alias).
    func resolveAliases(_ type: TypeReference) -> Result<TypeReference, AliasProblem> {
        var current = type
        var visited: Set<String> = []
        for _ in 0..<Self.maxAliasHops {
            let name = Self.declaredName(current)
            guard current.arguments.isEmpty, let alias = aliases[name] else { return .success(current) }
            guard visited.insert(name).inserted else {
                return .failure(AliasProblem(reason: "alias cycle through '\(name)'"))
            }
            current = alias.target
        }
        return .failure(AliasProblem(reason: "alias chain from '\(type.spelling)' is too long"))
    }

    /// Why an alias cannot be decoded, if it cannot: a cycle, or an unknown type anywhere inside its target.
    func problem(withAlias name: String) -> String? {
        guard let alias = aliases[name] else { return nil }
        if let reason = unknownReason(in: alias.target) {
            return "alias '\(name)' cannot be decoded: \(reason)"
        }
        return nil
    }

    /// Why some part of `type` (it, or any type argument at any depth) cannot be decoded, if one cannot.
    func unknownReason(in type: TypeReference) -> String? {
        var visited: Set<String> = []
        return firstUnknown(in: type, visited: &visited, depth: 0)
    }

    private func firstUnknown(in type: TypeReference, visited: inout Set<String>, depth: Int) -> String? {
        guard depth < Self.maxAliasHops, visited.insert(type.spelling).inserted else { return nil }
        let shape = shape(of: type)
        var children: [TypeReference] = []
        _ = shape.mapChildren { children.append($0) }
        if case .unknown(let reason) = shape { return reason }
        for child in children {
            if let reason = firstUnknown(in: child, visited: &visited, depth: depth + 1) { return reason }
        }
        return nil
    }

    /// Declarations are keyed without a leading `::`.
    static func declaredName(_ type: TypeReference) -> String {
        type.baseName.hasPrefix("::") ? String(type.baseName.dropFirst(2)) : type.baseName
    }
}

extension TypeTable {
    /// Every name declared, of any kind (built-in enums included).
    public var declaredNames: [String] {
        Array(enumerations.keys) + Array(aliases.keys) + Array(structures.keys) + Array(taggedUnions.keys) + Array(opaques.keys)
    }
}
