import IPCWire
import Synchronization
import TraceFormat

/// What a channel was found to carry, and why (a channel-classified record).
public struct ChannelClassification: Sendable, Equatable {
    public var channelProtocol: ChannelProtocol
    public var reason: String
    /// The direction whose first bytes decided; nil when its traffic did not.
    public var decidedBy: Direction?
    /// The first bytes of that direction that were examined.
    public var evidence: [UInt8]

    public init(_ channelProtocol: ChannelProtocol, reason: String, decidedBy: Direction? = nil, evidence: [UInt8] = []) {
        self.channelProtocol = channelProtocol
        self.reason = reason
        self.decidedBy = decidedBy
        self.evidence = evidence
    }
}

/// How a relayed channel learns whether it carries LibIPC.
public enum ClassificationMode: Sendable {
    /// LibIPC from where it was found (a helper's SOCKET_TAKEOVER socket, a transport sent in a LibIPC
    /// frame, a socket path the user named): parsed from the first byte.
    case known(reason: String)
    /// Found by blanket interposition (every socketpair): its first frame header decides.
    case byTraffic
}

/// The channel's protocol, decided once by whichever evidence comes first: either direction's first
/// bytes, its socket travelling in a LibIPC frame, or the end of the channel.
///
/// Relay threads read the decision with one atomic load per chunk. Deciding takes a lock, writes the
/// channel-classified record, settles the violations a direction found while the channel was undecided,
/// and only then publishes the decision — so whoever sees it also sees the record before its own.
final class ChannelClassificationState: Sendable {
    private static let undecided: UInt16 = 0x100
    private let published = Atomic<UInt16>(undecided)
    private let held = Mutex<[HeldViolation]>([])
    private let channel: ChannelID
    private let sink: any RelayEventSink
    let mode: ClassificationMode

    /// Violations found by parsing an undecided channel tentatively (only its first < 12 bytes per
    /// direction are parsed so, which bounds how many there can be: those of the reads).
    struct HeldViolation {
        var direction: Direction
        var time: UInt64
        var violation: Violation
    }

    init(channel: ChannelID, mode: ClassificationMode, sink: any RelayEventSink) {
        self.channel = channel
        self.mode = mode
        self.sink = sink
    }

    /// The decision, nil while undecided.
    var current: ChannelProtocol? {
        let value = published.load(ordering: .acquiring)
        return value == Self.undecided ? nil : ChannelProtocol(rawValue: UInt8(value))
    }

    var isLibIPC: Bool { current == .libIPC }

    /// Decides unless already decided; returns the decision in force. `settle` records a held violation
    /// (LibIPC) — held violations of any other protocol are dropped.
    @discardableResult
    func decide(_ classification: ChannelClassification, time: UInt64,
                settle: (HeldViolation) -> Void) -> ChannelProtocol {
        held.withLock { held in
            if let decided = current { return decided }
            sink.channelClassified(channel, time: time, classification)
            if classification.channelProtocol == .libIPC {
                for entry in held {
                    settle(entry)
                    sink.record(channel: channel, direction: entry.direction, time: entry.time, .violation(entry.violation))
                }
            }
            held.removeAll()
            published.store(UInt16(classification.channelProtocol.rawValue), ordering: .releasing)
            return classification.channelProtocol
        }
    }

    /// Keeps violations a direction found while undecided. When the channel was decided meanwhile,
    /// returns the ones to record now (LibIPC) or none.
    func hold(_ violations: [Violation], direction: Direction, time: UInt64) -> [Violation] {
        held.withLock { held in
            guard let decided = current else {
                held += violations.map { HeldViolation(direction: direction, time: time, violation: $0) }
                return []
            }
            return decided == .libIPC ? violations : []
        }
    }
}

/// Bytes, reads and fds each direction relayed, whether parsed or not. Each direction's counters are
/// written by its own relay thread only.
final class RelayedTrafficCounters: Sendable {
    private final class Counters: Sendable {
        let bytes = Atomic<UInt64>(0)
        let reads = Atomic<UInt64>(0)
        let fds = Atomic<UInt64>(0)

        var traffic: DirectionTraffic {
            DirectionTraffic(bytes: bytes.load(ordering: .relaxed), reads: reads.load(ordering: .relaxed),
                             fds: fds.load(ordering: .relaxed))
        }
    }

    private let aToB = Counters()
    private let bToA = Counters()

    func count(_ direction: Direction, bytes: Int, fds: Int) {
        let counters = direction == .aToB ? aToB : bToA
        counters.bytes.add(UInt64(bytes), ordering: .relaxed)
        counters.reads.add(1, ordering: .relaxed)
        counters.fds.add(UInt64(fds), ordering: .relaxed)
    }

    var totals: ChannelTraffic { ChannelTraffic(aToB: aToB.traffic, bToA: bToA.traffic) }
}

extension ChannelShared {
    /// Decides the channel's protocol unless it is decided; held violations of a LibIPC channel count
    /// toward the likely cause of a disconnect like any other.
    @discardableResult
    func decideProtocol(_ classification: ChannelClassification, time: UInt64) -> ChannelProtocol {
        self.classification.decide(classification, time: time) { entry in
            noteViolation(entry.violation, direction: entry.direction, time: entry.time)
        }
    }

    /// One end of this channel travelled in a frame of a LibIPC channel: it is a LibIPC transport.
    func noteCarriedInLibIPCFrame(time: UInt64) {
        guard classification.current == nil else { return }
        decideProtocol(ChannelClassification(.libIPC, reason: "its socket travelled in a LibIPC frame"), time: time)
    }

    /// Both directions have ended without a decision: too little traffic to tell.
    func decideAtClose(time: UInt64) {
        guard classification.current == nil else { return }
        let traffic = relayedTraffic.totals
        decideProtocol(ChannelClassification(
            .undetermined,
            reason: "ended after \(traffic.aToB.bytes) bytes A→B and \(traffic.bToA.bytes) bytes B→A, too few to tell"),
                       time: time)
    }
}

/// One direction's part in classifying its channel: feeds its first bytes to the classifier until the
/// channel is decided, and says what to do with each chunk.
struct DirectionClassifier {
    enum Step: Equatable {
        /// LibIPC: parse and record.
        case parse
        /// Undecided: parse, but hold the violations until the channel is decided.
        case parseTentatively
        /// Not LibIPC (or undetermined), decided just now: reset the parser, then skip.
        case stopParsing
        /// Not LibIPC: relay and count only.
        case skip
    }

    private var stream: LibIPCStreamClassifier?
    private var decided: ChannelProtocol?
    /// How to read while the stream is not known to be LibIPC.
    var foreignReads = ForeignStreamReads()

    init(mode: ClassificationMode) {
        switch mode {
        case .known: decided = .libIPC
        case .byTraffic: stream = LibIPCStreamClassifier()
        }
    }

    /// Whether this direction parses as LibIPC (known, or decided so); cheap, no atomic.
    var isLibIPC: Bool { decided == .libIPC }

    /// What to do with the chunk `bytes`, which arrived in `direction`.
    mutating func step(_ bytes: UnsafeRawBufferPointer, direction: Direction, channel: ChannelShared) -> Step {
        if let decided { return decided == .libIPC ? .parse : .skip }
        var current = channel.classification.current
        if current == nil, var classifier = stream {
            let verdict = classifier.feed(bytes)
            stream = classifier
            if let verdict {
                current = channel.decideProtocol(ChannelClassification(
                    verdict.isLibIPC ? .libIPC : .notLibIPC, reason: verdict.reason, decidedBy: direction,
                    evidence: classifier.examined), time: TraceClock.monotonicNanoseconds())
            }
        }
        guard let current else { return .parseTentatively }
        decided = current
        stream = nil
        return current == .libIPC ? .parse : .stopParsing
    }
}
