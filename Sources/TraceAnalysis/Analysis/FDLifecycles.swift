import IPCWire
import TraceFormat

/// The fds of one payload frame, from the frame that sent them to the acknowledgement that released them.
/// Acknowledgements settle fds oldest first (docs/protocol.md §1.5): an ack travelling one way acknowledges
/// the oldest outstanding fds sent the other way, whichever frames they came in.
public struct FDBatch: Sendable, Equatable {
    /// The payload frame's record offset, frame index and time: sent.
    public var offset: Int
    public var frameIndex: UInt64
    public var time: UInt64
    /// The frame header's fd count: what the receiver matches and acknowledges.
    public var count: UInt32
    public var acknowledged: UInt32 = 0
    /// The ack record that acknowledged the last of them; nil while any is outstanding.
    public var acknowledgedBy: Int?
    /// When a frames-delivered record says the frame's last byte reached the receiver's socket.
    public var deliveredTime: UInt64?

    public var isAcknowledged: Bool { acknowledged >= count }
}

/// Fd lifecycles per channel direction: sent (the frame), delivered (frames-delivered), acknowledged (the
/// ack records), or never acknowledged at the end. 48 bytes per payload frame that carries fds; nothing
/// for other frames.
public struct FDLifecycles: Sendable {
    public struct DirectionFDs: Sendable {
        public internal(set) var batches: [FDBatch] = []
        /// The first batch with fds outstanding.
        var ackCursor = 0
        /// The first batch not known to be delivered.
        var deliveryCursor = 0
        public internal(set) var sent: UInt64 = 0
        public internal(set) var acknowledged: UInt64 = 0
        /// Fds acknowledged beyond those outstanding (an over-acknowledgement; the recorder reports it too).
        public internal(set) var overAcknowledged: UInt64 = 0
        public var outstanding: UInt64 { sent - acknowledged }

        /// Releases `count` fds, oldest first.
        mutating func acknowledge(_ count: UInt32, by offset: Int) {
            var left = count
            while left > 0, ackCursor < batches.count {
                let taken = min(left, batches[ackCursor].count - batches[ackCursor].acknowledged)
                batches[ackCursor].acknowledged += taken
                left -= taken
                acknowledged &+= UInt64(taken)
                if batches[ackCursor].isAcknowledged {
                    batches[ackCursor].acknowledgedBy = offset
                    ackCursor += 1
                }
            }
            overAcknowledged &+= UInt64(left)
        }

        mutating func deliver(_ record: FramesDeliveredRecord) {
            while deliveryCursor < batches.count, batches[deliveryCursor].frameIndex <= record.lastFrameIndex {
                if batches[deliveryCursor].frameIndex >= record.firstFrameIndex { batches[deliveryCursor].deliveredTime = record.time }
                deliveryCursor += 1
            }
        }
    }

    /// Keyed by `channel << 1 | direction` (the direction the fds travelled).
    public private(set) var directions: [UInt64: DirectionFDs] = [:]

    static func key(_ channel: UInt32, _ direction: Direction) -> UInt64 { UInt64(channel) << 1 | UInt64(direction.rawValue) }

    public func fds(channel: UInt32, direction: Direction) -> DirectionFDs? { directions[Self.key(channel, direction)] }

    mutating func sent(_ frame: PayloadFrameRecord, offset: Int) {
        guard frame.header.fdCount > 0 else { return }
        let key = Self.key(frame.channel, frame.direction)
        directions[key, default: DirectionFDs()].batches.append(
            FDBatch(offset: offset, frameIndex: frame.frameIndex, time: frame.time, count: frame.header.fdCount))
        directions[key]!.sent &+= UInt64(frame.header.fdCount)
    }

    // Mutated in place through the dictionary (never copied out and back, which would copy the batches).
    mutating func acknowledged(_ ack: AcknowledgementRecord, offset: Int) {
        guard ack.count > 0 else { return }
        directions[Self.key(ack.channel, ack.direction.reversed), default: DirectionFDs()].acknowledge(ack.count, by: offset)
    }

    mutating func delivered(_ record: FramesDeliveredRecord) {
        directions[Self.key(record.channel, record.direction)]?.deliver(record)
    }

    /// Fds sent and not acknowledged (at the end of a finished trace: never acknowledged), all directions.
    public var outstanding: UInt64 { directions.values.reduce(0) { $0 &+ $1.outstanding } }
}
