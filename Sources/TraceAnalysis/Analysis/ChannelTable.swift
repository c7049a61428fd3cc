import IPCWire
import TraceFormat

/// A frame of another channel that carried a channel's transport (docs/trace-format.md §5.12).
public struct CarryingFrame: Sendable, Equatable {
    public var channel: UInt32
    public var direction: Direction
    public var frameIndex: UInt64
}

/// How one direction of a channel ended (an eof record).
public struct DirectionEnd: Sendable, Equatable {
    public var offset: Int
    public var time: UInt64
    public var kind: EOFKind
    public var errorNumber: Int32
    public var likelyCause: String?
    public var likelyCauseFrameIndex: UInt64?
    /// The violation (an index into ``ViolationLog/entries``) the likely cause names, when the trace has it.
    public var causedBy: Int?
}

/// What the trace says about one channel: when it opened, how it was found and which frame carried it,
/// whether it is LibIPC, each direction's frames and end, when it closed. Side identities over time are
/// in ``TraceAnalyzer/sideHistory(channel:side:)``.
public struct ChannelInfo: Sendable {
    public var channel: UInt32
    public var openedOffset: Int
    public var openedTime: UInt64
    public var discovery: ChannelDiscovery
    /// The frame whose attachment brought this channel (channel-opened's transfer origin).
    public var origin: CarryingFrame?
    /// Every hand-over of one of its transports (channel-transferred records), in file order.
    public var transfers: [CarryingFrame] = []
    public var channelProtocol: ChannelProtocol?
    /// Per direction (A→B, B→A): frame records (payload, ack, unknown type) and payload bytes.
    public var frames: [UInt64] = [0, 0]
    public var payloadBytes: [UInt64] = [0, 0]
    /// Per direction: its eof, once seen. A half-closed channel has one of the two.
    public var ends: [DirectionEnd?] = [nil, nil]
    public var closedTime: UInt64?

    public var isHalfClosed: Bool { (ends[0] == nil) != (ends[1] == nil) }
}

/// The process table over time: one entry per process record (a pid seen again with another start time
/// is a new entry), in file order.
public struct TracedProcess: Sendable, Equatable {
    public var offset: Int
    public var time: UInt64
    public var pid: Int32
    public var parentPID: Int32
    /// On the recorder's boot clock; 0 when unknown.
    public var startTime: UInt64
    public var name: String
    public var executable: String
    public var exitedWhenLookedUp: Bool
}

/// Channels by id, in order of appearance (a record of a channel never opened gets an entry too).
public struct ChannelTable: Sendable {
    public private(set) var channels: [ChannelInfo] = []
    var slots: [UInt32: Int] = [:]

    public subscript(channel: UInt32) -> ChannelInfo? { slots[channel].map { channels[$0] } }

    mutating func slot(_ channel: UInt32, offset: Int, time: UInt64) -> Int {
        if let slot = slots[channel] { return slot }
        channels.append(ChannelInfo(channel: channel, openedOffset: offset, openedTime: time, discovery: ChannelDiscovery(rawValue: 255)))
        slots[channel] = channels.count - 1
        return channels.count - 1
    }

    mutating func observe(_ record: TraceRecord, offset: Int) {
        guard let channel = record.channel else { return }
        let slot = slot(channel, offset: offset, time: record.time)
        switch record {
        case .channelOpened(let opened):
            channels[slot].openedOffset = offset
            channels[slot].openedTime = opened.time
            channels[slot].discovery = opened.discovery
            channels[slot].origin = opened.transferredBy.map { CarryingFrame(channel: $0.parentChannel, direction: $0.direction, frameIndex: $0.frameIndex) }
        case .channelTransferred(let transferred):
            let by = transferred.carriedBy
            channels[slot].transfers.append(CarryingFrame(channel: by.parentChannel, direction: by.direction, frameIndex: by.frameIndex))
        case .channelClassified(let classified):
            channels[slot].channelProtocol = classified.channelProtocol
        case .channelClosed(let closed):
            channels[slot].closedTime = closed.time
        case .payloadFrame(let frame):
            channels[slot].frames[Int(frame.direction.rawValue)] += 1
            channels[slot].payloadBytes[Int(frame.direction.rawValue)] &+= UInt64(frame.header.payloadSize)
        case .acknowledgement(let ack):
            channels[slot].frames[Int(ack.direction.rawValue)] += 1
        case .unknownFrame(let frame):
            channels[slot].frames[Int(frame.direction.rawValue)] += 1
        case .eof(let eof):
            channels[slot].ends[Int(eof.direction.rawValue)] = DirectionEnd(
                offset: offset, time: eof.time, kind: eof.kind, errorNumber: eof.errorNumber,
                likelyCause: eof.likelyCause, likelyCauseFrameIndex: eof.likelyCauseFrameIndex)
        default:
            break
        }
    }

    mutating func setCause(channel: UInt32, direction: Direction, violation: Int) {
        guard let slot = slots[channel] else { return }
        channels[slot].ends[Int(direction.rawValue)]?.causedBy = violation
    }
}
