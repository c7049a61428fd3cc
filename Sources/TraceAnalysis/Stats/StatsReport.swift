import IPCWire
import TraceFormat

/// What `ipcscope stats` reports (docs/stats.md): per endpoint pair and per message, payload frames, bytes,
/// fds and sync latencies; records per kind; queue maxima per direction; fds never acknowledged; violations,
/// warnings and eofs by kind; damage. Built from a finished ``TraceAnalyzer`` and the ``StatsTally`` of the
/// events selected (the analyzer's own when there is no filter); rendered as an aligned table or JSON.
public struct StatsReport: Sendable {
    public struct Row: Sendable {
        /// The pair's sender and receiver, or the message's name in `name`.
        public var name: String
        public var receiver: String?
        /// For messages: the envelope (nil for payloads shorter than one).
        public var magic: UInt32?
        public var id: Int32?
        public var counts: TrafficCounts
    }

    public struct QueueRow: Sendable {
        public var channel: UInt32
        public var direction: Direction
        public var sender: String
        public var receiver: String
        public var maxima: QueueMaxima
    }

    public struct UnacknowledgedRow: Sendable {
        public var channel: UInt32
        public var direction: Direction
        public var sender: String
        public var receiver: String
        public var fds: UInt64
        /// Frame indexes of the payload frames whose fds are (partly) outstanding, the first 10.
        public var frames: [UInt64]
    }

    public var trace: String
    public var filter: String?
    /// `complete`, `no-end-record` or `stopped-by-write-error` (as `check --json` says).
    public var recording: String
    public var events: Int
    public var channels: Int
    /// Records per kind name, kinds in number order, only those that occur.
    public var kinds: [(name: String, count: Int)]
    public var pairs: [Row]
    public var messages: [Row]
    public var queues: [QueueRow]
    public var unacknowledged: [UnacknowledgedRow]
    public var violations: [(kind: String, count: Int)]
    public var warnings: [(kind: String, count: Int)]
    public var eofs: [(kind: String, count: Int)]
    public var syncCalls: Int
    public var answeredCalls: Int
    public var unsolicitedResponses: Int
    public var damagedRegions: Int
    public var damage: [IndexDamage]
    public var truncatedTailBytes: Int

    /// - Parameters:
    ///   - analyzer: the analysis of every record of the trace.
    ///   - tally: the events selected; nil for all (the analyzer's own).
    ///   - index: the trace's index, for its damage.
    public init(trace: String, analyzer: TraceAnalyzer, tally: StatsTally? = nil, filter: String? = nil, index: EventIndex) {
        let tally = tally ?? analyzer.tally
        self.trace = trace
        self.filter = filter
        if let end = analyzer.end {
            recording = end.stopReason == .complete ? "complete" : "stopped-by-write-error"
        } else {
            recording = "no-end-record"
        }
        events = tally.events
        channels = analyzer.channels.channels.count
        kinds = (0..<256).compactMap { raw in
            guard raw != Int(TraceRecordKind.header.rawValue), tally.kindCounts[raw] > 0 else { return nil }
            return (TraceRecordKind(rawValue: UInt8(raw))?.description ?? "kind-\(raw)", tally.kindCounts[raw])
        }
        var pairs: [String: Row] = [:]
        var messages: [TrafficStatistics.Message?: Row] = [:]
        tally.traffic.forEachSlot { flow, message, counts in
            let sender = Self.name(analyzer.identity(of: flow, sender: true), channel: flow.channel, side: flow.direction == .aToB ? "A" : "B")
            let receiver = Self.name(analyzer.identity(of: flow, sender: false), channel: flow.channel, side: flow.direction == .aToB ? "B" : "A")
            pairs[sender + "\u{0}" + receiver, default: Row(name: sender, receiver: receiver, counts: TrafficCounts())].counts.add(counts)
            if messages[message] == nil {
                let name: String
                if let message {
                    name = analyzer.message(magic: message.magic, id: message.id).map { String(decoding: $0.name, as: UTF8.self) }
                        ?? Self.magicAndID(message)
                } else {
                    name = "(shorter than an envelope)"
                }
                messages[message] = Row(name: name, magic: message?.magic, id: message?.id, counts: TrafficCounts())
            }
            messages[message]!.counts.add(counts)
        }
        let order: (Row, Row) -> Bool = { ($0.counts.frames, $1.name, $1.receiver ?? "") > ($1.counts.frames, $0.name, $0.receiver ?? "") }
        self.pairs = pairs.values.sorted(by: order)
        self.messages = messages.values.sorted(by: order)
        queues = tally.queueMaxima.map { key, maxima in
            let channel = UInt32(truncatingIfNeeded: key >> 1)
            let direction: Direction = key & 1 == 0 ? .aToB : .bToA
            let (sender, receiver) = Self.sides(analyzer, channel: channel, direction: direction, at: Int.max)
            return QueueRow(channel: channel, direction: direction, sender: sender, receiver: receiver, maxima: maxima)
        }.sorted { ($0.channel, $0.direction.rawValue) < ($1.channel, $1.direction.rawValue) }
        unacknowledged = analyzer.fds.directions.compactMap { key, fds in
            guard fds.outstanding > 0 else { return nil }
            let channel = UInt32(truncatingIfNeeded: key >> 1)
            let direction: Direction = key & 1 == 0 ? .aToB : .bToA
            let (sender, receiver) = Self.sides(analyzer, channel: channel, direction: direction, at: Int.max)
            let frames = fds.batches.lazy.filter { !$0.isAcknowledged }.prefix(10).map(\.frameIndex)
            return UnacknowledgedRow(channel: channel, direction: direction, sender: sender, receiver: receiver, fds: fds.outstanding, frames: Array(frames))
        }.sorted { ($0.channel, $0.direction.rawValue) < ($1.channel, $1.direction.rawValue) }
        violations = tally.violationsByKind.map { ($0.key, $0.value) }.sorted { ($1.1, $0.0) < ($0.1, $1.0) }
        warnings = tally.warningsByKind.map { ($0.key, $0.value) }.sorted { ($1.1, $0.0) < ($0.1, $1.0) }
        eofs = tally.eofsByKind.map { ($0.key.description, $0.value) }.sorted { ($1.1, $0.0) < ($0.1, $1.0) }
        syncCalls = analyzer.sync.calls
        answeredCalls = analyzer.sync.answeredCalls
        unsolicitedResponses = analyzer.sync.unsolicitedResponses
        damagedRegions = index.corruptionCount
        damage = Array(index.damage.prefix(20))
        truncatedTailBytes = index.truncatedTailBytes
    }

    /// Endpoint name, else process[pid], else `pid N`, else `chN:A` — as `show` names a side.
    static func name(_ identity: SideIdentity?, channel: UInt32, side: String) -> String {
        if let identity {
            if !identity.endpoint.isEmpty { return String(decoding: identity.endpoint, as: UTF8.self) }
            if !identity.process.isEmpty { return String(decoding: identity.process, as: UTF8.self) + (identity.pid >= 0 ? "[\(identity.pid)]" : "") }
            if identity.pid >= 0 { return "pid \(identity.pid)" }
        }
        return "ch\(channel):\(side)"
    }

    static func sides(_ analyzer: TraceAnalyzer, channel: UInt32, direction: Direction, at offset: Int) -> (String, String) {
        let sender = direction == .aToB ? 0 : 1
        return (name(analyzer.identity(channel: channel, side: sender, at: offset), channel: channel, side: sender == 0 ? "A" : "B"),
                name(analyzer.identity(channel: channel, side: 1 - sender, at: offset), channel: channel, side: sender == 0 ? "B" : "A"))
    }

    static func magicAndID(_ message: TrafficStatistics.Message) -> String {
        let hex = String(message.magic, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 8 - hex.count)) + hex + ":\(message.id)"
    }

    /// Whether the trace had damage: `stats` then exits 1 after printing what it could.
    public var isDamaged: Bool { damagedRegions > 0 }
}
