import Glibc

/// Why part of a trace file is not a good record.
public enum CorruptionReason: Sendable, Equatable, CustomStringConvertible {
    /// No record marker where a record should start.
    case badMarker
    /// A body length over ``TraceFileLayout/maxBodyLength``.
    case impossibleLength(UInt32)
    /// The stored CRC32C does not match the kind and body.
    case badChecksum(stored: UInt32, computed: UInt32)
    /// The record claims to run past the end of the file, yet a complete record follows it: not a tail
    /// still being written, but a damaged length.
    case runsPastEnd(bodyLength: UInt32)
    /// Checksum fine, but the body does not decode as its kind.
    case undecodableBody(kind: TraceRecordKind, detail: String)
    /// The first record is not a header record.
    case missingHeader(firstKind: UInt8)
    /// A header record after the first record.
    case misplacedHeader

    public var description: String {
        switch self {
        case .badMarker: "bad record marker"
        case .impossibleLength(let length): "impossible body length \(length) (limit \(TraceFileLayout.maxBodyLength))"
        case .badChecksum(let stored, let computed): "bad CRC32C (stored \(hex(stored)), computed \(hex(computed)))"
        case .runsPastEnd(let length): "body length \(length) runs past the end of the file although records follow"
        case .undecodableBody(let kind, let detail): "undecodable \(kind) body: \(detail)"
        case .missingHeader(let kind):
            "missing header: the first record is \(TraceRecordKind(rawValue: kind).map { "\($0)" } ?? "kind \(kind)")"
        case .misplacedHeader: "header record that is not the first record"
        }
    }
}

private func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}

/// What the scanner found next.
enum ScanEvent {
    /// A record whose marker, length and checksum are good (its body is not decoded yet).
    case record(RecordFrame)
    /// Damage at `offset`; reading resumes at `resumeAt` (nil: nothing usable follows).
    case corruption(offset: Int, reason: CorruptionReason, resumeAt: Int?)
    /// An incomplete record at the end: still being written, or the writer died. Always the last event.
    case truncatedTail(offset: Int, length: Int)
}

/// Walks the records of a mapped file. After damage it resyncs: it looks for the next marker whose
/// length fits and whose checksum is good, and goes on from there.
struct RecordScanner {
    let data: UnsafeRawBufferPointer
    private(set) var position: Int
    private var finished = false

    init(data: UnsafeRawBufferPointer, position: Int = TraceFileLayout.firstRecordOffset) {
        self.data = data
        self.position = position
    }

    mutating func next() -> ScanEvent? {
        guard !finished, position < data.count else { return nil }
        let offset = position
        switch RecordScanner.checkFrame(in: data, at: offset) {
        case .valid(let frame):
            position = frame.endOffset
            return .record(frame)
        case .incomplete(let bodyLength):
            switch RecordScanner.findResync(in: data, after: offset) {
            case .valid(let next):
                position = next
                return .corruption(offset: offset, reason: .runsPastEnd(bodyLength: bodyLength ?? 0), resumeAt: next)
            case .incomplete, .none:
                finished = true
                return .truncatedTail(offset: offset, length: data.count - offset)
            }
        case .invalid(let reason):
            switch RecordScanner.findResync(in: data, after: offset) {
            case .valid(let next), .incomplete(let next):
                position = next
                return .corruption(offset: offset, reason: reason, resumeAt: next)
            case .none:
                finished = true
                // Zeros to the end are space the file system reserved but never got data for (as after
                // a power loss): an unfinished tail, not damage.
                if RecordScanner.isAllZero(data, from: offset) {
                    return .truncatedTail(offset: offset, length: data.count - offset)
                }
                return .corruption(offset: offset, reason: reason, resumeAt: nil)
            }
        }
    }

    // MARK: checking one record

    enum FrameCheck {
        case valid(RecordFrame)
        /// A plausible record start whose end is past the end of the data (body length when known).
        case incomplete(bodyLength: UInt32?)
        case invalid(CorruptionReason)
    }

    static func checkFrame(in data: UnsafeRawBufferPointer, at offset: Int) -> FrameCheck {
        switch checkFrameHeader(in: data, at: offset) {
        case .invalid(let reason):
            return .invalid(reason)
        case .incomplete(let bodyLength):
            return .incomplete(bodyLength: bodyLength)
        case .complete(let length):
            let stored = load32(data, offset + 8)
            let checksummed = UnsafeRawBufferPointer(rebasing: data[(offset + 12)..<(offset + 13 + length)])
            let computed = CRC32C.checksum(checksummed)
            guard stored == computed else { return .invalid(.badChecksum(stored: stored, computed: computed)) }
            return .valid(RecordFrame(offset: offset, kind: data[offset + 12], bodyLength: length))
        }
    }

    enum FrameHeaderCheck {
        /// Marker and length fine and the whole record is in the data; its checksum is not checked yet.
        case complete(bodyLength: Int)
        case incomplete(bodyLength: UInt32?)
        case invalid(CorruptionReason)
    }

    /// Everything about a record start but its checksum.
    static func checkFrameHeader(in data: UnsafeRawBufferPointer, at offset: Int) -> FrameHeaderCheck {
        let available = data.count - offset
        guard available >= 4 else {
            // A partial marker is the start of a record still being written.
            let marker = TraceFileLayout.syncMarker
            for i in 0..<available where data[offset + i] != UInt8(truncatingIfNeeded: marker >> (8 * UInt32(i))) {
                return .invalid(.badMarker)
            }
            return .incomplete(bodyLength: nil)
        }
        guard load32(data, offset) == TraceFileLayout.syncMarker else { return .invalid(.badMarker) }
        guard available >= 8 else { return .incomplete(bodyLength: nil) }
        let length = load32(data, offset + 4)
        guard Int(length) <= TraceFileLayout.maxBodyLength else { return .invalid(.impossibleLength(length)) }
        guard available >= TraceFileLayout.recordHeaderSize + Int(length) else { return .incomplete(bodyLength: length) }
        return .complete(bodyLength: Int(length))
    }

    @inline(__always)
    private static func load32(_ data: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
        UInt32(littleEndian: data.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    static func isAllZero(_ data: UnsafeRawBufferPointer, from offset: Int) -> Bool {
        UnsafeRawBufferPointer(rebasing: data[offset...]).allSatisfy { $0 == 0 }
    }

    // MARK: resync

    enum Resync {
        case valid(Int)
        /// No complete good record follows, but a plausible record start runs to the end: a tail.
        case incomplete(Int)
        case none
    }

    /// The first offset after `offset` where a good record starts; failing that, the first plausible
    /// record start that runs past the end. Linear in the bytes passed (ResyncSearch).
    static func findResync(in data: UnsafeRawBufferPointer, after offset: Int) -> Resync {
        ResyncSearch.find(in: data, after: offset)
    }
}
