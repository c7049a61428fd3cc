/// A breach of one of LibIPC's rules (docs/protocol.md §2), as the receiving LibIPC side would see it, or
/// (severity ``Severity/warning``) a value near one of its limits.
public struct Violation: Equatable, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// Frame header `payload_size` over `MAX_MESSAGE_PAYLOAD_SIZE`.
        case payloadTooLarge = "payload-too-large"
        /// Payload frame `fd_count` over `MAX_MESSAGE_FD_COUNT`.
        case tooManyFDsInFrame = "too-many-fds-in-frame"
        /// More fds in one `sendmsg` than the receiver's control buffer holds (`MAX_TRANSFER_FDS`).
        case tooManyFDsInOneSend = "too-many-fds-in-one-send"
        /// Buffered-but-unparsed bytes plus a new read over `MAX_UNPROCESSED_BUFFER_SIZE`.
        case unprocessedBytesOverflow = "unprocessed-bytes-overflow"
        /// Unmatched fds plus newly received ones over `MAX_UNPROCESSED_FDS`.
        case unprocessedFDsOverflow = "unprocessed-fds-overflow"
        /// Header `type` is neither 0 (payload) nor 1 (ack).
        case unknownFrameType = "unknown-frame-type"
        /// An fd acknowledgement with `payload_size != 0`.
        case acknowledgementWithPayload = "ack-with-payload"
        /// The peer acknowledged more fds than were sent and not yet acknowledged.
        case overAcknowledgement = "over-acknowledgement"
        /// A checked u32 counter of the receiver (received or acknowledged fd count) overflowed.
        case counterOverflow = "counter-overflow"
        /// A length or count read by `decode_size()` over `MAX_DECODED_SIZE`.
        case decodedSizeTooLarge = "decoded-size-too-large"
        /// A payload frame's `fd_count` promised fds that never came: the stream ended, or a later frame
        /// that claims fds was complete while they were still missing. The receiving LibIPC side does not
        /// disconnect: it waits for them for ever, or gives the next frame's fds to this frame.
        case missingFDs = "missing-fds"
    }

    public enum Severity: String, Sendable, Codable {
        /// The receiving LibIPC side disconnects.
        case violation
        /// Near the limit, not over it: a value passed ``Limits/warningFraction`` of its limit and is at most
        /// the limit itself (a frame with exactly 128 fds warns). Nothing breaks; the kind names the rule.
        case warning
    }

    /// What the parser could do after the violation.
    public enum Continuation: String, Sendable, Codable {
        /// The stream still makes sense; parsing continues exactly.
        case continues
        /// The frame boundary is a guess: parsing continues assuming `payload_size` is the frame length.
        case resyncAssumed = "resync-assumed"
    }

    public var kind: Kind
    public var severity: Severity
    /// The limit in force (0 where the rule has no number, such as an unknown frame type).
    public var limit: UInt64
    /// The value seen.
    public var observed: UInt64
    /// Byte offset in the direction's stream of the frame (or read) concerned.
    public var streamOffset: UInt64
    /// Index of the frame concerned in its direction, when there is one.
    public var frameIndex: UInt64?
    public var continuation: Continuation

    public init(
        kind: Kind, severity: Severity = .violation, limit: UInt64, observed: UInt64,
        streamOffset: UInt64, frameIndex: UInt64? = nil, continuation: Continuation = .continues
    ) {
        self.kind = kind
        self.severity = severity
        self.limit = limit
        self.observed = observed
        self.streamOffset = streamOffset
        self.frameIndex = frameIndex
        self.continuation = continuation
    }

    public var description: String {
        // A warning names the rule it is near, not a breach: "near limit", never "violation".
        var text = "\(severity == .warning ? "near limit" : "violation") \(kind.rawValue): observed \(observed)"
        if limit > 0 { text += severity == .warning ? " of limit \(limit), not over it" : ", limit \(limit)" }
        text += " at offset \(streamOffset)"
        if let frameIndex { text += " (frame \(frameIndex))" }
        if continuation == .resyncAssumed { text += "; frame boundary assumed from payload_size" }
        return text
    }
}
