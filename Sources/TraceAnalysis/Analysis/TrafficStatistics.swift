import Histogram
import IPCWire
import TraceFormat

/// Sync call latencies of one group: an HdrHistogram (1 ns to 1 hour, 2 significant digits: p50/p99 within
/// 1 %, about 36 KiB whatever the number of calls) and the exact extremes. Latencies over an hour count
/// as an hour in the percentiles; a negative latency (a damaged clock) as 0.
public struct LatencyHistogram: Sendable {
    static let highest: UInt64 = 3_600_000_000_000
    var histogram = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: highest, numberOfSignificantValueDigits: .two)
    public private(set) var count: UInt64 = 0
    public private(set) var minimum: UInt64 = .max
    public private(set) var maximum: UInt64 = 0

    mutating func record(_ latency: Int64) {
        let value = UInt64(max(latency, 0))
        _ = histogram.record(min(value, Self.highest))
        count += 1
        minimum = min(minimum, value)
        maximum = max(maximum, value)
    }

    mutating func add(_ other: LatencyHistogram) {
        histogram.add(other.histogram)
        count += other.count
        minimum = min(minimum, other.minimum)
        maximum = max(maximum, other.maximum)
    }

    /// The latency at `percentile` (0…100), in ns; the exact maximum for 100.
    public func value(atPercentile percentile: Double) -> UInt64 {
        percentile >= 100 ? maximum : min(histogram.valueAtPercentile(percentile), maximum)
    }
}

/// Counts of one group of payload frames.
public struct TrafficCounts: Sendable {
    /// Payload frames.
    public var frames: UInt64 = 0
    /// Σ payload size (the frame headers' `payload_size`, without the 12-byte headers).
    public var bytes: UInt64 = 0
    /// Σ the headers' fd counts.
    public var fds: UInt64 = 0
    public var requests: UInt64 = 0
    public var responses: UInt64 = 0
    /// Latencies of the answered sync calls whose request is in this group; nil when none.
    public var latency: LatencyHistogram?

    mutating func add(_ other: TrafficCounts) {
        frames &+= other.frames
        bytes &+= other.bytes
        fds &+= other.fds
        requests &+= other.requests
        responses &+= other.responses
        if let theirs = other.latency {
            if latency == nil { latency = theirs } else { latency!.add(theirs) }
        }
    }
}

/// Payload frame counts per (flow, message): a flow is one direction of a channel between two side
/// identities (entries of the sides' timelines, named at report time, when every name is known); a
/// message is its envelope's magic and id. One slot per combination that occurs, however many frames.
public struct TrafficStatistics: Sendable {
    public struct Flow: Hashable, Sendable {
        public var channel: UInt32
        public var direction: Direction
        /// Entries of the sender's and receiver's side timelines (-1: none).
        var senderEntry: Int32
        var receiverEntry: Int32
    }

    /// nil for a payload shorter than its envelope.
    public struct Message: Hashable, Sendable {
        public var magic: UInt32
        public var id: Int32
    }

    struct SlotKey: Hashable {
        var flow: Flow
        var message: Message?
    }

    var slots: [SlotKey: Int32] = [:]
    var keys: [SlotKey] = []
    var counts: [TrafficCounts] = []

    mutating func frame(_ frame: PayloadFrameRecord, flow: Flow, message: Message?, kind: MessageKind?) -> Int32 {
        let key = SlotKey(flow: flow, message: message)
        let slot: Int32
        if let existing = slots[key] {
            slot = existing
        } else {
            slot = Int32(counts.count)
            slots[key] = slot
            keys.append(key)
            counts.append(TrafficCounts())
        }
        counts[Int(slot)].frames += 1
        counts[Int(slot)].bytes &+= UInt64(frame.header.payloadSize)
        counts[Int(slot)].fds &+= UInt64(frame.header.fdCount)
        if kind == .request { counts[Int(slot)].requests += 1 }
        if kind == .response { counts[Int(slot)].responses += 1 }
        return slot
    }

    mutating func answered(slot: Int32, latency: Int64) {
        guard slot >= 0, Int(slot) < counts.count else { return }
        if counts[Int(slot)].latency == nil { counts[Int(slot)].latency = LatencyHistogram() }
        counts[Int(slot)].latency!.record(latency)
    }

    /// Every (flow, message) slot with its counts.
    public func forEachSlot(_ body: (Flow, Message?, TrafficCounts) -> Void) {
        for (index, key) in keys.enumerated() { body(key.flow, key.message, counts[index]) }
    }
}
