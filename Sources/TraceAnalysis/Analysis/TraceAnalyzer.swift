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

    /// What an analysis keeps.
    package enum Scope: Sendable {
        /// Everything this type answers.
        case everything
        /// Only what names an event: the header (and schemas), side identities and processes, message names
        /// and sync latencies (``identity(channel:side:at:)``, ``message(magic:id:)``, ``latency(at:)``,
        /// ``process(pid:at:)``), each the same as ``everything`` gives. Counts, channels, fds, queues and
        /// violations stay empty, and ``advance(over:upTo:)`` reads no other record: a payload frame only
        /// when the index's envelope names a request or response (the export's pass).
        case names
    }

    package let scope: Scope

    public convenience init(schemas: [SchemaFile] = []) {
        self.init(schemas: schemas, scope: .everything)
    }

    package init(schemas: [SchemaFile] = [], scope: Scope) {
        userSchemas = schemas
        self.scope = scope
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
        let index = trace.index, reader = trace.reader
        if scope == .names {
            advanceNames(index: index, reader: reader, upTo: end)
            return
        }
        while analyzedEvents < end {
            let offset = index.offset(of: analyzedEvents)
            // Payload frames, most of a trace, are read in place: what the analysis counts of them is the
            // fixed fields and the envelope, so their captured bytes and fds are not copied.
            if index.rawKind(of: analyzedEvents) == TraceRecordKind.payloadFrame.rawValue {
                if let fields = reader.payloadFrameFields(at: offset), offset > lastOffset {
                    lastOffset = offset
                    payloadFrame(fields.frame, envelope: fields.envelope, offset: offset)
                }
            } else if let record = reader.record(at: offset) {
                consume(record, offset: offset)
            }
            analyzedEvents += 1
        }
    }

    /// ``advance(over:upTo:)`` in the ``Scope/names`` scope: the kind column says which records to read.
    private func advanceNames(index: EventIndex, reader: TraceReader, upTo end: Int) {
        while analyzedEvents < end {
            let number = analyzedEvents
            analyzedEvents += 1
            let kind = index.rawKind(of: number)
            if kind == TraceRecordKind.payloadFrame.rawValue {
                // An async or unnamed message changes nothing kept here (the pairing ignores it).
                guard let envelope = index.envelope(of: number), isSync(magic: envelope.magic, id: envelope.messageID) else { continue }
                let offset = index.offset(of: number)
                guard offset > lastOffset, let fields = reader.payloadFrameFields(at: offset) else { continue }
                lastOffset = offset
                namesPayloadFrame(fields.frame, envelope: fields.envelope, offset: offset)
            } else if Self.namingKinds.contains(kind) {
                let offset = index.offset(of: number)
                if let record = reader.record(at: offset) { consume(record, offset: offset) }
            }
        }
    }

    /// The kinds other than payload frames that the ``Scope/names`` scope keeps something of.
    private static let namingKinds: Set<UInt8> = Set([TraceRecordKind.header, .channelOpened, .endpointResolved, .process, .endpoint, .end].map(\.rawValue))

    /// Whether the schemas make (magic, id) a request or response, through a small direct-mapped cache of
    /// the names table (most frames are async: no hashing for them).
    private func isSync(magic: UInt32, id: Int32) -> Bool {
        let key = Self.key(magic, id)
        let slot = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 54)
        if syncCache.keys[slot] == key, syncCache.filled[slot] { return syncCache.sync[slot] }
        let sync = message(magic: magic, id: id).map { $0.kind != .async } ?? false
        syncCache.keys[slot] = key
        syncCache.filled[slot] = true
        syncCache.sync[slot] = sync
        return sync
    }

    private var syncCache = SyncCache()
    private struct SyncCache {
        var keys = [UInt64](repeating: 0, count: 1024)
        var filled = [Bool](repeating: false, count: 1024)
        var sync = [Bool](repeating: false, count: 1024)
    }

    /// A payload frame in the ``Scope/names`` scope: only the sync pairing.
    private func namesPayloadFrame(_ frame: PayloadFrameRecord, envelope: MessageEnvelope?, offset: Int) {
        guard let envelope else { return }
        _ = sync.record(message(magic: envelope.magic, id: envelope.messageID)?.kind, frame: frame, offset: offset, slot: -1)
    }

    /// Consumes one record. Records come in file order; one at or before the last offset consumed is
    /// ignored (so feeding a range twice counts it once).
    public func consume(_ record: TraceRecord, offset: Int) {
        guard offset > lastOffset else { return }
        lastOffset = offset
        if scope == .names {
            consumeNaming(record, offset: offset)
            return
        }
        if case .payloadFrame = record {} else {
            channels.observe(record, offset: offset)
            tally.add(record)
        }
        switch record {
        case .header, .channelOpened, .endpointResolved, .process, .endpoint, .end:
            consumeNamingRecord(record, offset: offset)
        case .payloadFrame(let frame):
            payloadFrame(frame, envelope: frame.capturedPayload.withUnsafeBytes { MessageEnvelope(payload: $0) }, offset: offset)
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
        case .lateFDs, .channelClosed, .channelTransferred, .channelClassified:
            break
        }
    }

    /// What both scopes keep of the records that name things: the header and its schemas, processes, side
    /// identities, the end record.
    private func consumeNamingRecord(_ record: TraceRecord, offset: Int) {
        switch record {
        case .header(let header):
            self.header = header
            startTime = header.monotonicAnchorNanoseconds
            var files = userSchemas
            for schema in header.schemas {
                do { files.append(try SchemaParser.parse(schema.text, path: schema.path)) } catch { schemaErrors.append("\(schema.path): \(error)") }
            }
            useSchemas(files)
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
        default:
            break
        }
    }

    /// ``consume(_:offset:)`` in the ``Scope/names`` scope.
    private func consumeNaming(_ record: TraceRecord, offset: Int) {
        switch record {
        case .payloadFrame(let frame):
            namesPayloadFrame(frame, envelope: frame.capturedPayload.withUnsafeBytes { MessageEnvelope(payload: $0) }, offset: offset)
        case .header, .channelOpened, .endpointResolved, .process, .endpoint, .end:
            consumeNamingRecord(record, offset: offset)
        default:
            break
        }
    }

    private func useSchemas(_ files: [SchemaFile]) {
        let set = SchemaSet(files: files)
        decoder = PayloadDecoder(schemas: set)
        messages = [:]
        syncCache = SyncCache()
        for (_, endpoint) in set.endpointsByMagic {
            for descriptor in endpoint.descriptors {
                messages[Self.key(descriptor.magic, descriptor.id)] =
                    (Array("\(descriptor.endpointName)::\(descriptor.name)".utf8), descriptor.kind)
            }
        }
    }

    /// Counts a payload frame. Only its fixed fields and `envelope` are read (its captured bytes and fds may
    /// be left out: ``advance(over:upTo:)``).
    private func payloadFrame(_ frame: PayloadFrameRecord, envelope: MessageEnvelope?, offset: Int) {
        channels.observe(.payloadFrame(frame), offset: offset)
        violations.frameSeen(channel: frame.channel, direction: frame.direction, index: frame.frameIndex, offset: offset)
        fds.sent(frame, offset: offset)
        let (flow, message, kind) = classify(frame, envelope: envelope, offset: offset)
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
