import IPCWire

/// One event of an ``EventIndex``: what a reader filters and seeks on, read without decoding the body.
public struct IndexedEvent: Sendable, Equatable {
    /// Position in file order (0 is the header record).
    public var number: Int
    /// File offset of the record.
    public var offset: Int
    /// The record's kind byte (a kind this version does not know is kept as its number).
    public var rawKind: UInt8
    /// The record's time (docs/trace-format.md §2); 0 for a body too short to hold one.
    public var time: UInt64
    /// For kinds that name a channel (all but header, end and process).
    public var channel: UInt32?
    /// For kinds that travel one way: frame records, eof, queue-sample, violation, capture-loss, late-fds,
    /// frames-delivered. Absent too when the byte is neither 0 nor 1 (the body is then undecodable).
    public var direction: Direction?
    /// Payload, acknowledgement and unknown frames; late-fds (its frame); frames-delivered (the first).
    public var frameIndex: UInt64?
    /// Payload frames that captured at least 8 payload bytes (every 1.1 payload frame).
    public var envelope: MessageEnvelope?

    public var kind: TraceRecordKind? { TraceRecordKind(rawValue: rawKind) }
}

/// A damaged region the index skipped (the first ``EventIndex/damageListLimit`` of them are kept).
public struct IndexDamage: Sendable, Equatable {
    public var offset: Int
    public var reason: CorruptionReason
    /// Where good records start again; nil when nothing good followed (yet).
    public var resumedAt: Int?
}

/// The per-event index of a trace: for every good record, in compact columns, its offset, kind, time,
/// channel, direction, frame index and envelope; posting lists of event numbers per kind and per channel;
/// and the events in time order. Built in one pass without decoding bodies, extendable in chunks (a first
/// screen is ready before the whole file is read) and as the file grows.
///
/// About 30 bytes per event: 4 offset, 8 time, 1 kind, 1 direction, 2 channel slot, 4 frame index,
/// 2 magic slot, 2 message id, 4 time order, about 2 for the posting lists. A value too large for its
/// column (a frame index ≥ 2³² − 1, a message id ≥ 65535, more than 65534 distinct channels or magics)
/// is stored as "read it from the file", which costs one bounds-checked read of the mapped record.
///
/// Time order is the stable sort by (time, file position) — ties keep file order, so each direction's
/// stream keeps its order. It is kept up to date as events are added by insertion from the end: each
/// direction's records are in time order already, so a new event only moves past the few records of other
/// streams written before it with later times (the batch a relay thread handed over) — the same result as
/// a merge of the per-stream runs, but maintained online, so a partly indexed or growing trace always has
/// its time order. When insertion work exceeds a budget (times that jump back far, as only a damaged or
/// crafted file has), the new events are appended and the order is restored by one sort at the end of the
/// extension.
public struct EventIndex: @unchecked Sendable {
    static let noSlot = UInt16.max
    static let noFrameIndex = UInt32.max
    static let noDirection = UInt8.max
    /// Event numbers are stored as UInt32; indexing stops before that many events (an 80 GiB trace).
    static let maxEvents = Int(UInt32.max - 1)
    public static let damageListLimit = 1024

    // Columns, one entry per event in file order.
    var offsetLow = Column<UInt32>()
    /// Where the high 32 bits of the offsets change: (first event, high bits), offsets only grow.
    var offsetHighs: [OffsetHigh] = []
    var times = Column<UInt64>()
    var kinds = Column<UInt8>()
    var directions = Column<UInt8>()
    var channelSlots = Column<UInt16>()
    var frameIndexes = Column<UInt32>()
    var magicSlots = Column<UInt16>()
    var messageIDs = Column<UInt16>()

    // Small tables the slot columns point into.
    var channelTable: [UInt32] = []
    var channelSlotByID: [UInt32: UInt16] = [:]
    var magicTable: [UInt32] = []
    var magicSlotByValue: [UInt32: UInt16] = [:]

    // Posting lists, built in the same pass.
    var byKind = [PostingList](repeating: PostingList(), count: 256)
    var byChannelSlot: [PostingList] = []
    /// Events whose channel has no slot (beyond the table's size): searched by reading the file.
    var channelOverflow = PostingList()

    /// Event numbers in time order.
    var timeOrder = Column<UInt32>()
    private var insertionWork = 0
    private var timeOrderNeedsSort = false

    var scan = ResumableScan()
    public internal(set) var damage: [IndexDamage] = []
    /// Set when the index stopped at ``maxEvents``.
    public private(set) var isFull = false

    /// The mapping the offsets point into (replaced by a larger one as the file grows).
    var mapping: MappedFile?

    struct OffsetHigh: Equatable {
        var firstEvent: Int
        var high: UInt32
    }

    public init() {}

    // MARK: what is indexed

    public var count: Int { kinds.count }
    /// Bytes of the file the index covers: where the next extension resumes.
    public var indexedBytes: Int { scan.resumeOffset }
    public var corruptionCount: Int { scan.corruptionCount }
    public var truncatedTailBytes: Int { scan.truncatedTailBytes }

    public func count(of kind: TraceRecordKind) -> Int { byKind[Int(kind.rawValue)].count }
    /// Event numbers of one raw kind byte, in file order.
    public func events(ofRawKind kind: UInt8) -> PostingList { byKind[Int(kind)] }
    public func events(of kind: TraceRecordKind) -> PostingList { byKind[Int(kind.rawValue)] }

    /// The channels seen, in order of first appearance.
    public var channels: [UInt32] { channelTable }

    /// Event numbers of the records of `channel`, in file order.
    public func events(onChannel channel: UInt32) -> [Int] {
        var result: [Int] = []
        if let slot = channelSlotByID[channel] { result.append(contentsOf: byChannelSlot[Int(slot)]) }
        if !channelOverflow.isEmpty {
            result.append(contentsOf: channelOverflow.filter { self.channel(of: $0) == channel })
            result.sort()
        }
        return result
    }

    /// The posting list of `channel` when it has a slot (every channel but in traces with more than 65534).
    public func postingList(onChannel channel: UInt32) -> PostingList? {
        guard channelOverflow.isEmpty, let slot = channelSlotByID[channel] else { return nil }
        return byChannelSlot[Int(slot)]
    }

    // MARK: columns

    public func offset(of event: Int) -> Int {
        let low = Int(offsetLow[event])
        guard let last = offsetHighs.last else { return low }
        if event >= last.firstEvent { return Int(last.high) << 32 | low }
        var high: UInt32 = 0
        for entry in offsetHighs where entry.firstEvent <= event { high = entry.high }
        return Int(high) << 32 | low
    }

    public func time(of event: Int) -> UInt64 { times[event] }
    public func rawKind(of event: Int) -> UInt8 { kinds[event] }

    public func direction(of event: Int) -> Direction? { Direction(rawValue: directions[event]) }

    public func channel(of event: Int) -> UInt32? {
        guard RecordFields.hasChannel(kinds[event]) else { return nil }
        let slot = channelSlots[event]
        if Int(slot) < channelTable.count { return channelTable[Int(slot)] }
        return fieldsFromFile(event)?.channel
    }

    public func frameIndex(of event: Int) -> UInt64? {
        guard RecordFields.hasFrameIndex(kinds[event]) else { return nil }
        let value = frameIndexes[event]
        if value != Self.noFrameIndex { return UInt64(value) }
        return fieldsFromFile(event)?.frameIndex
    }

    public func envelope(of event: Int) -> MessageEnvelope? {
        guard kinds[event] == RecordFields.payloadFrameKind else { return nil }
        let slot = magicSlots[event], id = messageIDs[event]
        if Int(slot) < magicTable.count && id != Self.noSlot { return MessageEnvelope(magic: magicTable[Int(slot)], messageID: Int32(id)) }
        return fieldsFromFile(event)?.envelope
    }

    public func event(_ number: Int) -> IndexedEvent {
        IndexedEvent(
            number: number, offset: offset(of: number), rawKind: kinds[number], time: times[number],
            channel: channel(of: number), direction: direction(of: number), frameIndex: frameIndex(of: number),
            envelope: envelope(of: number))
    }

    /// A value its column could not hold, read from the record itself.
    private func fieldsFromFile(_ event: Int) -> RecordFields? {
        guard let mapping else { return nil }
        return withExtendedLifetime(mapping) {
            guard let (kind, fields) = RecordFields.read(in: mapping.bytes, at: offset(of: event)), kind == kinds[event] else { return nil }
            return fields
        }
    }

    // MARK: time order

    /// The event at `position` in time order.
    public func eventNumber(atTimePosition position: Int) -> Int { Int(timeOrder[position]) }

    /// The event numbers of `positions` in time order (a viewer's rows [top, top + height)).
    public func eventNumbers(inTimeOrder positions: Range<Int>) -> [Int] {
        let clamped = positions.clamped(to: 0..<timeOrder.count)
        return timeOrder.values(clamped).map { Int($0) }
    }

    // MARK: memory

    /// Columns read in place from a stored index file: its mapped pages, not anonymous memory.
    public var mappedBytes: Int {
        offsetLow.mappedBytes + times.mappedBytes + kinds.mappedBytes + directions.mappedBytes + channelSlots.mappedBytes
            + frameIndexes.mappedBytes + magicSlots.mappedBytes + messageIDs.mappedBytes + timeOrder.mappedBytes
    }

    /// Bytes this index holds in memory (array capacities, not just what is used; neither the mapped trace
    /// nor columns read in place from a stored index, ``mappedBytes``, included).
    public var memoryBytes: Int {
        var total = offsetLow.memoryBytes + times.memoryBytes + kinds.memoryBytes + directions.memoryBytes
        total += channelSlots.memoryBytes + frameIndexes.memoryBytes + magicSlots.memoryBytes + messageIDs.memoryBytes
        total += timeOrder.memoryBytes
        total += byKind.reduce(0) { $0 + $1.memoryBytes } + byChannelSlot.reduce(0) { $0 + $1.memoryBytes }
        total += channelOverflow.memoryBytes
        total += (channelTable.capacity + magicTable.capacity) * 4 + (channelSlotByID.capacity + magicSlotByValue.capacity) * 8
        total += damage.capacity * MemoryLayout<IndexDamage>.stride + offsetHighs.capacity * MemoryLayout<OffsetHigh>.stride
        return total
    }

    // MARK: building

    /// Indexes the records of `mapping` from where the index stopped, up to the end of the mapping or, with
    /// `limit`, about that file offset (it stops after the record that reaches it). Returns whether it
    /// reached the end of the mapping.
    @discardableResult
    mutating func extend(with mapping: MappedFile, limit: Int = .max) -> Bool {
        self.mapping = mapping
        // Steps of 1 MiB, so the columns can be sized from the records seen before they must grow.
        let step = 1 << 20
        while !isFull {
            reserveForRemainder(of: mapping.count)
            let stepLimit = Swift.min(limit, indexedBytes > Int.max - step ? Int.max : indexedBytes + step)
            mapping.prefault(indexedBytes..<(stepLimit > Int.max - step ? Int.max : stepLimit + (64 << 10)))
            if extendOnce(with: mapping, limit: stepLimit) { return true }
            if stepLimit >= limit { return false }
        }
        return true
    }

    private mutating func extendOnce(with mapping: MappedFile, limit: Int) -> Bool {
        var scan = self.scan  // a local: the closures below append to self's columns
        let reachedEnd = withExtendedLifetime(mapping) {
            let data = mapping.bytes
            return scan.scan(data, limit: limit, record: { frame in
                guard count < Self.maxEvents else {
                    isFull = true
                    return
                }
                let body = TraceReader.body(of: frame, in: data)
                append(offset: frame.offset, kind: frame.kind, fields: RecordFields(kind: frame.kind, body: body))
            }, damage: { offset, reason, resumedAt in
                if damage.count < Self.damageListLimit {
                    damage.append(IndexDamage(offset: offset, reason: reason, resumedAt: resumedAt))
                }
            })
        }
        self.scan = scan
        restoreTimeOrderIfNeeded()
        return reachedEnd || isFull
    }

    mutating func append(offset: Int, kind: UInt8, fields: RecordFields) {
        let event = count
        let high = UInt32(truncatingIfNeeded: offset >> 32)
        if high != (offsetHighs.last?.high ?? 0) { offsetHighs.append(OffsetHigh(firstEvent: event, high: high)) }
        offsetLow.append(UInt32(truncatingIfNeeded: offset))
        times.append(fields.time)
        kinds.append(kind)
        directions.append(fields.direction?.rawValue ?? Self.noDirection)

        var channelSlot = Self.noSlot
        if let channel = fields.channel {
            channelSlot = slot(forChannel: channel)
            if channelSlot == Self.noSlot { channelOverflow.append(UInt32(event)) } else { byChannelSlot[Int(channelSlot)].append(UInt32(event)) }
        }
        channelSlots.append(channelSlot)
        frameIndexes.append(fields.frameIndex.map { $0 < UInt64(Self.noFrameIndex) ? UInt32($0) : Self.noFrameIndex } ?? Self.noFrameIndex)
        if let envelope = fields.envelope {
            magicSlots.append(slot(forMagic: envelope.magic))
            messageIDs.append(envelope.messageID >= 0 && envelope.messageID < Int32(Self.noSlot) ? UInt16(envelope.messageID) : Self.noSlot)
        } else {
            magicSlots.append(Self.noSlot)
            messageIDs.append(Self.noSlot)
        }
        byKind[Int(kind)].append(UInt32(event))
        placeInTimeOrder(UInt32(event), time: fields.time)
    }

    private mutating func slot(forChannel channel: UInt32) -> UInt16 {
        // Most traces have a few channels: a look along the table is cheaper than hashing.
        if channelTable.count <= 16 {
            for slot in channelTable.indices where channelTable[slot] == channel { return UInt16(slot) }
        } else if let slot = channelSlotByID[channel] {
            return slot
        }
        guard channelTable.count < Int(Self.noSlot) else { return Self.noSlot }
        let slot = UInt16(channelTable.count)
        channelTable.append(channel)
        channelSlotByID[channel] = slot
        byChannelSlot.append(PostingList())
        return slot
    }

    private mutating func slot(forMagic magic: UInt32) -> UInt16 {
        // A magic per endpoint: few, so a look along the table is cheaper than hashing.
        if magicTable.count <= 16 {
            for slot in magicTable.indices where magicTable[slot] == magic { return UInt16(slot) }
        } else if let known = magicSlotByValue[magic] {
            return known
        }
        guard magicTable.count < Int(Self.noSlot) else { return Self.noSlot }
        let slot = UInt16(magicTable.count)
        magicTable.append(magic)
        magicSlotByValue[magic] = slot
        return slot
    }

    private mutating func placeInTimeOrder(_ event: UInt32, time: UInt64) {
        let count = timeOrder.count
        // The common case: not earlier than anything placed so far.
        guard !timeOrderNeedsSort, count > 0, times[Int(timeOrder[count - 1])] > time else {
            timeOrder.append(event)
            return
        }
        // The new event has the largest number: it goes before the first entry with a later time. Gallop
        // back from the end (entries out of order are mostly close to it), then search between.
        var later = count - 1  // times[timeOrder[later]] > time
        var notLater = -1  // -1, or times[timeOrder[notLater]] <= time
        var step = 1
        while later - step >= 0 {
            let probe = later - step
            if times[Int(timeOrder[probe])] <= time {
                notLater = probe
                break
            }
            later = probe
            step *= 2
        }
        while later - notLater > 1 {
            let middle = (later + notLater) / 2
            if times[Int(timeOrder[middle])] > time { later = middle } else { notLater = middle }
        }
        insertionWork += count - later
        if insertionWork > 64 * count + (1 << 20) {
            timeOrderNeedsSort = true
            timeOrder.append(event)
            return
        }
        timeOrder.insert(event, at: later)
    }

    private mutating func restoreTimeOrderIfNeeded() {
        guard timeOrderNeedsSort else { return }
        times.withUnsafeBufferPointer { times in
            timeOrder.sort { a, b in times[Int(a)] != times[Int(b)] ? times[Int(a)] < times[Int(b)] : a < b }
        }
        timeOrderNeedsSort = false
        insertionWork = 0
    }

    /// Reserves the columns for the events the rest of the file probably holds (from the average record
    /// size so far), so that they grow once instead of doubling (each doubling copies, and the copy and
    /// the original briefly both exist).
    private mutating func reserveForRemainder(of fileSize: Int) {
        let indexed = scan.resumeOffset - TraceFileLayout.firstRecordOffset
        guard count >= 1024, indexed > 0, fileSize > scan.resumeOffset else { return }
        let growth = Double(fileSize - scan.resumeOffset) / Double(indexed)
        let expected = min(Self.maxEvents, count + Int(Double(count) * growth * 1.01) + 1024)
        guard expected > kinds.capacity else { return }
        let reserved = Swift.min(Self.maxEvents, expected + expected / 64)  // room for the estimate to drift
        for kind in byKind.indices where !byKind[kind].isEmpty {
            byKind[kind].reserve(toHold: Int(Double(byKind[kind].count) * (1 + growth * 1.02)))
        }
        for slot in byChannelSlot.indices {
            byChannelSlot[slot].reserve(toHold: Int(Double(byChannelSlot[slot].count) * (1 + growth * 1.02)))
        }
        offsetLow.reserveCapacity(reserved)
        times.reserveCapacity(reserved)
        kinds.reserveCapacity(reserved)
        directions.reserveCapacity(reserved)
        channelSlots.reserveCapacity(reserved)
        frameIndexes.reserveCapacity(reserved)
        magicSlots.reserveCapacity(reserved)
        messageIDs.reserveCapacity(reserved)
        timeOrder.reserveCapacity(reserved)
    }
}
