import IPCWire

/// Everything the peers need to speak the demo's endpoints: the parsed schemas, a decoder for them, and one
/// name table per endpoint. Built once per process (a class: it is consulted for every message).
public final class DemoProtocol: Sendable {
    public let schemas: SchemaSet
    public let decoder: PayloadDecoder
    public let webContentServer: DemoEndpointTable<WebContentServerMessage>
    public let webContentClient: DemoEndpointTable<WebContentClientMessage>
    public let requestServer: DemoEndpointTable<RequestServerMessage>
    public let requestClient: DemoEndpointTable<RequestClientMessage>
    /// Hand-written encoders for the bulk traffic, checked against the schema-driven encoder at load.
    let bulk: BulkEncoders

    /// Loads the bundled schemas and looks up every message the peers use.
    public static func load() throws(DemoFailure) -> DemoProtocol {
        try DemoProtocol(files: try DemoSchemas.load())
    }

    public convenience init(files: [SchemaFile]) throws(DemoFailure) {
        try self.init(schemas: SchemaSet(files: files))
    }

    private init(schemas: SchemaSet) throws(DemoFailure) {
        let missing = Self.missingMessages(in: schemas)
        guard missing.isEmpty else {
            throw DemoFailure(step: "load demo schemas", "messages missing from the schemas: \(missing.joined(separator: ", "))")
        }
        self.schemas = schemas
        // Payloads the demo sends are small; keep all of their bytes so the peers can check them.
        decoder = PayloadDecoder(schemas: schemas, limits: DecodingLimits(bytesPrefix: 1 << 20, stringPrefix: 1 << 20))
        webContentServer = try DemoEndpointTable(schemas: schemas)
        webContentClient = try DemoEndpointTable(schemas: schemas)
        requestServer = try DemoEndpointTable(schemas: schemas)
        requestClient = try DemoEndpointTable(schemas: schemas)
        bulk = try BulkEncoders(
            schemas: schemas, webContentServer: webContentServer, webContentClient: webContentClient,
            requestServer: requestServer)
        try bulk.verify(against: self)
    }

    /// Every message a peer uses that the schemas do not declare, as `Endpoint::message`.
    public static func missingMessages(in schemas: SchemaSet) -> [String] {
        DemoEndpointTable<WebContentServerMessage>.missingNames(in: schemas)
            + DemoEndpointTable<WebContentClientMessage>.missingNames(in: schemas)
            + DemoEndpointTable<RequestServerMessage>.missingNames(in: schemas)
            + DemoEndpointTable<RequestClientMessage>.missingNames(in: schemas)
    }

    // MARK: Encoding

    /// A request or async message with `arguments` in declaration order, checked against the schema types.
    public func message<Name: DemoMessageName>(_ name: Name, _ arguments: [IPCValue]) throws(DemoFailure) -> OutgoingMessage {
        try encode(Name.table(in: self).descriptor(name), arguments)
    }

    /// The response to the sync message `name`.
    public func response<Name: DemoMessageName>(to name: Name, _ arguments: [IPCValue]) throws(DemoFailure) -> OutgoingMessage {
        guard let descriptor = Name.table(in: self).response(name) else {
            throw DemoFailure(step: "encode \(name.rawValue)", "\(name.rawValue) is not a sync message in the schema")
        }
        return try encode(descriptor, arguments)
    }

    private func encode(_ descriptor: MessageDescriptor, _ arguments: [IPCValue]) throws(DemoFailure) -> OutgoingMessage {
        var encoder = IPCEncoder()
        do {
            try encoder.encode(message: descriptor, arguments: arguments, types: schemas.types)
        } catch {
            // Our own bug, but the fds we were given must not leak.
            for argument in arguments { argument.closeAttachedFDs() }
            throw DemoFailure(step: "encode \(descriptor.endpointName)::\(descriptor.name)", error.description)
        }
        return OutgoingMessage(
            name: descriptor.name, payload: encoder.bytes, fds: encoder.attachments,
            responseID: descriptor.kind == .request ? descriptor.id + 1 : nil, magic: descriptor.magic)
    }
}

/// An encoded payload and the fds it carries (consumed when it is sent).
public struct OutgoingMessage: Sendable {
    public var name: String
    public var payload: [UInt8]
    public var fds: [Int32]
    /// For a request: the id of the response that answers it.
    public var responseID: Int32?
    public var magic: UInt32?
}
