import IPCWire
import TraceFormat

/// The counts `stats` reports, for the events some selection takes: records per kind, payload frames per
/// (flow, message) with sync latencies, violations and warnings per kind, eofs per kind, queue maxima per
/// direction. The analysis keeps one over every record; `stats -f` fills another with the events its
/// filter selects, using the finished analysis for names and latencies.
public struct StatsTally: Sendable {
    /// Records per kind byte.
    public internal(set) var kindCounts = [Int](repeating: 0, count: 256)
    public internal(set) var traffic = TrafficStatistics()
    public internal(set) var violationsByKind: [String: Int] = [:]
    public internal(set) var warningsByKind: [String: Int] = [:]
    public internal(set) var eofsByKind: [EOFKind: Int] = [:]
    /// Queue maxima per `channel << 1 | direction`.
    public internal(set) var queueMaxima: [UInt64: QueueMaxima] = [:]

    public init() {}

    /// Counts one record. For a payload frame, `flow`, `message` and `kind` say whose and what it is and
    /// `latency`, for a request already answered, the call's latency; the returned slot takes a latency
    /// learnt later (``TrafficStatistics/answered(slot:latency:)``).
    @discardableResult
    mutating func add(_ record: TraceRecord, flow: TrafficStatistics.Flow? = nil, message: TrafficStatistics.Message? = nil,
                      kind: MessageKind? = nil, latency: Int64? = nil) -> Int32 {
        kindCounts[Int(record.kind.rawValue)] += 1
        switch record {
        case .payloadFrame(let frame):
            guard let flow else { return -1 }
            let slot = traffic.frame(frame, flow: flow, message: message, kind: kind)
            if kind == .request, let latency { traffic.answered(slot: slot, latency: latency) }
            return slot
        case .violation(let violation):
            if violation.severity == .warning { warningsByKind[violation.kindName, default: 0] += 1 } else { violationsByKind[violation.kindName, default: 0] += 1 }
        case .eof(let eof):
            eofsByKind[eof.kind, default: 0] += 1
        case .queueSample(let sample):
            queueMaxima[UInt64(sample.channel) << 1 | UInt64(sample.direction.rawValue), default: QueueMaxima()].add(sample)
        default:
            break
        }
        return -1
    }

    mutating func answered(slot: Int32, latency: Int64) { traffic.answered(slot: slot, latency: latency) }

    /// Events counted, the header not included.
    public var events: Int { kindCounts.reduce(0, +) - kindCounts[Int(TraceRecordKind.header.rawValue)] }
}

extension TraceAnalyzer {
    /// What a payload frame is, for counting: its flow (the side identities it saw), message and kind.
    public func classify(_ frame: PayloadFrameRecord, offset: Int) -> (flow: TrafficStatistics.Flow, message: TrafficStatistics.Message?, kind: MessageKind?) {
        classify(frame, envelope: frame.capturedPayload.withUnsafeBytes { MessageEnvelope(payload: $0) }, offset: offset)
    }

    func classify(_ frame: PayloadFrameRecord, envelope: MessageEnvelope?, offset: Int) -> (flow: TrafficStatistics.Flow, message: TrafficStatistics.Message?, kind: MessageKind?) {
        let sender = frame.direction == .aToB ? 0 : 1
        let flow = TrafficStatistics.Flow(
            channel: frame.channel, direction: frame.direction,
            senderEntry: identities.entryIndex(channel: frame.channel, side: sender, at: offset),
            receiverEntry: identities.entryIndex(channel: frame.channel, side: 1 - sender, at: offset))
        let message = envelope.map { TrafficStatistics.Message(magic: $0.magic, id: $0.messageID) }
        return (flow, message, envelope.flatMap { self.message(magic: $0.magic, id: $0.messageID)?.kind })
    }

    /// Counts `record` (at `offset`) into `tally` as the finished analysis sees it: `stats -f`'s second pass.
    public func count(_ record: TraceRecord, offset: Int, into tally: inout StatsTally) {
        if case .payloadFrame(let frame) = record {
            let (flow, message, kind) = classify(frame, offset: offset)
            tally.add(record, flow: flow, message: message, kind: kind, latency: latency(at: offset))
        } else {
            tally.add(record)
        }
    }
}
