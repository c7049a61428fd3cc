import IPCWire
import TraceFormat

/// A violation or near-limit warning with its context: the frame that broke the rule and the eof it caused.
public struct ViolationEntry: Sendable, Equatable {
    public var offset: Int
    public var time: UInt64
    public var channel: UInt32
    public var direction: Direction
    public var kind: String
    public var isWarning: Bool
    public var limit: UInt64
    public var observed: UInt64
    public var frameIndex: UInt64?
    /// The record offset of the frame concerned (payload, ack or unknown-type frame), once seen.
    public var frameOffset: Int?
    /// The eof record whose likely cause names this violation.
    public var eofOffset: Int?
    public var eofKind: EOFKind?
}

/// Violation records in file order, each linked to its frame and to the eof it caused. About 100 bytes
/// per violation record (its kind text is shared), nothing for other records but the last few frame
/// offsets of each direction.
public struct ViolationLog: Sendable {
    public private(set) var entries: [ViolationEntry] = []
    /// Per `channel << 1 | direction`: the most recent frames (index, record offset), newest last.
    var recentFrames: [UInt64: [(index: UInt64, offset: Int)]] = [:]
    /// Per direction: violations whose frame has not been seen yet.
    var unresolved: [UInt64: [Int]] = [:]
    /// Per channel: its violations' entry indexes, in file order.
    var byChannel: [UInt32: [Int]] = [:]
    var kindNames: Set<String> = []
    static let recentFrameCount = 16

    static func key(_ channel: UInt32, _ direction: Direction) -> UInt64 { UInt64(channel) << 1 | UInt64(direction.rawValue) }

    mutating func frameSeen(channel: UInt32, direction: Direction, index: UInt64, offset: Int) {
        let key = Self.key(channel, direction)
        if var waiting = unresolved[key] {
            waiting.removeAll { entry in
                guard let wanted = entries[entry].frameIndex else { return true }
                if wanted == index { entries[entry].frameOffset = offset }
                return wanted <= index
            }
            unresolved[key] = waiting.isEmpty ? nil : waiting
        }
        // In place (a copy out of the dictionary would allocate per frame).
        recentFrames[key, default: []].append((index, offset))
        if recentFrames[key]!.count > Self.recentFrameCount { recentFrames[key]!.removeFirst() }
    }

    mutating func record(_ violation: ViolationRecord, offset: Int) {
        // One copy of each kind's text, however many records name it.
        let kind = kindNames.insert(violation.kindName).memberAfterInsert
        var entry = ViolationEntry(
            offset: offset, time: violation.time, channel: violation.channel, direction: violation.direction, kind: kind,
            isWarning: violation.severity == .warning, limit: violation.limit, observed: violation.observed,
            frameIndex: violation.frameIndex)
        let key = Self.key(violation.channel, violation.direction)
        if let index = violation.frameIndex {
            entry.frameOffset = recentFrames[key]?.last { $0.index == index }?.offset
        }
        entries.append(entry)
        if entry.frameIndex != nil, entry.frameOffset == nil { unresolved[key, default: []].append(entries.count - 1) }
        byChannel[violation.channel, default: []].append(entries.count - 1)
    }

    /// Links an eof to the violation its likely cause names (same kind, and the same frame when it says
    /// which): the newest such violation of the channel, this direction's first. Returns its index.
    mutating func eofSeen(_ eof: EOFRecord, offset: Int) -> Int? {
        guard let cause = eof.likelyCause, let candidates = byChannel[eof.channel] else { return nil }
        func matches(_ entry: ViolationEntry, _ direction: Direction) -> Bool {
            entry.direction == direction && entry.kind == cause && !entry.isWarning && entry.eofOffset == nil
                && (eof.likelyCauseFrameIndex == nil || entry.frameIndex == eof.likelyCauseFrameIndex)
        }
        for direction in [eof.direction, eof.direction.reversed] {
            if let found = candidates.last(where: { matches(entries[$0], direction) }) {
                entries[found].eofOffset = offset
                entries[found].eofKind = eof.kind
                return found
            }
        }
        return nil
    }

    public var violationCount: Int { entries.count { !$0.isWarning } }
    public var warningCount: Int { entries.count { $0.isWarning } }
}
