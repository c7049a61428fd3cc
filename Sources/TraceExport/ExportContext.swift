import IPCWire
import TraceAnalysis
import TraceFormat

/// An indexed trace with what an exported event needs besides its own record: side identities, message
/// names and sync latencies (a ``TraceAnalyzer`` in its names scope: only those) and delivery times from
/// frames-delivered records (read through the index's posting list for that kind only).
public final class ExportContext {
    public let trace: IndexedTrace
    public let header: TraceHeader?
    /// Identities, message names and latencies only (``TraceAnalyzer/Scope/names``).
    public let names: TraceAnalyzer
    /// The time of the first event after the header, in time order: `t` counts from here.
    public let firstTime: UInt64
    /// Per channel and direction (`channel << 1 | direction`), delivery ranges in file order.
    private let deliveries: [UInt64: DeliveryRanges]
    /// The direction asked last (key all ones: none yet).
    private var lastDelivery: (key: UInt64, ranges: DeliveryRanges?) = (.max, nil)

    /// One direction's delivery ranges, with where the last lookup ended: the export asks in time order,
    /// so per direction in frame order, and the next answer is almost always that range or the next.
    final class DeliveryRanges {
        var ranges: [(first: UInt64, last: UInt64, time: UInt64)] = []
        var hint = 0
        /// Whether `first` never decreases (so the hint gives what the binary search gives); a damaged or
        /// crafted trace may break it, and then every lookup searches.
        var sorted = true

        func time(of frameIndex: UInt64) -> UInt64? {
            let count = ranges.count
            for candidate in [hint, hint + 1] where sorted && candidate < count && ranges[candidate].first <= frameIndex
                && (candidate + 1 == count || ranges[candidate + 1].first > frameIndex) {
                hint = candidate
                return ranges[candidate].last >= frameIndex ? ranges[candidate].time : nil
            }
            // Ranges arrive in frame order per direction: binary search for the last range starting at or before.
            var low = 0, high = count
            while low < high {
                let middle = (low + high) / 2
                if ranges[middle].first <= frameIndex { low = middle + 1 } else { high = middle }
            }
            guard low > 0 else { return nil }
            hint = low - 1
            return ranges[low - 1].last >= frameIndex ? ranges[low - 1].time : nil
        }
    }

    /// - Parameter schemas: `--schema` files, used before those embedded in the trace.
    public init(path: String, store: IndexStore = .userCache, schemas: [SchemaFile] = []) throws(TraceFileError) {
        var trace = try IndexedTrace(path: path, store: store)
        trace.indexToEnd()
        self.trace = trace
        if trace.eventCount > 0, case .header(let header)? = trace.record(0) { self.header = header } else { header = nil }
        // Only what an exported event is named with (identities, message names, latencies): the export reads
        // no other analysis, and async frames need no read.
        names = TraceAnalyzer(schemas: schemas, scope: .names)
        names.advance(over: trace)
        names.isComplete = true
        var first: UInt64 = 0
        let index = trace.index
        for position in 0..<index.count {
            let number = index.eventNumber(atTimePosition: position)
            if index.rawKind(of: number) != TraceRecordKind.header.rawValue {
                first = index.time(of: number)
                break
            }
        }
        firstTime = first
        var deliveries: [UInt64: DeliveryRanges] = [:]
        for number in index.events(of: .framesDelivered) {
            guard case .framesDelivered(let record)? = trace.record(number) else { continue }
            let key = Self.key(record.channel, record.direction)
            if deliveries[key] == nil { deliveries[key] = DeliveryRanges() }
            let ranges = deliveries[key]!
            if let previous = ranges.ranges.last, previous.first > record.firstFrameIndex { ranges.sorted = false }
            ranges.ranges.append((record.firstFrameIndex, record.lastFrameIndex, record.time))
        }
        self.deliveries = deliveries
    }

    /// Damaged stretches the index skipped (a truncated tail, left by a killed recorder, is not damage).
    public var corruptionCount: Int { trace.index.corruptionCount }

    static func key(_ channel: UInt32, _ direction: Direction) -> UInt64 { UInt64(channel) << 1 | UInt64(direction.rawValue) }

    /// When the receiver took frame `frameIndex` of `channel`'s `direction`, if a frames-delivered record says.
    public func deliveredTime(channel: UInt32, direction: Direction, frameIndex: UInt64) -> UInt64? {
        let key = Self.key(channel, direction)
        // Most events are of the same direction as the one before: no hashing then.
        if key != lastDelivery.key { lastDelivery = (key, deliveries[key]) }
        return lastDelivery.ranges?.time(of: frameIndex)
    }

    /// The event numbers (index positions in file order) to export, in time order, in chunks (constant
    /// memory beyond the index); the header is metadata, not an event.
    public func forEachEventInTimeOrder(_ body: (Int) throws(ExportError) -> Void) throws(ExportError) {
        let index = trace.index
        var start = 0
        while start < index.count {
            let end = min(start + 65536, index.count)
            for number in index.eventNumbers(inTimeOrder: start..<end)
            where index.rawKind(of: number) != TraceRecordKind.header.rawValue {
                try body(number)
            }
            start = end
        }
    }
}
