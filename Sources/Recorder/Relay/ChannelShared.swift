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
    /// Messages of a transport carried by this frame that its previous owner had already read.
    public var handedOverMessages: HandedOverMessages?

    public init(kind: MessageKind? = nil, endpointName: String? = nil, violation: Violation? = nil) {
        self.kind = kind
        self.endpointName = endpointName
        self.violation = violation
    }
}

/// The payloads of frames a transport's previous owner had read before handing it over, sent along with it
/// in the carrying message (the receiver handles them first). Recorded as the new channel's first frames.
public struct HandedOverMessages: Sendable, Equatable {
    /// Which of the carrying frame's attachments is the transport.
    public var attachmentIndex: Int
    public var payloads: [[UInt8]]

    public init(attachmentIndex: Int, payloads: [[UInt8]]) {
        self.attachmentIndex = attachmentIndex
        self.payloads = payloads
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

    /// What travelled in one direction. The ledgers are IPCWire's, the rules ChannelParser and the fuzzer
    /// run; each is written by both relay threads (sends by one, acknowledgements or responses by the
    /// other), hence the locks, which also make settling an ack one step. They are taken per frame only for
    /// frames with fds, acks and sync messages, otherwise per queue sample (docs/benchmarks.md).
    private final class DirectionCounters: Sendable {
        /// Fds sent in this direction, settled by acknowledgements travelling the other way.
        let fds = Mutex(FDAcknowledgementLedger())
        let lastViolation = Mutex<(Violation, UInt64)?>(nil)
    }

    private let aToB = DirectionCounters()
    private let bToA = DirectionCounters()
    /// Sync requests pending each way, paired with their responses by order.
    private let syncPairing = Mutex(SyncPairing())
    /// A payload frame whose kind the schemas did not tell: requests may be missing from the pending count.
    private let unknownMessageKindSeen = Atomic<Bool>(false)
    let stopping = Atomic<Bool>(false)
    /// Inodes of the sockets programs hold for each side, when known (to find their holders).
    let programSideInodes: [ChannelSide: UInt64]

    /// What has been learnt about the sides already, so each fact is looked up and reported once.
    enum IdentitySource: Hashable { case schema }
    private let learnt = Mutex<Set<[UInt8]>>([])

    /// True the first time it is called for `side` and `source`.
    func shouldLearn(_ side: ChannelSide, from source: IdentitySource) -> Bool {
        learnt.withLock { $0.insert([side.rawValue, 1]).inserted }
    }

    /// Who holds each side's socket (EndpointLookup.swift).
    let sideA = SideHolder()
    let sideB = SideHolder()

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
        counters(direction).fds.withLock { $0.recordSent(count) }
    }

    /// Settles fds sent the other way. Returns the violation when more are acknowledged than outstanding.
    func recordAcknowledgement(_ ack: AcknowledgementEvent, direction: Direction) -> Violation? {
        counters(direction.reversed).fds.withLock { $0.settle(ack) }
    }

    func unacknowledgedFDs(_ direction: Direction) -> UInt64 {
        counters(direction).fds.withLock { $0.outstanding }
    }

    /// Counts sync requests and their responses (paired by order, docs/protocol.md §3.3).
    func recordMessage(kind: MessageKind?, direction: Direction) {
        switch kind {
        case .request, .response:
            _ = syncPairing.withLock { $0.record(kind, direction: direction) }
        case .async:
            break  // no lock for async messages
        case nil:
            if !unknownMessageKindSeen.load(ordering: .relaxed) { unknownMessageKindSeen.store(true, ordering: .relaxed) }
        }
    }

    /// Whether the pending sync request counts are measured: schemas told the kind of every message so far.
    var knowsEveryMessageKind: Bool {
        inspector != nil && !unknownMessageKindSeen.load(ordering: .relaxed)
    }

    func pendingSyncRequests(_ direction: Direction) -> UInt64 {
        syncPairing.withLock { $0.pending(direction) }
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
