import IPCWire
import TraceFormat

/// What a trace's records say together, built incrementally: fed the records in file order (with their
/// offsets) by ``advance(over:)`` or ``consume(_:offset:)``, it resumes where it stopped, so a trace that
/// grows (`show --follow`) costs only its new records. Readers query it at any time for what is known so far:
///
/// - message identity from the envelope and the schemas (the user's, then those embedded in the header);
/// - side identities over time (the endpoint table) and the process table (``processes``);
/// - channels: opened, carried by which frame, classified, each direction's end, closed (``channels``);
/// - sync calls paired with IPCWire's ``SyncPairing`` (the recorder's own ledger) and their latencies;
/// - queue depths per direction (``queues``), fd lifecycles (``fds``), violations with their frame and the eof
///   they caused (``violations``), and payload frame counts per flow and message (``traffic``).
///
/// Memory: no decoded record is kept. Per event it costs nothing for a payload frame without fds that is not
/// a sync message (counted in a per-(flow, message) slot), 28 bytes per sync request and 16 per response,
/// 48 per frame carrying fds, 24 per queue sample, about 100 per violation record, and the names of
/// process and endpoint records; plus small per-channel and per-message tables.
public final class TraceAnalyzer {
    /// Schema files given by the user: used before those embedded in the header.
    public let userSchemas: [SchemaFile]
    public private(set) var header: TraceHeader?
    /// The header's monotonic anchor: `time` counts from here.
    public private(set) var startTime: UInt64 = 0
    /// Embedded schemas that did not parse (a message of theirs has no name).
    public private(set) var schemaErrors: [String] = []
    public private(set) var decoder: PayloadDecoder?
    private var messages: [UInt64: (name: [UInt8], kind: MessageKind)] = [:]

    /// Events consumed from an indexed trace (file order): where ``advance(over:)`` resumes.
    public private(set) var analyzedEvents = 0
    private var lastOffset = -1
    /// The end record, once seen (the last one counts).
    public private(set) var end: EndRecord?
    /// Counts over every record consumed (per kind, per flow and message, violations, eofs, queue maxima).
    public private(set) var tally = StatsTally()
    /// Records consumed per kind byte.
    public var kindCounts: [Int] { tally.kindCounts }
    /// Set by a reader that has fed every record there will be: a request without a response then has none.
    public var isComplete = false

    var identities = IdentityTables()
    public private(set) var processes: [TracedProcess] = []
    public private(set) var channels = ChannelTable()
    public private(set) var sync = SyncCalls()
    public private(set) var fds = FDLifecycles()
    public private(set) var queues = QueueDepths()
    public private(set) var violations = ViolationLog()
    public var traffic: TrafficStatistics { tally.traffic }
    /// Capture-loss records: frames and payload bytes not (fully) in the trace.
    public private(set) var framesLost: UInt64 = 0
    public private(set) var bytesNotCaptured: UInt64 = 0

    public init(schemas: [SchemaFile] = []) {
        userSchemas = schemas
        if !schemas.isEmpty { useSchemas(schemas) }
    }

    /// Analyses `records` (file order, with their offsets) at once.
    public convenience init(records: some Sequence<(offset: Int, record: TraceRecord)>, schemas: [SchemaFile] = []) {
        self.init(schemas: schemas)
        for (offset, record) in records { consume(record, offset: offset) }
        isComplete = true
    }

    /// Reads every record of `reader` once.
    public convenience init(reader: TraceReader, schemas: [SchemaFile] = []) {
        self.init(records: reader.records().lazy.map { (offset: $0.offset, record: $0.record) }, schemas: schemas)
    }

    /// Consumes the events `trace` indexed since the last call (file order), up to event `end`, decoding
    /// each record once.
    public func advance(over trace: IndexedTrace, upTo end: Int? = nil) {
        let end = min(end ?? trace.eventCount, trace.eventCount)
        while analyzedEvents < end {
            let offset = trace.index.offset(of: analyzedEvents)
            if let record = trace.reader.record(at: offset) { consume(record, offset: offset) }
            analyzedEvents += 1
        }
    }

    /// Consumes one record. Records come in file order; one at or before the last offset consumed is
    /// ignored (so feeding a range twice counts it once).
    public func consume(_ record: TraceRecord, offset: Int) {
        guard offset > lastOffset else { return }
        lastOffset = offset
        channels.observe(record, offset: offset)
        if case .payloadFrame = record {} else { tally.add(record) }
        switch record {
        case .header(let header):
            self.header = header
            startTime = header.monotonicAnchorNanoseconds
            var files = userSchemas
            for schema in header.schemas {
                do { files.append(try SchemaParser.parse(schema.text, path: schema.path)) } catch { schemaErrors.append("\(schema.path): \(error)") }
            }
            useSchemas(files)
        case .payloadFrame(let frame):
            payloadFrame(frame, offset: offset)
        case .acknowledgement(let ack):
            fds.acknowledged(ack, offset: offset)
            violations.frameSeen(channel: ack.channel, direction: ack.direction, index: ack.frameIndex, offset: offset)
        case .unknownFrame(let frame):
            violations.frameSeen(channel: frame.channel, direction: frame.direction, index: frame.frameIndex, offset: offset)
        case .framesDelivered(let delivered):
            fds.delivered(delivered)
        case .queueSample(let sample):
            queues.record(sample)
        case .violation(let violation):
            violations.record(violation, offset: offset)
        case .eof(let eof):
            if let cause = violations.eofSeen(eof, offset: offset) {
                channels.setCause(channel: eof.channel, direction: eof.direction, violation: cause)
            }
        case .captureLoss(let loss):
            framesLost &+= loss.framesAffected
            bytesNotCaptured &+= loss.bytesNotCaptured
        case .end(let end):
            self.end = end
        case .process(let process):
            processes.append(TracedProcess(
                offset: offset, time: process.time, pid: process.pid, parentPID: process.parentPID, startTime: process.startTime,
                name: String(decoding: ProcessNames.name(of: process), as: UTF8.self), executable: process.executable,
                exitedWhenLookedUp: process.flags.contains(.detailsMissing)))
            identities.observe(record, offset: offset)
        case .channelOpened, .endpointResolved, .endpoint:
            identities.observe(record, offset: offset)
        case .lateFDs, .channelClosed, .channelTransferred, .channelClassified:
            break
        }
    }

    private func useSchemas(_ files: [SchemaFile]) {
        let set = SchemaSet(files: files)
        decoder = PayloadDecoder(schemas: set)
        messages = [:]
        for (_, endpoint) in set.endpointsByMagic {
            for descriptor in endpoint.descriptors {
                messages[Self.key(descriptor.magic, descriptor.id)] =
                    (Array("\(descriptor.endpointName)::\(descriptor.name)".utf8), descriptor.kind)
            }
        }
    }

    private func payloadFrame(_ frame: PayloadFrameRecord, offset: Int) {
        violations.frameSeen(channel: frame.channel, direction: frame.direction, index: frame.frameIndex, offset: offset)
        fds.sent(frame, offset: offset)
        let (flow, message, kind) = classify(frame, offset: offset)
        let slot = tally.add(.payloadFrame(frame), flow: flow, message: message, kind: kind)
        guard message != nil else { return }
        if case .response(let latency, let requestSlot) = sync.record(kind, frame: frame, offset: offset, slot: slot) {
            tally.answered(slot: requestSlot, latency: latency)
        }
    }

    static func key(_ magic: UInt32, _ id: Int32) -> UInt64 { UInt64(magic) << 32 | UInt64(UInt32(bitPattern: id)) }

    // MARK: queries

    /// `Endpoint::Message` and its kind, from the schemas.
    public func message(magic: UInt32, id: Int32) -> (name: [UInt8], kind: MessageKind)? { messages[Self.key(magic, id)] }

    /// The latency of the sync call the frame at `offset` belongs to (request or response), once answered.
    public func latency(at offset: Int) -> Int64? { sync.latency(at: offset) }

    /// Side A (`side == 0`) or B of `channel` as known at the record at `offset`.
    public func identity(channel: UInt32, side: Int, at offset: Int) -> SideIdentity? {
        identities.identity(channel: channel, side: side, at: offset)
    }

    /// Every identity one side of a channel had, in file order (the endpoint table over time).
    public func sideHistory(channel: UInt32, side: Int) -> [SideIdentity] {
        identities.sides[channel]?[side].entries ?? []
    }

    /// The identity a flow's sender (`side == 0`) or receiver had.
    public func identity(of flow: TrafficStatistics.Flow, sender: Bool) -> SideIdentity? {
        let entry = sender ? flow.senderEntry : flow.receiverEntry
        let side = (flow.direction == .aToB) == sender ? 0 : 1
        guard entry >= 0, let entries = identities.sides[flow.channel]?[side].entries, Int(entry) < entries.count else { return nil }
        return entries[Int(entry)]
    }

    /// The process a pid named at `offset`: the latest process record for it at or before, else the first after.
    public func process(pid: Int32, at offset: Int) -> TracedProcess? {
        let candidates = processes.filter { $0.pid == pid }
        return candidates.last { $0.offset <= offset } ?? candidates.first
    }
}
