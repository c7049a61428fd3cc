@testable import IPCWire
import TestSupport

/// A frame event copied out of the parser's callback so it can be compared.
enum RecordedEvent: Equatable, CustomStringConvertible {
    case payload(header: FrameHeader, index: UInt64, offset: UInt64, bytes: [UInt8], fds: Range<UInt64>)
    case ack(count: UInt32, index: UInt64, offset: UInt64)
    case late(index: UInt64, fds: Range<UInt64>)
    case unknown(header: FrameHeader, index: UInt64, offset: UInt64)
    case violation(Violation)

    init(_ event: FrameEvent) {
        switch event {
        case .payload(let frame):
            self = .payload(header: frame.header, index: frame.frameIndex, offset: frame.streamOffset,
                            bytes: Array(frame.capturedPayload), fds: frame.fdSequence)
        case .acknowledgement(let ack):
            self = .ack(count: ack.count, index: ack.frameIndex, offset: ack.streamOffset)
        case .lateFDs(let late):
            self = .late(index: late.frameIndex, fds: late.fdSequence)
        case .unknownFrame(let frame):
            self = .unknown(header: frame.header, index: frame.frameIndex, offset: frame.streamOffset)
        case .violation(let violation):
            self = .violation(violation)
        }
    }

    var description: String {
        switch self {
        case .payload(let h, let i, let o, let b, let f): "payload#\(i)@\(o) size=\(h.payloadSize) fds=\(f) captured=\(b.count)"
        case .ack(let c, let i, let o): "ack#\(i)@\(o) count=\(c)"
        case .late(let i, let f): "late-fds#\(i) fds=\(f)"
        case .unknown(let h, let i, let o): "unknown#\(i)@\(o) type=\(h.rawType) size=\(h.payloadSize)"
        case .violation(let v): v.description
        }
    }
}

/// One frame of a synthetic stream: its wire bytes and how many fds travel with it.
struct SyntheticFrame {
    var bytes: [UInt8]
    var fdCount: Int
}

extension FrameStreamParser {
    /// Feeds chunks and returns every event, copied.
    mutating func collect(_ chunks: [(bytes: [UInt8], fds: Int)]) -> [RecordedEvent] {
        var events: [RecordedEvent] = []
        for chunk in chunks {
            feed(chunk.bytes, fdCount: chunk.fds) { events.append(RecordedEvent($0)) }
        }
        return events
    }

    mutating func collect(_ bytes: [UInt8], fds: Int = 0) -> [RecordedEvent] {
        collect([(bytes, fds)])
    }
}

func violations(_ events: [RecordedEvent]) -> [Violation] {
    events.compactMap { if case .violation(let v) = $0 { v } else { nil } }
}

extension Array where Element: Comparable {
    /// Index of the first element for which `belongs` holds, given it holds for a suffix (binary search).
    func partitioningIndex(where belongs: (Element) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if belongs(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
