import IPCWire
import TraceAnalysis
import TraceFormat

/// Who one side of a channel is, as a lane of the sequence diagram: the process when its pid is known, else
/// the channel side itself (a 1.0 trace, a side nobody identified).
struct Participant: Hashable, Sendable {
    /// What makes two sides the same lane.
    var key: String
    /// -1 when unknown.
    var pid: Int32
    /// The executable's base name; empty when unknown.
    var process: String
    /// The LibIPC endpoint this side implements; empty when unknown.
    var endpoint: String
    /// `ch3 A`: what names a side nobody identified.
    var channelSide: String

    /// "WebContent (pid 412)": `name` is the process name, or the endpoint's when processes share a name.
    func title(preferringEndpoint: Bool) -> String {
        let name = preferringEndpoint && !endpoint.isEmpty ? endpoint : (process.isEmpty ? endpoint : process)
        if pid >= 0 { return name.isEmpty ? "pid \(pid)" : "\(name) (pid \(pid))" }
        return name.isEmpty ? channelSide : name
    }
}

/// The acknowledgement of one fd a frame carried (LibIPC acknowledges fds in FIFO order per direction).
enum FDAcknowledgement: Equatable, Sendable {
    case acknowledged(time: UInt64)
    case unacknowledged
    /// Not worked out: the channel is too long to walk for one selection.
    case unknown
}

/// The one place the viewer asks a trace what a record alone does not say: side identities, message names
/// and kinds, sync latencies, delivery times, fd acknowledgements, limits, the payload decoder.
///
/// Names, identities and latencies come from TraceAnalysis's `TraceAnalyzer`, fed the indexed events once
/// each, in file order and in slices (``advance(over:budget:)``): at open only the first events, then a
/// slice per background tick, so opening a large trace (or one whose stored index made it all known at
/// once) costs a slice, not the trace. What the analyzer has not reached yet is said so: a side not yet
/// identified is its channel side (`ch3 A`), a sync call not yet answered in what was analysed `sync …`.
/// A filter that asks for what only analysis knows stops at the first event the analysis has not reached
/// and goes on as it does (``RowList``), so its answer is never a guess.
final class TraceFacts {
    let context: TraceAnalyzer
    let decoder: PayloadDecoder?
    let header: TraceHeader?
    /// Records walked per selection to find fd acknowledgements before giving up (``FDAcknowledgement/unknown``).
    static let acknowledgementWalkLimit = 200_000
    /// Records walked after a frame to find its frames-delivered record (written within milliseconds of
    /// the frame, so a few records on).
    static let deliveryWalkLimit = 65_536

    /// Events analysed so far (file order: event numbers below this one).
    var analysedEvents: Int { context.analyzedEvents }
    /// Offsets below this one were analysed (the analyzer goes in file order).
    private(set) var analysedOffsetLimit = 0

    /// Analyses at most `budget` of the events indexed so far (nil: all of them).
    init(trace: IndexedTrace, schemas: [SchemaFile], budget: Int? = nil) {
        context = TraceAnalyzer(schemas: schemas)
        context.advance(over: trace, upTo: budget.map { min($0, trace.eventCount) })
        header = trace.reader.header
        var files = schemas
        for schema in header?.schemas ?? [] {
            if let file = try? SchemaParser.parse(schema.text, path: schema.path) { files.append(file) }  // errors: context.schemaErrors
        }
        decoder = files.isEmpty ? nil : PayloadDecoder(files: files)
        noteProgress(trace)
    }

    /// Analyses at most `budget` more of the events indexed (nil: all of them); returns how many it analysed.
    @discardableResult
    func advance(over trace: IndexedTrace, budget: Int?) -> Int {
        let before = context.analyzedEvents
        context.advance(over: trace, upTo: budget.map { before + max(0, $0) })
        noteProgress(trace)
        return context.analyzedEvents - before
    }

    /// The trace grew (indexing, follow): what was analysed stays; the new events wait for ``advance(over:budget:)``.
    func noteGrowth(_ trace: IndexedTrace) { noteProgress(trace) }

    /// Whether a payload frame is a sync request whose latency is not known yet.
    func awaitsResponse(_ frame: PayloadFrameRecord, offset: Int) -> Bool {
        guard let envelope = frame.capturedPayload.withUnsafeBytes({ MessageEnvelope(payload: $0) }),
              messageKind(envelope) == .request else { return false }
        return latency(atOffset: offset) == nil
    }

    /// Whether every indexed event was analysed.
    func isComplete(_ trace: IndexedTrace) -> Bool { context.analyzedEvents >= trace.eventCount }

    /// Whether the record at `offset` was analysed (what it says about sides and sync calls is known).
    func isAnalysed(offset: Int) -> Bool { offset < analysedOffsetLimit }

    /// Every event of the whole file analysed (as of the last call).
    private(set) var caughtUp = false

    private func noteProgress(_ trace: IndexedTrace) {
        let analysed = context.analyzedEvents
        caughtUp = analysed >= trace.eventCount && trace.progress.isComplete
        analysedOffsetLimit = analysed < trace.eventCount ? trace.index.offset(of: analysed) : trace.progress.indexedBytes
    }

    // MARK: names

    /// `Endpoint::Message` from the schemas, else `0x1234abcd:5`.
    func messageName(_ envelope: MessageEnvelope) -> String {
        if let message = context.message(magic: envelope.magic, id: envelope.messageID) {
            return String(decoding: message.name, as: UTF8.self)
        }
        let hex = String(envelope.magic, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 8 - hex.count)) + hex + ":\(envelope.messageID)"
    }

    /// The message part of ``messageName(_:)`` (`LoadUrl`), what a diagram arrow has room for.
    func shortMessageName(_ envelope: MessageEnvelope) -> String {
        let name = messageName(envelope)
        guard context.message(magic: envelope.magic, id: envelope.messageID) != nil,
              let colon = name.lastIndex(of: ":") else { return name }
        return String(name[name.index(after: colon)...])
    }

    func messageKind(_ envelope: MessageEnvelope) -> MessageKind? {
        context.message(magic: envelope.magic, id: envelope.messageID)?.kind
    }

    /// Request-to-response time of the sync frame at `offset` (set on both frames of a pair).
    func latency(atOffset offset: Int) -> Int64? { context.latency(at: offset) }

    /// Whether a sync request without a latency may still get one from what is not analysed (or indexed) yet.
    var responsesMayFollow: Bool { !caughtUp }

    func participant(channel: UInt32, side: Int, atOffset offset: Int) -> Participant {
        let channelSide = "ch\(channel) \(side == 0 ? "A" : "B")"
        guard let identity = context.identity(channel: channel, side: side, at: offset) else {
            return Participant(key: channelSide, pid: -1, process: "", endpoint: "", channelSide: channelSide)
        }
        return Participant(
            key: identity.pid >= 0 ? "pid \(identity.pid)" : channelSide, pid: identity.pid,
            process: String(decoding: identity.process, as: UTF8.self), endpoint: String(decoding: identity.endpoint, as: UTF8.self),
            channelSide: channelSide)
    }

    /// A limit the trace was recorded under, by its LibIPC name, else IPCWire's value.
    func limit(_ name: String) -> UInt64? {
        if let value = header?.limits.first(where: { $0.name == name })?.value { return value }
        return TraceHeader.libIPCLimits.first { $0.name == name }?.value
    }

    // MARK: per frame

    /// When the frame's last byte was written to the receiver (the frames-delivered record covering it).
    /// The recorder writes that record within milliseconds of the frame, so the walk goes forward in file
    /// order from the frame (index columns only), decoding only frames-delivered records of its direction.
    func deliveryTime(of frame: PayloadFrameRecord, event: Int, in trace: IndexedTrace, counter: RecordCounter) -> UInt64? {
        let index = trace.index
        let delivered = TraceRecordKind.framesDelivered.rawValue
        let end = min(index.count, event + 1 + Self.deliveryWalkLimit)
        guard event + 1 < end else { return nil }
        for number in (event + 1)..<end {
            guard index.rawKind(of: number) == delivered, index.channel(of: number) == frame.channel,
                  index.direction(of: number) == frame.direction else { continue }
            if let first = index.frameIndex(of: number), first > frame.frameIndex { return nil }
            guard case .framesDelivered(let record)? = counter.record(number, in: trace) else { continue }
            if record.covers(frame.frameIndex) { return record.time }
        }
        return nil
    }

    /// The acknowledgement of each fd the frame carried: fds of a direction are acknowledged in order by
    /// acknowledgement frames of the other direction, so fd k of the frame is acknowledged by the ack that
    /// takes the count of fds acknowledged past (fds the direction sent before the frame) + k.
    func acknowledgements(of frame: PayloadFrameRecord, event: Int, in trace: IndexedTrace, counter: RecordCounter) -> [FDAcknowledgement] {
        let count = Int(frame.header.fdCount)
        guard count > 0 else { return [] }
        var result = [FDAcknowledgement](repeating: .unknown, count: count)
        let index = trace.index
        let payload = TraceRecordKind.payloadFrame.rawValue, ack = TraceRecordKind.acknowledgement.rawValue
        var sentBefore: UInt64 = 0, acknowledged: UInt64 = 0, walked = 0, resolved = 0
        for number in channelEvents(frame.channel, in: index, from: 0) {
            walked += 1
            if walked > Self.acknowledgementWalkLimit { return result }
            let kind = index.rawKind(of: number)
            if kind == payload, number < event, index.direction(of: number) == frame.direction,
               case .payloadFrame(let earlier)? = counter.record(number, in: trace) {
                sentBefore += UInt64(earlier.header.fdCount)
            } else if kind == ack, index.direction(of: number) == frame.direction.reversed,
                      case .acknowledgement(let acknowledgement)? = counter.record(number, in: trace) {
                acknowledged += UInt64(acknowledgement.count)
                while resolved < count, acknowledged > sentBefore + UInt64(resolved), number > event {
                    result[resolved] = .acknowledged(time: acknowledgement.time)
                    resolved += 1
                }
                if resolved == count { return result }
            }
        }
        for position in resolved..<count { result[position] = .unacknowledged }
        return result
    }

    private func channelEvents(_ channel: UInt32, in index: EventIndex, from event: Int) -> AnySequence<Int> {
        if let list = index.postingList(onChannel: channel) {
            // Skipping costs a varint each; reading by position would decode from a block's start each time.
            return AnySequence(list.dropFirst(list.firstPosition(atOrAfter: event)))
        }
        return AnySequence(index.events(onChannel: channel).lazy.filter { $0 >= event })
    }

    /// The decoded parameter tree of a payload (nil without schemas).
    func decode(_ frame: PayloadFrameRecord) -> DecodedMessage? {
        decoder?.decode(payload: frame.capturedPayload, truePayloadLength: Int(frame.header.payloadSize), attachmentCount: Int(frame.header.fdCount))
    }

    /// A filter's view of a record (names, latencies, parameters).
    func filterSubject(_ record: TraceRecord, offset: Int) -> TraceRecordSubject {
        TraceRecordSubject(record: record, offset: offset, context: context)
    }
}
