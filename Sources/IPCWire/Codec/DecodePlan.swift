/// Every type the loaded schemas use, resolved once into a graph of shapes, so decoding a message does no
/// name lookups. Types that refer to themselves through aliases become cycles in the graph; decoding such
/// a value stops at the nesting limit.
struct DecodePlan: Sendable {
    /// A reference from a parameter or a container to a node, with the spelling to show for the value.
    struct Edge: Sendable {
        var node: Int
        var spelling: String
    }

    private(set) var nodes: [TypeShape<Edge>] = []
    private var nodeBySpelling: [String: Int] = [:]
    private let types: TypeTable

    /// Deepest chain of type references compiled; anything deeper compiles to an unknown node.
    private static let maxCompileDepth = 256

    init(types: TypeTable) {
        self.types = types
    }

    subscript(edge: Edge) -> TypeShape<Edge> { nodes[edge.node] }

    mutating func edge(for type: TypeReference) -> Edge {
        Edge(node: node(for: type, depth: 0), spelling: type.spelling)
    }

    private mutating func node(for type: TypeReference, depth: Int) -> Int {
        let key: String
        switch types.resolveAliases(type) {
        case .success(let resolved): key = resolved.spelling
        case .failure: key = type.spelling
        }
        if let existing = nodeBySpelling[key] { return existing }

        let index = nodes.count
        nodes.append(.unknown(reason: "type nesting too deep in '\(type.spelling)'"))
        nodeBySpelling[key] = index
        guard depth < Self.maxCompileDepth else { return index }

        let shape = types.shape(of: type)
        var children: [TypeReference] = []
        _ = shape.mapChildren { children.append($0) }
        var edges: [Edge] = []
        edges.reserveCapacity(children.count)
        for child in children {
            edges.append(Edge(node: node(for: child, depth: depth + 1), spelling: child.spelling))
        }
        var next = 0
        nodes[index] = shape.mapChildren { _ in
            defer { next += 1 }
            return edges[next]
        }
        return index
    }
}
