import IPCWire
import TraceFormat

/// One queue sample of a direction, compacted to 24 bytes (the byte depths over time; `UInt64.max` stands
/// for "not measured"). Fds and sync requests pending are kept as maxima only.
public struct QueuePoint: Sendable, Equatable {
    public var time: UInt64
    var buffered: UInt64
    var unread: UInt64

    /// Read from the sender, not yet written to the receiver; nil when not measured.
    public var proxyBuffered: UInt64? { buffered == .max ? nil : buffered }
    /// Written to the receiver, not yet read (exact, or a `SIOCOUTQ` estimate); nil when not measured.
    public var receiverUnread: UInt64? { unread == .max ? nil : unread }
}

/// The largest value each queue-sample field reached in one direction; nil for a field never measured
/// (docs/trace-format.md §5.6: a not-measured field is unknown, not 0).
public struct QueueMaxima: Sendable, Equatable {
    public var proxyBufferedBytes: UInt64?
    public var receiverUnreadBytes: UInt64?
    public var unacknowledgedFDs: UInt64?
    public var pendingSyncRequests: UInt64?
    public var receiverUnprocessedBytes: UInt64?
    public var receiverUnmatchedFDs: UInt64?
    public var samples = 0

    mutating func add(_ sample: QueueSampleRecord) {
        samples += 1
        func raise(_ field: inout UInt64?, _ value: UInt64, _ flag: QueueSampleRecord.Fields) {
            guard !sample.notMeasured.contains(flag) else { return }
            field = max(field ?? 0, value)
        }
        raise(&proxyBufferedBytes, sample.proxyBufferedBytes, .proxyBufferedBytes)
        raise(&receiverUnreadBytes, sample.receiverUnreadBytes, .receiverUnreadBytes)
        raise(&unacknowledgedFDs, sample.unacknowledgedFDs, .unacknowledgedFDs)
        raise(&pendingSyncRequests, sample.pendingSyncRequests, .pendingSyncRequests)
        raise(&receiverUnprocessedBytes, sample.receiverUnprocessedBytes, .receiverUnprocessedBytes)
        raise(&receiverUnmatchedFDs, sample.receiverUnmatchedFDs, .receiverUnmatchedFDs)
    }
}

/// Queue-depth series and maxima per channel direction.
public struct QueueDepths: Sendable {
    public struct DirectionQueue: Sendable {
        public internal(set) var series: [QueuePoint] = []
        public internal(set) var maxima = QueueMaxima()
    }

    /// Keyed by `channel << 1 | direction`.
    public private(set) var directions: [UInt64: DirectionQueue] = [:]

    public func queue(channel: UInt32, direction: Direction) -> DirectionQueue? {
        directions[UInt64(channel) << 1 | UInt64(direction.rawValue)]
    }

    mutating func record(_ sample: QueueSampleRecord) {
        let key = UInt64(sample.channel) << 1 | UInt64(sample.direction.rawValue)
        let point = QueuePoint(
            time: sample.time,
            buffered: sample.notMeasured.contains(.proxyBufferedBytes) ? .max : min(sample.proxyBufferedBytes, .max - 1),
            unread: sample.notMeasured.contains(.receiverUnreadBytes) ? .max : min(sample.receiverUnreadBytes, .max - 1))
        directions[key, default: DirectionQueue()].series.append(point)
        directions[key]!.maxima.add(sample)
    }
}
