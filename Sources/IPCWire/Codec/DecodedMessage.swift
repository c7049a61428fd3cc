/// A payload identified by its envelope and decoded against the schemas, as far as that was possible.
public struct DecodedMessage: Hashable, Sendable {
    /// Nil only when the payload is shorter than the 8-byte envelope.
    public var magic: UInt32?
    public var id: Int32?
    public var endpoint: String?
    /// The message name: as written for requests and async messages, `<Pascal>Response` for responses.
    public var message: String?
    public var kind: MessageKind?
    /// Parameters fully decoded, in declaration order (those before the point where decoding stopped).
    public var parameters: [DecodedValue]
    /// Fds taken from the frame's attachments, in order.
    public var attachmentsConsumed: Int
    public var outcome: DecodeOutcome

    public init(
        magic: UInt32? = nil, id: Int32? = nil, endpoint: String? = nil, message: String? = nil, kind: MessageKind? = nil,
        parameters: [DecodedValue] = [], attachmentsConsumed: Int = 0, outcome: DecodeOutcome
    ) {
        self.magic = magic
        self.id = id
        self.endpoint = endpoint
        self.message = message
        self.kind = kind
        self.parameters = parameters
        self.attachmentsConsumed = attachmentsConsumed
        self.outcome = outcome
    }

    /// `Endpoint::Message` as LibIPC's `message_name()` would print it (the message part PascalCased).
    public var qualifiedName: String? {
        guard let endpoint, let message else { return nil }
        return endpoint + "::" + (kind == .response ? message : SchemaNaming.pascalCase(message))
    }
}

/// How far decoding a payload got. Offsets are payload offsets (the envelope starts at 0).
public enum DecodeOutcome: Hashable, Sendable {
    /// Every parameter decoded. LibIPC ignores trailing bytes and unused fds; they are counted here.
    case complete(trailingBytes: Int, leftoverAttachments: Int)
    /// Fewer than 8 bytes: no magic and id to go by.
    case tooShortForEnvelope
    /// No loaded endpoint has this magic.
    case unknownMagic
    /// The endpoint has no message with this id.
    case unknownMessageID
    /// A type the decoder does not know (or a limit of ipcscope itself); nothing after `offset` is interpreted.
    case undecoded(offset: Int, reason: String)
    /// The capture kept fewer bytes than the payload had and decoding needed the missing ones.
    case captureEnded(offset: Int)
    /// The bytes are not a valid message: LibIPC would fail to decode it and drop the connection.
    case decodeError(offset: Int, reason: String)
    /// A length or count over `MAX_DECODED_SIZE`: LibIPC disconnects.
    case violation(Violation)

    public var isComplete: Bool {
        if case .complete = self { return true }
        return false
    }
}
