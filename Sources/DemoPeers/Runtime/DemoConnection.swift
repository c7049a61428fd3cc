import IPCTransport
import IPCWire

/// How a connection ended.
enum DemoConnectionEnd: CustomStringConvertible {
    /// The transport reported EOF (peer closed, hang-up, a §2 violation, over-acknowledgement, local close).
    case transport(EOFReason)
    /// A payload that is not a valid message: like Ladybird's parse failure, the connection is shut down.
    case parseFailure(message: String, outcome: DecodeOutcome)
    /// Handed off with `releaseForTransfer()`.
    case released

    /// The §2 rule behind the end, if one was broken.
    var violationKind: Violation.Kind? {
        switch self {
        case .transport(let reason): reason.violationKind
        case .parseFailure(_, .violation(let violation)): violation.kind
        default: nil
        }
    }

    /// True when the peer simply went away (or we closed), i.e. nothing went wrong.
    var isOrderly: Bool {
        switch self {
        case .transport(.peerClosed), .transport(.hangUp), .transport(.localClose), .released: true
        default: false
        }
    }

    var description: String {
        switch self {
        case .transport(let reason): reason.description
        case .parseFailure(let message, let outcome): "message parse failure (\(message)): \(outcome.summary)"
        case .released: "released for transfer"
        }
    }
}

/// One transport of a demo process, as the event loop sees it: a name for messages, what to do with each
/// message and with the end, and what is needed to account for it afterwards.
final class DemoConnection {
    enum Kind {
        /// Endpoint messages (magic + id envelope), decoded against the schemas.
        case endpoint
        /// MessagePort frames: one SerializedTransferRecord per payload, no envelope (docs/protocol.md §6).
        case messagePort
    }

    let id: Int
    let name: String
    let kind: Kind
    let transport: IPCTransport
    var onMessage: (DemoIncoming) throws(DemoFailure) -> Void
    var onEnd: (DemoConnection, DemoConnectionEnd) throws(DemoFailure) -> Void
    var pump: OSThread?
    /// Set once, when the connection ended (seen by the loop or decided by us).
    var end: DemoConnectionEnd?
    /// We closed it; messages still queued are dropped.
    var closing = false
    /// Retained fds right before we closed the transport (closing drops them, and the counter with them).
    var retainedBeforeClose: Int?
    /// The loop has joined the pump and accounted for the statistics.
    var finalized = false

    init(
        id: Int, name: String, kind: Kind, transport: IPCTransport,
        onMessage: @escaping (DemoIncoming) throws(DemoFailure) -> Void,
        onEnd: @escaping (DemoConnection, DemoConnectionEnd) throws(DemoFailure) -> Void
    ) {
        self.id = id
        self.name = name
        self.kind = kind
        self.transport = transport
        self.onMessage = onMessage
        self.onEnd = onEnd
    }

    var isOpen: Bool { end == nil && !closing }

    /// Queues a message; its fds are consumed either way.
    func post(_ message: OutgoingMessage) throws(DemoFailure) {
        guard isOpen else {
            Descriptor.closeAll(message.fds)
            throw DemoFailure(step: "send \(message.name) to \(name)", "the connection is already closed")
        }
        do {
            try transport.send(payload: message.payload, attachments: message.fds)
        } catch {
            throw DemoFailure(step: "send \(message.name) to \(name)", error.description)
        }
    }

    /// Sends raw MessagePort frames (no envelope).
    func postRaw(_ payload: [UInt8], what: String) throws(DemoFailure) {
        try post(OutgoingMessage(name: what, payload: payload, fds: []))
    }
}

extension DecodeOutcome {
    var summary: String {
        switch self {
        case .complete: "complete"
        case .tooShortForEnvelope: "shorter than the 8-byte envelope"
        case .unknownMagic: "unknown endpoint magic"
        case .unknownMessageID: "unknown message id"
        case .undecoded(let offset, let reason): "not decodable at offset \(offset): \(reason)"
        case .captureEnded(let offset): "payload ends at offset \(offset)"
        case .decodeError(let offset, let reason): "decode error at offset \(offset): \(reason)"
        case .violation(let violation): violation.description
        }
    }
}
