/// Plan edges for the parts of the built-ins that are decoded by hand (`URL::Origin`, `URL::URL`).
struct BuiltinEdges: Sendable {
    let bool: DecodePlan.Edge
    let string: DecodePlan.Edge
    let nonce: DecodePlan.Edge
    let originType: DecodePlan.Edge
    let optionalString: DecodePlan.Edge
    let host: DecodePlan.Edge
    let optionalPort: DecodePlan.Edge
    let optionalHost: DecodePlan.Edge

    init(plan: inout DecodePlan) {
        bool = plan.edge(for: OriginLayout.opaque)
        string = plan.edge(for: URLLayout.serialized)
        nonce = plan.edge(for: OriginLayout.nonce)
        originType = plan.edge(for: OriginLayout.type)
        optionalString = plan.edge(for: OriginLayout.scheme)
        host = plan.edge(for: OriginLayout.host)
        optionalPort = plan.edge(for: OriginLayout.port)
        optionalHost = plan.edge(for: OriginLayout.domain)
    }
}

/// The fields of `URL::Origin` (docs/protocol.md §4), shared by the decoder and the encoder.
enum OriginLayout {
    static let opaque = TypeReference("bool")
    static let nonce = TypeReference("Array", arguments: [TypeReference("u8"), .literal("16")])
    static let type = TypeReference("URL::Origin::Type")
    static let scheme = TypeReference("Optional", arguments: [TypeReference("String")])
    static let host = TypeReference("URL::Host")
    static let port = TypeReference("Optional", arguments: [TypeReference("u16")])
    static let domain = TypeReference("Optional", arguments: [TypeReference("URL::Host")])

    static let opaqueFields: [(String, TypeReference)] = [("opaque", opaque), ("nonce", nonce), ("type", type)]
    static let tupleFields: [(String, TypeReference)] = [
        ("opaque", opaque), ("scheme", scheme), ("host", host), ("port", port), ("domain", domain),
    ]
}

/// The fields of `URL::URL`: its serialization and whether a blob entry follows.
enum URLLayout {
    static let serialized = TypeReference("String")
    static let hasBlob = TypeReference("bool")
}
