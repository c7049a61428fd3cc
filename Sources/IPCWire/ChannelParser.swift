/// Which way a frame travels on a channel between endpoints A and B.
public enum Direction: UInt8, Sendable, Codable, CaseIterable {
    case aToB = 0
    case bToA = 1

    public var reversed: Direction { self == .aToB ? .bToA : .aToB }
}

/// Fds one side has sent in payload frames and the other side has not yet acknowledged (§1.5).
/// The one copy of this rule: the fuzzer (through ``ChannelParser``), the recorder's relay and the
/// analysis all settle acknowledgements here.
public struct FDAcknowledgementLedger: Equatable, Sendable {
    public private(set) var sent: UInt64 = 0
    public private(set) var acknowledged: UInt64 = 0

    public init() {}

    public var outstanding: UInt64 { sent - acknowledged }

    public mutating func recordSent(_ count: UInt32) {
        sent &+= UInt64(count)
    }

    /// Records an acknowledgement; returns how many fds it acknowledged beyond those outstanding
    /// (0 when it is valid). Over-acknowledged fds are not counted as acknowledged.
    public mutating func recordAcknowledged(_ count: UInt32) -> UInt64 {
        let accepted = min(UInt64(count), outstanding)
        acknowledged &+= accepted
        return UInt64(count) - accepted
    }

    /// Settles an acknowledgement travelling the other way; the over-acknowledgement violation when it
    /// acknowledges more fds than are outstanding (limit: those outstanding; observed: the ack's count).
    public mutating func settle(_ ack: AcknowledgementEvent) -> Violation? {
        let before = outstanding
        guard recordAcknowledged(ack.count) > 0 else { return nil }
        return Violation(kind: .overAcknowledgement, limit: before, observed: UInt64(ack.count),
                         streamOffset: ack.streamOffset, frameIndex: ack.frameIndex)
    }
}

/// Sync requests one side has sent and the other side has not yet answered. LibIPC pairs a response
/// with the request by order (libipc-wire §3.3): each response answers the oldest request pending the
/// other way. Counting is enough to pair by order — the n-th response answers the n-th request — so the
/// ledger is O(1) whatever a hostile peer sends.
public struct SyncRequestLedger: Equatable, Sendable {
    public private(set) var requested: UInt64 = 0
    public private(set) var answered: UInt64 = 0

    public init() {}

    public var pending: UInt64 { requested - answered }

    public mutating func recordRequest() {
        requested &+= 1
    }

    /// Records a response travelling the other way. Returns the answered request's ordinal (0 for the
    /// first request this side sent), or nil when no request was pending: an unsolicited response.
    public mutating func recordResponse() -> UInt64? {
        guard pending > 0 else { return nil }
        answered &+= 1
        return answered - 1
    }
}

/// Sync requests pending in both directions of a channel, fed with each message's kind.
public struct SyncPairing: Equatable, Sendable {
    /// Requests sent in each direction (A→B: A's requests), settled by responses travelling the other way.
    public private(set) var aToB = SyncRequestLedger()
    public private(set) var bToA = SyncRequestLedger()

    public init() {}

    /// Sync requests sent in `direction` still waiting for their response.
    public func pending(_ direction: Direction) -> UInt64 {
        direction == .aToB ? aToB.pending : bToA.pending
    }

    /// What a message did to the pairing.
    public enum Outcome: Equatable, Sendable {
        /// An async message, or one whose kind is not known: no change.
        case none
        /// A request, now pending in the message's direction.
        case requestPending
        /// A response answering the other direction's request with this ordinal (0: its first request).
        case answered(requestOrdinal: UInt64)
        /// A response with no request pending the other way.
        case unsolicitedResponse
    }

    @discardableResult
    public mutating func record(_ kind: MessageKind?, direction: Direction) -> Outcome {
        switch kind {
        case .request:
            if direction == .aToB { aToB.recordRequest() } else { bToA.recordRequest() }
            return .requestPending
        case .response:
            let ordinal = direction == .aToB ? bToA.recordResponse() : aToB.recordResponse()
            return ordinal.map { .answered(requestOrdinal: $0) } ?? .unsolicitedResponse
        case .async, nil:
            return .none
        }
    }
}

/// Parses both directions of a channel and checks what needs both: fds sent versus acknowledged.
public struct ChannelParser {
    public private(set) var aToB: FrameStreamParser
    public private(set) var bToA: FrameStreamParser
    /// Fds sent by each side, settled by the acks travelling the other way.
    public private(set) var sentByA = FDAcknowledgementLedger()
    public private(set) var sentByB = FDAcknowledgementLedger()
    /// Sync requests waiting for their response; fed by whoever knows message kinds (schemas).
    public var syncPairing = SyncPairing()

    public init(configuration: FrameStreamParser.Configuration = .init()) {
        aToB = FrameStreamParser(configuration: configuration)
        bToA = FrameStreamParser(configuration: configuration)
    }

    public func parser(_ direction: Direction) -> FrameStreamParser {
        direction == .aToB ? aToB : bToA
    }

    /// Fds sent in `direction` that the receiver has not acknowledged yet.
    public func unacknowledgedFDs(_ direction: Direction) -> UInt64 {
        direction == .aToB ? sentByA.outstanding : sentByB.outstanding
    }

    public mutating func feed(
        _ direction: Direction, _ chunk: UnsafeRawBufferPointer, fdCount: Int = 0,
        _ onEvent: (FrameEvent) -> Void
    ) {
        // Payloads in this direction add to this side's ledger; acks in it settle the other side's.
        var sent = direction == .aToB ? sentByA : sentByB
        var settled = direction == .aToB ? sentByB : sentByA
        let handle = { (event: FrameEvent) in
            onEvent(event)
            switch event {
            case .payload(let frame):
                sent.recordSent(frame.header.fdCount)
            case .acknowledgement(let ack):
                if let violation = settled.settle(ack) { onEvent(.violation(violation)) }
            case .violation, .lateFDs, .unknownFrame:
                break
            }
        }
        switch direction {
        case .aToB: aToB.feed(chunk, fdCount: fdCount, handle)
        case .bToA: bToA.feed(chunk, fdCount: fdCount, handle)
        }
        if direction == .aToB {
            sentByA = sent
            sentByB = settled
        } else {
            sentByB = sent
            sentByA = settled
        }
    }

    public mutating func feed(
        _ direction: Direction, _ chunk: [UInt8], fdCount: Int = 0, _ onEvent: (FrameEvent) -> Void
    ) {
        chunk.withUnsafeBytes { feed(direction, $0, fdCount: fdCount, onEvent) }
    }
}
