import IPCWire
import Synchronization

/// Looks into payloads with the help of schemas: whether a message is a sync request, its response or
/// async (to count requests waiting for a response), and whether decoding it breaks a limit that the
/// frame header cannot show (a length over MAX_DECODED_SIZE).
public protocol MessageInspector: Sendable {
    func inspect(_ frame: PayloadFrameEvent) -> MessageInspection
}

public struct MessageInspection: Sendable {
    public var kind: MessageKind?
    /// The endpoint that declares the message (a request's or async message's receiver implements it; a
    /// response's sender does).
    public var endpointName: String?
    /// A decode-time violation, with `streamOffset` and `frameIndex` already set for the frame's stream.
    public var violation: Violation?

    public init(kind: MessageKind? = nil, endpointName: String? = nil, violation: Violation? = nil) {
        self.kind = kind
        self.endpointName = endpointName
        self.violation = violation
    }
}

/// State both directions of a channel read and write: fd acknowledgements settle the other direction's
/// sends, responses settle the other direction's requests, and an EOF looks for a violation the closing
/// side had just received.
final class ChannelShared: Sendable {
    let id: ChannelID
    let inspector: (any MessageInspector)?
    /// How long after receiving a violating frame a disconnect is blamed on it.
    static let likelyCauseWindow: UInt64 = 2_000_000_000

    /// Counters of what travelled in one direction.
    private final class DirectionCounters: Sendable {
        let fdsSent = Atomic<UInt64>(0)
        let fdsAcknowledged = Atomic<UInt64>(0)
        let pendingRequests = Atomic<UInt64>(0)
        let lastViolation = Mutex<(Violation, UInt64)?>(nil)
    }

    private let aToB = DirectionCounters()
    private let bToA = DirectionCounters()
    /// A payload frame whose kind the schemas did not tell: requests may be missing from the pending count.
    private let unknownMessageKindSeen = Atomic<Bool>(false)
    let stopping = Atomic<Bool>(false)
    /// Inodes of the sockets programs hold for each side, when known (to find their holders).
    let programSideInodes: [ChannelSide: UInt64]

    /// What has been learnt about the sides already, so each fact is looked up and reported once.
    enum IdentitySource: Hashable { case holder, schema }
    private let learnt = Mutex<Set<[UInt8]>>([])

    /// True the first time it is called for `side` and `source`.
    func shouldLearn(_ side: ChannelSide, from source: IdentitySource) -> Bool {
        learnt.withLock { $0.insert([side.rawValue, source == .holder ? 0 : 1]).inserted }
    }

    let follower: (any TransferFollower)?
    /// Whether the channel carries LibIPC (ChannelClassification.swift).
    let classification: ChannelClassificationState
    let relayedTraffic = RelayedTrafficCounters()

    init(
        id: ChannelID, inspector: (any MessageInspector)?, follower: (any TransferFollower)? = nil,
        programSideInodes: [ChannelSide: UInt64] = [:], classification: ChannelClassificationState
    ) {
        self.id = id
        self.inspector = inspector
        self.follower = follower
        self.programSideInodes = programSideInodes
        self.classification = classification
    }

    private func counters(_ direction: Direction) -> DirectionCounters { direction == .aToB ? aToB : bToA }

    func recordSentFDs(_ count: UInt32, direction: Direction) {
        counters(direction).fdsSent.add(UInt64(count), ordering: .relaxed)
    }

    /// Settles fds sent the other way. Returns the violation when more are acknowledged than outstanding.
    func recordAcknowledgement(_ ack: AcknowledgementEvent, direction: Direction) -> Violation? {
        let outstanding = unacknowledgedFDs(direction.reversed)
        let accepted = min(UInt64(ack.count), outstanding)
        counters(direction.reversed).fdsAcknowledged.add(accepted, ordering: .relaxed)
        guard UInt64(ack.count) > outstanding else { return nil }
        return Violation(kind: .overAcknowledgement, limit: outstanding, observed: UInt64(ack.count),
                         streamOffset: ack.streamOffset, frameIndex: ack.frameIndex)
    }

    func unacknowledgedFDs(_ direction: Direction) -> UInt64 {
        let sent = counters(direction).fdsSent.load(ordering: .relaxed)
        let acknowledged = counters(direction).fdsAcknowledged.load(ordering: .relaxed)
        return sent > acknowledged ? sent - acknowledged : 0
    }

    /// Counts sync requests and their responses (paired by order, libipc-wire §3.3).
    func recordMessage(kind: MessageKind?, direction: Direction) {
        switch kind {
        case .request:
            counters(direction).pendingRequests.add(1, ordering: .relaxed)
        case .response:
            let answered = counters(direction.reversed)
            var current = answered.pendingRequests.load(ordering: .relaxed)
            while current > 0 {
                let (exchanged, original) = answered.pendingRequests.compareExchange(
                    expected: current, desired: current - 1, ordering: .relaxed)
                if exchanged { break }
                current = original
            }
        case .async:
            break
        case nil:
            if !unknownMessageKindSeen.load(ordering: .relaxed) { unknownMessageKindSeen.store(true, ordering: .relaxed) }
        }
    }

    /// Whether the pending sync request counts are measured: schemas told the kind of every message so far.
    var knowsEveryMessageKind: Bool {
        inspector != nil && !unknownMessageKindSeen.load(ordering: .relaxed)
    }

    func pendingSyncRequests(_ direction: Direction) -> UInt64 {
        counters(direction).pendingRequests.load(ordering: .relaxed)
    }

    func noteViolation(_ violation: Violation, direction: Direction, time: UInt64) {
        guard violation.severity == .violation else { return }
        counters(direction).lastViolation.withLock { $0 = (violation, time) }
    }

    /// The violation the side that just closed had received shortly before, if any. The side that sends
    /// in `closingDirection` is the receiver of the opposite direction.
    func likelyCause(ofClosing closingDirection: Direction, at time: UInt64) -> Violation? {
        counters(closingDirection.reversed).lastViolation.withLock { entry in
            guard let (violation, seen) = entry, time &- seen <= Self.likelyCauseWindow else { return nil }
            return violation
        }
    }
}
