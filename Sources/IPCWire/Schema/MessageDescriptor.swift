/// One message id of an endpoint as it appears on the wire: an async message, a request, or a response.
public struct MessageDescriptor: Hashable, Sendable {
    public var endpointName: String
    public var magic: UInt32
    /// As written for async messages and requests; `<Pascal>Response` for responses.
    public var name: String
    public var id: Int32
    public var kind: MessageKind
    /// The input list, or the output list for a response.
    public var parameters: [Parameter]
    /// Where the declaring message is.
    public var location: SourceLocation

    public init(
        endpointName: String, magic: UInt32, name: String, id: Int32, kind: MessageKind,
        parameters: [Parameter], location: SourceLocation
    ) {
        self.endpointName = endpointName
        self.magic = magic
        self.name = name
        self.id = id
        self.kind = kind
        self.parameters = parameters
        self.location = location
    }
}

extension Endpoint {
    /// Every message id in order: a sync message yields its request (id N) then its response (N + 1).
    public var messageDescriptors: [MessageDescriptor] {
        var descriptors: [MessageDescriptor] = []
        descriptors.reserveCapacity(messages.count * 2)
        for message in messages {
            descriptors.append(MessageDescriptor(
                endpointName: name, magic: magic, name: message.name, id: message.requestID,
                kind: message.isSync ? .request : .async, parameters: message.parameters, location: message.location))
            if message.isSync, let responseID = message.responseID {
                descriptors.append(MessageDescriptor(
                    endpointName: name, magic: magic, name: message.responseName, id: responseID,
                    kind: .response, parameters: message.responseParameters, location: message.location))
            }
        }
        return descriptors
    }
}

extension SchemaFile {
    /// ``Endpoint/messageDescriptors`` of every endpoint, in file order.
    public var messageDescriptors: [MessageDescriptor] {
        endpoints.flatMap(\.messageDescriptors)
    }
}
