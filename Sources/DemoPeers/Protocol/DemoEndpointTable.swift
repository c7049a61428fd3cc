import IPCWire

/// One endpoint's messages looked up by name in the parsed schemas: the descriptor (magic, id, parameters)
/// of each request or async message, the response of each sync one, and the reverse map from ids.
public struct DemoEndpointTable<Name: DemoMessageName>: Sendable {
    public let magic: UInt32
    private let messages: [Name: MessageDescriptor]
    private let responses: [Name: MessageDescriptor]
    private let names: [Int32: (name: Name, isResponse: Bool)]

    /// Names of `Name` that the schemas lack, as `Endpoint::message` (empty when all are there).
    public static func missingNames(in schemas: SchemaSet) -> [String] {
        let endpoint = schemas.endpoint(magic: EndpointMagic.of(Name.endpointName))
        return Name.allCases.compactMap { name in
            let found = endpoint?.descriptors.contains { $0.name == name.rawValue && $0.kind != .response } ?? false
            return found ? nil : "\(Name.endpointName)::\(name.rawValue)"
        }
    }

    init(schemas: SchemaSet) throws(DemoFailure) {
        let missing = Self.missingNames(in: schemas)
        guard missing.isEmpty, let endpoint = schemas.endpoint(magic: EndpointMagic.of(Name.endpointName)) else {
            throw DemoFailure(step: "load demo schemas", "messages missing from the schemas: \(missing.joined(separator: ", "))")
        }
        magic = endpoint.endpoint.magic
        var messages: [Name: MessageDescriptor] = [:]
        var responses: [Name: MessageDescriptor] = [:]
        var names: [Int32: (name: Name, isResponse: Bool)] = [:]
        for name in Name.allCases {
            for descriptor in endpoint.descriptors where descriptor.name == name.rawValue && descriptor.kind != .response {
                messages[name] = descriptor
                names[descriptor.id] = (name, false)
                if descriptor.kind == .request, let response = endpoint.descriptor(id: descriptor.id + 1) {
                    responses[name] = response
                    names[response.id] = (name, true)
                }
            }
        }
        self.messages = messages
        self.responses = responses
        self.names = names
    }

    /// The request or async message. Every `Name` was checked to exist when the table was built.
    public func descriptor(_ name: Name) -> MessageDescriptor {
        guard let descriptor = messages[name] else { preconditionFailure("\(name.rawValue) was validated at load") }
        return descriptor
    }

    /// The `…Response` of a sync message; nil for an async one.
    public func response(_ name: Name) -> MessageDescriptor? {
        responses[name]
    }

    /// Which message an id of this endpoint is, if the demo uses it.
    public func identify(id: Int32) -> (name: Name, isResponse: Bool)? {
        names[id]
    }
}
