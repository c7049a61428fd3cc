import Glibc
import SystemSupport

/// What a stored index is keyed by: the trace file's identity and the bytes the index covers.
struct TraceFileKey: Equatable {
    var device: UInt64
    var inode: UInt64
    /// The file's size now.
    var size: Int
    var modifiedSeconds: Int64
    var modifiedNanoseconds: Int64

    init(device: UInt64, inode: UInt64, size: Int, modifiedSeconds: Int64, modifiedNanoseconds: Int64) {
        self.device = device
        self.inode = inode
        self.size = size
        self.modifiedSeconds = modifiedSeconds
        self.modifiedNanoseconds = modifiedNanoseconds
    }

    init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int(info.st_size)
        modifiedSeconds = Int64(info.st_mtim.tv_sec)
        modifiedNanoseconds = Int64(info.st_mtim.tv_nsec)
    }
}

/// Why a stored index was not used.
public struct StoredIndexRejection: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// The stored index file (docs/index-format.md): a fixed 128-byte header, the small tables, the columns
/// of ``EventIndex`` in file order, the time order, the posting lists, and a CRC-32C of everything before
/// it. Every count in the file is hostile: what it implies must fit in the bytes left before anything is
/// allocated, and every value is checked before it is used — loading checks everything the index's
/// invariants rest on (offsets increase inside the trace, slots point into their tables, the time order is
/// a sorted permutation, each posting list holds exactly its key's events), each in one pass, which is
/// much cheaper than scanning the trace.
enum IndexSidecar {
    static let magic: [UInt8] = Array("IPCTIDX\u{1}".utf8)
    static let formatVersion: UInt32 = 1
    static let headerSize = 128
    /// Bytes of the trace's head, and of its end (before the covered size), whose checksums are stored.
    static let checkedSpan = 64 * 1024
    static let bytesPerEvent = 4 + 8 + 1 + 1 + 2 + 4 + 2 + 2
    static let damageEntrySize = 28
    static let offsetHighEntrySize = 12
    /// Events checked against the trace's own records on load.
    static let spotChecks = 64

    // MARK: writing

    /// Writes `index` (which covers the first `trace.count` bytes of the trace) to `path`: a temporary file
    /// (0600) in the same directory, renamed over `path` once complete.
    static func write(_ index: EventIndex, trace: UnsafeRawBufferPointer, key: TraceFileKey, version: TraceFormatVersion, to path: String) throws(IndexStoreError) {
        var template = Array((path + ".XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw IndexStoreError(path: path, operation: "mkstemp", errno: errno) }
        let temporary = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var descriptor: OwnedFD? = OwnedFD(adopting: fd)  // closed when dropped on an error path
        var renamed = false
        defer { if !renamed { unlink(temporary) } }
        try encode(index, trace: trace, key: key, version: version) { (bytes) throws(IndexStoreError) in
            do throws(SystemError) {
                try writeAll(bytes, "write") { rest in Glibc.write(fd, rest.baseAddress, rest.count) }
            } catch {
                throw IndexStoreError(path: temporary, operation: "write", errno: error.errno)
            }
        }
        do throws(SystemError) {
            try descriptor.take()!.close()
        } catch {
            throw IndexStoreError(path: temporary, operation: "close", errno: error.errno)
        }
        guard rename(temporary, path) == 0 else { throw IndexStoreError(path: path, operation: "rename", errno: errno) }
        renamed = true
    }

    /// The stored form of `index`, section by section, handed to `put`; the last 4 bytes are the CRC-32C
    /// of everything before them.
    static func encode(
        _ index: EventIndex, trace: UnsafeRawBufferPointer, key: TraceFileKey, version: TraceFormatVersion,
        _ write: (UnsafeRawBufferPointer) throws(IndexStoreError) -> Void
    ) throws(IndexStoreError) {
        var crc: UInt32 = 0
        func put(_ bytes: UnsafeRawBufferPointer) throws(IndexStoreError) {
            crc = CRC32C.checksum(bytes, continuing: crc)
            try write(bytes)
        }
        func put<T>(_ column: Column<T>) throws(IndexStoreError) {
            var failure: IndexStoreError?
            column.withUnsafeBytes { raw in
                do throws(IndexStoreError) { try put(raw) } catch { failure = error }
            }
            if let failure { throw failure }
        }
        func put<T>(_ array: [T]) throws(IndexStoreError) {
            // withUnsafeBytes does not pass a typed throw through; carry the error out.
            var failure: IndexStoreError?
            array.withUnsafeBytes { raw in
                do throws(IndexStoreError) { try put(raw) } catch { failure = error }
            }
            if let failure { throw failure }
        }
        try put(header(index, trace: trace, key: key, version: version))
        try put(index.channelTable)
        try put(index.magicTable)
        var tables = ByteWriter()
        for high in index.offsetHighs { tables.u64(UInt64(high.firstEvent)); tables.u32(high.high) }
        for damage in index.damage { encode(damage, into: &tables) }
        // The columns are read in place: each starts aligned for its values (widest first, from a multiple of 8).
        let tablesEnd = headerSize + 4 * index.channelTable.count + 4 * index.magicTable.count + tables.bytes.count
        tables.bytes += [UInt8](repeating: 0, count: (8 - tablesEnd % 8) % 8)
        try put(tables.bytes)
        try put(index.times)
        try put(index.offsetLow)
        try put(index.frameIndexes)
        try put(index.timeOrder)
        try put(index.channelSlots)
        try put(index.magicSlots)
        try put(index.messageIDs)
        try put(index.kinds)
        try put(index.directions)
        for list in index.byKind + index.byChannelSlot + [index.channelOverflow] {
            var head = ByteWriter()
            head.u32(UInt32(list.count))
            head.u32(0)
            head.u64(UInt64(list.bytes.count))
            try put(head.bytes)
            try put(list.bytes)
            try put(list.blockFirsts)
        }
        var trailer = ByteWriter()
        trailer.u32(crc)
        try put(trailer.bytes)  // (updates crc too, which is no longer used)
    }

    private static func header(_ index: EventIndex, trace: UnsafeRawBufferPointer, key: TraceFileKey, version: TraceFormatVersion) -> [UInt8] {
        var w = ByteWriter()
        w.bytes += magic
        w.u32(formatVersion)
        w.u32(UInt32(headerSize))
        w.u64(key.device)
        w.u64(key.inode)
        w.u64(UInt64(trace.count))
        w.u64(UInt64(bitPattern: key.modifiedSeconds))
        w.u64(UInt64(bitPattern: key.modifiedNanoseconds))
        let (head, tail) = spanChecksums(trace, covered: trace.count)
        w.u32(head)
        w.u32(tail)
        w.u16(version.major)
        w.u16(version.minor)
        w.u64(UInt64(index.scan.resumeOffset))
        w.u32(index.scan.resyncFirst ? 1 : 0)
        w.u64(UInt64(index.scan.truncatedTailBytes))
        w.u64(UInt64(index.scan.corruptionCount))
        w.u64(UInt64(index.count))
        w.u32(UInt32(index.channelTable.count))
        w.u32(UInt32(index.magicTable.count))
        w.u32(UInt32(index.offsetHighs.count))
        w.u32(UInt32(index.damage.count))
        w.u64(0)  // reserved
        precondition(w.bytes.count == headerSize)
        return w.bytes
    }

    private static func encode(_ damage: IndexDamage, into w: inout ByteWriter) {
        w.u64(UInt64(damage.offset))
        w.u64(damage.resumedAt.map { UInt64($0) } ?? UInt64.max)
        switch damage.reason {
        case .badMarker: w.u32(0); w.u32(0); w.u32(0)
        case .impossibleLength(let length): w.u32(1); w.u32(length); w.u32(0)
        case .badChecksum(let stored, let computed): w.u32(2); w.u32(stored); w.u32(computed)
        case .runsPastEnd(let length): w.u32(3); w.u32(length); w.u32(0)
        default: w.u32(0); w.u32(0); w.u32(0)  // the scanner reports only the four above
        }
    }

    /// CRC-32C of the first and of the last `checkedSpan` bytes of `trace[..<covered]`.
    static func spanChecksums(_ trace: UnsafeRawBufferPointer, covered: Int) -> (head: UInt32, tail: UInt32) {
        let span = min(checkedSpan, covered)
        return (CRC32C.checksum(UnsafeRawBufferPointer(rebasing: trace[0..<span])),
                CRC32C.checksum(UnsafeRawBufferPointer(rebasing: trace[(covered - span)..<covered])))
    }

    // MARK: reading

    /// The index stored in `bytes`, if it is intact and describes the trace mapped as `mapping` (whose file
    /// is now as `key` says): the same file, grown or not since, with the same bytes where checked.
    /// The columns are used in place in `sidecar`'s memory (which the index then keeps alive).
    static func read(_ sidecar: MappedFile, mapping: MappedFile, key: TraceFileKey?, version: TraceFormatVersion) throws(StoredIndexRejection) -> EventIndex {
        let bytes = sidecar.bytes
        let trace = mapping.bytes
        sidecar.prefault(0..<bytes.count)  // all of it is read: map it in one call, not page by page
        guard bytes.count >= headerSize + 4 else { throw StoredIndexRejection("shorter than its header") }
        var r = ByteReader(bytes)
        guard r.bytes(8).elementsEqual(magic) else { throw StoredIndexRejection("not a stored index (magic)") }
        guard r.u32() == formatVersion, r.u32() == UInt32(headerSize) else { throw StoredIndexRejection("unknown stored-index version") }
        let device = r.u64(), inode = r.u64()
        let covered = r.u64()
        let seconds = Int64(bitPattern: r.u64()), nanoseconds = Int64(bitPattern: r.u64())
        // Without a key (bytes held in memory, the fuzzer) the stored identity is taken as the file's.
        let key = key ?? TraceFileKey(device: device, inode: inode, size: trace.count, modifiedSeconds: seconds, modifiedNanoseconds: nanoseconds)
        guard device == key.device, inode == key.inode else { throw StoredIndexRejection("made for another file") }
        guard covered >= UInt64(TraceFileLayout.fileHeaderSize), covered <= UInt64(trace.count) else {
            throw StoredIndexRejection("covers \(covered) bytes; the trace has \(trace.count)")
        }
        let coveredSize = Int(covered)
        if coveredSize == key.size {
            guard seconds == key.modifiedSeconds, nanoseconds == key.modifiedNanoseconds else {
                throw StoredIndexRejection("the trace was modified since (same size, other mtime)")
            }
        }
        let (head, tail) = spanChecksums(trace, covered: coveredSize)
        guard r.u32() == head, r.u32() == tail else { throw StoredIndexRejection("the trace's bytes differ from those indexed") }
        guard TraceFormatVersion(major: r.u16(), minor: r.u16()) == version else { throw StoredIndexRejection("trace version differs") }
        var scan = ResumableScan()
        let resume = r.u64()
        let resync = r.u32()
        let tailBytes = r.u64()
        let corruptions = r.u64()
        guard resume >= UInt64(TraceFileLayout.firstRecordOffset), resume <= covered, resync <= 1,
              tailBytes <= covered - resume, corruptions <= covered
        else { throw StoredIndexRejection("impossible scan state") }
        scan.resumeOffset = Int(resume)
        scan.resyncFirst = resync == 1
        scan.truncatedTailBytes = Int(tailBytes)
        scan.corruptionCount = Int(corruptions)

        let events = r.u64()
        let channels = Int(r.u32()), magics = Int(r.u32()), highs = Int(r.u32()), damages = Int(r.u32())
        _ = r.u64()
        // Each event is a record of at least 13 bytes inside the covered bytes.
        guard events <= (covered - UInt64(TraceFileLayout.firstRecordOffset)) / UInt64(TraceFileLayout.recordHeaderSize),
              events <= UInt64(EventIndex.maxEvents), channels < Int(EventIndex.noSlot), magics < Int(EventIndex.noSlot),
              highs <= 64, damages <= EventIndex.damageListLimit, damages <= scan.corruptionCount
        else { throw StoredIndexRejection("impossible counts") }
        let count = Int(events)
        // All small now, so the sum cannot overflow; the posting lists follow, each checked as it comes.
        let tablesEnd = headerSize + 4 * channels + 4 * magics + offsetHighEntrySize * highs + damageEntrySize * damages
        let padding = (8 - tablesEnd % 8) % 8
        let fixedPart = tablesEnd + padding + (bytesPerEvent + 4) * count + 4
        guard bytes.count >= fixedPart else { throw StoredIndexRejection("size \(bytes.count) is less than its counts need (\(fixedPart))") }
        let stored = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: bytes.count - 4, as: UInt32.self))

        var index = EventIndex()
        index.scan = scan
        index.channelTable = r.array(channels)
        index.magicTable = r.array(magics)
        for (slot, channel) in index.channelTable.enumerated() {
            guard index.channelSlotByID.updateValue(UInt16(slot), forKey: channel) == nil else { throw StoredIndexRejection("channel listed twice") }
        }
        for (slot, magic) in index.magicTable.enumerated() {
            guard index.magicSlotByValue.updateValue(UInt16(slot), forKey: magic) == nil else { throw StoredIndexRejection("magic listed twice") }
        }
        var previousHigh = EventIndex.OffsetHigh(firstEvent: 0, high: 0)
        for _ in 0..<highs {
            let high = EventIndex.OffsetHigh(firstEvent: Int(clamping: r.u64()), high: r.u32())
            guard high.firstEvent > previousHigh.firstEvent || index.offsetHighs.isEmpty, high.firstEvent < count, high.high > previousHigh.high else {
                throw StoredIndexRejection("offset table out of order")
            }
            index.offsetHighs.append(high)
            previousHigh = high
        }
        for _ in 0..<damages {
            let offset = r.u64(), resumed = r.u64(), code = r.u32(), a = r.u32(), b = r.u32()
            let reason: CorruptionReason
            switch code {
            case 0: reason = .badMarker
            case 1: reason = .impossibleLength(a)
            case 2: reason = .badChecksum(stored: a, computed: b)
            case 3: reason = .runsPastEnd(bodyLength: a)
            default: throw StoredIndexRejection("unknown damage reason")
            }
            guard offset < covered, resumed == UInt64.max || (resumed > offset && resumed <= covered) else {
                throw StoredIndexRejection("damage outside the trace")
            }
            index.damage.append(IndexDamage(offset: Int(offset), reason: reason, resumedAt: resumed == UInt64.max ? nil : Int(resumed)))
        }
        guard r.bytes(padding).allSatisfy({ $0 == 0 }) else { throw StoredIndexRejection("padding is not zero") }
        index.times = r.column(count, keeper: sidecar)
        index.offsetLow = r.column(count, keeper: sidecar)
        index.frameIndexes = r.column(count, keeper: sidecar)
        index.timeOrder = r.column(count, keeper: sidecar)
        index.channelSlots = r.column(count, keeper: sidecar)
        index.magicSlots = r.column(count, keeper: sidecar)
        index.messageIDs = r.column(count, keeper: sidecar)
        index.kinds = r.column(count, keeper: sidecar)
        index.directions = r.column(count, keeper: sidecar)
        index.mapping = mapping
        // The checksum and the time order of a large stored index are checked on a second thread while this
        // one checks the rest; everything must pass. The thread is joined before returning, whatever happens.
        let shared = SharedBuffers(
            body: UnsafeRawBufferPointer(rebasing: bytes[..<(bytes.count - 4)]),
            order: index.timeOrder.withUnsafeBufferPointer { $0 }, times: index.times.withUnsafeBufferPointer { $0 })
        let background = BackgroundCheck(inBackground: bytes.count >= 8 << 20) {
            if CRC32C.checksum(shared.body) != stored { return "checksum mismatch" }
            return timeOrderProblem(order: shared.order, times: shared.times, count: count)
        }
        defer { _ = background.finish() }
        _ = try check(index, covered: coveredSize, trace: trace)
        r = ByteReader(UnsafeRawBufferPointer(rebasing: bytes[..<(bytes.count - 4)]), position: r.position)
        var framings: [StoredPostingLists.Framing] = []
        for _ in 0..<(256 + channels + 1) { framings.append(try StoredPostingLists.framing(&r, eventCount: count)) }
        let kinds = index.kinds, channelSlots = index.channelSlots  // in place: the buffers below stay valid
        let lists = kinds.withUnsafeBufferPointer { kinds in
            channelSlots.withUnsafeBufferPointer { slots in
                StoredPostingLists.checked(framings, in: r.data, kinds: kinds, slots: slots, channelSlots: channels)
            }
        }
        guard let lists else { throw StoredIndexRejection("posting lists do not hold their keys' events") }
        index.byKind = Array(lists[..<256])
        index.byChannelSlot = Array(lists[256..<(256 + channels)])
        index.channelOverflow = lists[256 + channels]
        guard r.position == r.data.count else { throw StoredIndexRejection("bytes after the posting lists") }
        if let problem = background.finish() { throw StoredIndexRejection(problem) }
        return index
    }

    /// Checks what the columns claim: offsets increase and lie inside the covered bytes, slots point into
    /// their tables, directions are 0, 1 or none; and, for events spread over the file, that the record at
    /// the offset is good and has the stored kind, time, channel, direction, frame index and envelope.
    /// Returns how many events name a channel.
    private static func check(_ index: EventIndex, covered: Int, trace: UnsafeRawBufferPointer) throws(StoredIndexRejection) -> Int {
        let count = index.count
        let channels = index.channelTable.count, magics = index.magicTable.count
        var previous = -1
        var channelEvents = 0
        // One pass over raw buffers (this runs on every reopen: per-element checks add up at 10 M events).
        let problem: String? = index.offsetLow.withUnsafeBufferPointer { low in
            index.directions.withUnsafeBufferPointer { directions in
                index.channelSlots.withUnsafeBufferPointer { channelSlots in
                    index.magicSlots.withUnsafeBufferPointer { magicSlots in
                        index.kinds.withUnsafeBufferPointer { kinds in
                            var highs = index.offsetHighs[...]
                            var high = 0
                            for event in 0..<count {
                                if let next = highs.first, next.firstEvent == event {
                                    high = Int(next.high) << 32
                                    highs = highs.dropFirst()
                                }
                                let offset = high | Int(low[event])
                                guard offset > previous, offset >= TraceFileLayout.firstRecordOffset else { return "offsets out of order" }
                                previous = offset
                                let direction = directions[event]
                                guard direction <= 1 || direction == EventIndex.noDirection else { return "bad direction" }
                                let channelSlot = channelSlots[event], magicSlot = magicSlots[event]
                                guard channelSlot == EventIndex.noSlot || Int(channelSlot) < channels,
                                      magicSlot == EventIndex.noSlot || Int(magicSlot) < magics
                                else { return "slot out of range" }
                                if RecordFields.hasChannel(kinds[event]) { channelEvents += 1 }
                            }
                            return nil
                        }
                    }
                }
            }
        }
        if let problem { throw StoredIndexRejection(problem) }
        guard previous + TraceFileLayout.recordHeaderSize <= index.scan.resumeOffset || count == 0 else {
            throw StoredIndexRejection("last record past the covered bytes")
        }
        guard count > 0 else { return 0 }
        let step = max(1, count / spotChecks)
        for event in stride(from: 0, to: count, by: step).map({ $0 }) + [count - 1] {
            let offset = index.offset(of: event)
            guard offset < covered, case .valid(let frame) = RecordScanner.checkFrame(in: UnsafeRawBufferPointer(rebasing: trace[..<covered]), at: offset),
                  frame.kind == index.kinds[event]
            else { throw StoredIndexRejection("event \(event) is not the record at offset \(offset)") }
            let fields = RecordFields(kind: frame.kind, body: TraceReader.body(of: frame, in: trace))
            let expected = index.event(event)
            guard fields.time == expected.time, fields.channel == expected.channel, fields.direction == expected.direction,
                  fields.frameIndex == expected.frameIndex, fields.envelope == expected.envelope
            else { throw StoredIndexRejection("event \(event) differs from its record") }
        }
        return channelEvents
    }

    /// The time order must hold every event once, sorted by (time, event number). A sequence of `count`
    /// event numbers below `count` whose (time, number) pairs strictly increase holds no number twice, so it
    /// is a permutation: no bitmap needed.
    static func timeOrderProblem(order: UnsafeBufferPointer<UInt32>, times: UnsafeBufferPointer<UInt64>, count: Int) -> String? {
        guard order.count == count, times.count == count else { return "time order is not a sorted permutation" }
        var previousTime: UInt64 = 0
        var previousEvent = -1
        for position in 0..<order.count {
            let event = Int(order[position])
            guard event < count else { return "time order is not a sorted permutation" }
            let time = times[event]
            guard position == 0 || time > previousTime || (time == previousTime && event > previousEvent) else {
                return "time order is not a sorted permutation"
            }
            previousTime = time
            previousEvent = event
        }
        return nil
    }
}

/// Little-endian writes into a byte array.
struct ByteWriter {
    var bytes: [UInt8] = []
    mutating func u16(_ value: UInt16) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
    mutating func u32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
    mutating func u64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
}

/// Little-endian reads from bytes whose size was checked beforehand (every read is still bounds-checked:
/// a miscount traps rather than reading past the end).
struct ByteReader {
    let data: UnsafeRawBufferPointer
    var position = 0

    init(_ data: UnsafeRawBufferPointer, position: Int = 0) {
        self.data = data
        self.position = position
    }

    var remaining: Int { data.count - position }

    mutating func bytes(_ count: Int) -> UnsafeRawBufferPointer {
        precondition(count >= 0 && count <= data.count - position)
        defer { position += count }
        return UnsafeRawBufferPointer(rebasing: data[position..<(position + count)])
    }

    mutating func u16() -> UInt16 { UInt16(littleEndian: bytes(2).loadUnaligned(as: UInt16.self)) }
    mutating func u32() -> UInt32 { UInt32(littleEndian: bytes(4).loadUnaligned(as: UInt32.self)) }
    mutating func u64() -> UInt64 { UInt64(littleEndian: bytes(8).loadUnaligned(as: UInt64.self)) }

    /// `count` values stored back to back in the host's (little-endian) layout, used in place.
    mutating func column<T: FixedWidthInteger>(_ count: Int, keeper: MappedFile) -> Column<T> {
        let raw = bytes(count * MemoryLayout<T>.stride)
        guard let base = raw.baseAddress else { return Column() }
        precondition(Int(bitPattern: base) % MemoryLayout<T>.alignment == 0, "columns are aligned by the format")
        return Column(inPlace: UnsafeBufferPointer(start: base.assumingMemoryBound(to: T.self), count: count), keeper: keeper)
    }

    /// `count` values stored back to back in the host's (little-endian) layout.
    mutating func array<T: FixedWidthInteger>(_ count: Int) -> [T] {
        let raw = bytes(count * MemoryLayout<T>.stride)
        return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            UnsafeMutableRawBufferPointer(buffer).copyMemory(from: raw)
            initialized = count
        }
    }
}

/// Buffers of a stored index's mapping, read (never written) by a ``BackgroundCheck`` while the mapping
/// is alive: `@unchecked Sendable`.
struct SharedBuffers: @unchecked Sendable {
    var body: UnsafeRawBufferPointer
    var order: UnsafeBufferPointer<UInt32>
    var times: UnsafeBufferPointer<UInt64>
}

/// A check run on a thread of its own (or inline, at ``finish()``, for small inputs or when no thread can
/// be had). Its result is a problem, or nil.
final class BackgroundCheck: @unchecked Sendable {
    // @unchecked: `result` is written by the thread before join() returns and read only after it.
    private let check: @Sendable () -> String?
    private var result: String?
    private var thread: OSThread?
    private var finished = false

    init(inBackground: Bool, _ check: @escaping @Sendable () -> String?) {
        self.check = check
        guard inBackground else { return }
        do {
            thread = try OSThread(name: "index-check") { [self] in result = self.check() }
        } catch {
            thread = nil  // no thread to be had: checked inline at finish()
        }
    }

    /// Waits for the check (or runs it) and returns its problem, if any.
    func finish() -> String? {
        if !finished {
            if let thread { thread.join() } else { result = check() }
            finished = true
        }
        return result
    }
}
