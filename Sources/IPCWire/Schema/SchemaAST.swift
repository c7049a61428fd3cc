/// One parsed `.ipc` file: its endpoints in file order and the `@ipcscope` type declarations it carries.
public struct SchemaFile: Hashable, Sendable {
    /// The path or name the file was parsed under; used in locations and listings.
    public var path: String
    public var endpoints: [Endpoint]
    public var typeDeclarations: [TypeDeclaration]

    public init(path: String, endpoints: [Endpoint], typeDeclarations: [TypeDeclaration]) {
        self.path = path
        self.endpoints = endpoints
        self.typeDeclarations = typeDeclarations
    }
}

/// `endpoint Name { … }` with the `#` lines written before it.
public struct Endpoint: Hashable, Sendable {
    public var name: String
    /// `EndpointMagic.of(name)`: the first 4 bytes of every payload of this endpoint.
    public var magic: UInt32
    /// The `#…` lines before the endpoint, verbatim without the line break.
    public var includes: [String]
    public var messages: [MessageDefinition]
    /// Where the `endpoint` keyword is.
    public var location: SourceLocation
    /// `routed by Type name`: the parameter the generated code dispatches on (no effect on the wire).
    public var routing: Parameter?

    public init(
        name: String, includes: [String] = [], messages: [MessageDefinition], location: SourceLocation, routing: Parameter? = nil
    ) {
        self.name = name
        self.magic = EndpointMagic.of(name)
        self.includes = includes
        self.messages = messages
        self.location = location
        self.routing = routing
    }
}

/// One message declaration: `name(params) =|` or `name(params) => (outputs)`.
public struct MessageDefinition: Hashable, Sendable {
    /// snake_case, as written.
    public var name: String
    /// `=>`: a request answered by `<Pascal>Response`.
    public var isSync: Bool
    public var parameters: [Parameter]
    /// The output list of a sync message (empty for async ones).
    public var responseParameters: [Parameter]
    /// Where the message name is.
    public var location: SourceLocation
    /// The id of the request (sync) or of the message (async).
    public var requestID: Int32
    /// `requestID + 1` for a sync message.
    public var responseID: Int32?
    /// `[NotRouted]` and the like, written before the name (generator hints, no effect on the wire).
    public var attributes: [String]

    public init(
        name: String, isSync: Bool, parameters: [Parameter], responseParameters: [Parameter],
        location: SourceLocation, requestID: Int32, responseID: Int32?, attributes: [String] = []
    ) {
        self.attributes = attributes
        self.name = name
        self.isSync = isSync
        self.parameters = parameters
        self.responseParameters = responseParameters
        self.location = location
        self.requestID = requestID
        self.responseID = responseID
    }

    /// `get_client_id` → `GetClientId`: the class name the generator gives the request.
    public var pascalName: String { SchemaNaming.pascalCase(name) }
    /// `get_client_id` → `GetClientIdResponse`.
    public var responseName: String { SchemaNaming.responseName(of: name) }
}

/// `[Attr, …] Type name` inside a parameter list.
public struct Parameter: Hashable, Sendable {
    public var name: String
    public var type: TypeReference
    /// Attribute names as written, e.g. `["UTF8"]`.
    public var attributes: [String]
    /// Where the parameter (its first attribute or its type) starts.
    public var location: SourceLocation?

    public init(name: String, type: TypeReference, attributes: [String] = [], location: SourceLocation? = nil) {
        self.name = name
        self.type = type
        self.attributes = attributes
        self.location = location
    }
}
