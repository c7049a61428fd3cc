import IPCWire

/// The fields an index keeps, read at their fixed places in a record body (docs/trace-format.md §5) without
/// decoding the rest. Every read is checked against the body's length: a field that does not fit is absent.
struct RecordFields {
    var time: UInt64 = 0
    var channel: UInt32?
    /// The raw direction byte (0 or 1; anything else makes the body undecodable and is kept as absent).
    var direction: Direction?
    var frameIndex: UInt64?
    /// The endpoint magic and message id: the first 8 captured payload bytes of a payload frame (§5.3).
    var envelope: MessageEnvelope?

    /// Body offsets (§5): every body starts with its u64 time; channel is a u32 at 8 in these kinds.
    static func hasChannel(_ kind: UInt8) -> Bool {
        switch kind {
        case 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 16, 17, 18: true
        default: false
        }
    }

    /// Kinds whose body has the record's own direction at 12 (not a side, a protocol or a carrying direction).
    static func hasDirection(_ kind: UInt8) -> Bool {
        switch kind {
        case 3, 4, 5, 6, 7, 8, 13, 17, 18: true
        default: false
        }
    }

    /// Kinds with a frame index at 13: the frame records, late-fds (its frame), frames-delivered (the first).
    static func hasFrameIndex(_ kind: UInt8) -> Bool {
        switch kind {
        case 3, 4, 13, 17, 18: true
        default: false
        }
    }

    static let payloadFrameKind = TraceRecordKind.payloadFrame.rawValue
    /// Payload-frame body: the captured payload's u32 length at 38, its bytes from 42.
    static let capturedLengthOffset = 38

    @inline(__always)
    init(kind: UInt8, body: UnsafeRawBufferPointer) {
        let count = body.count
        if count >= 8 { time = Self.load64(body, 0) }
        if count >= 12, Self.hasChannel(kind) { channel = Self.load32(body, 8) }
        if count >= 13, Self.hasDirection(kind) { direction = Direction(rawValue: body[12]) }
        if count >= 21, Self.hasFrameIndex(kind) { frameIndex = Self.load64(body, 13) }
        if kind == Self.payloadFrameKind, count >= Self.capturedLengthOffset + 4 + 8,
           Self.load32(body, Self.capturedLengthOffset) >= 8 {
            envelope = MessageEnvelope(magic: Self.load32(body, 42), messageID: Int32(bitPattern: Self.load32(body, 46)))
        }
    }

    /// The fields of the record at `offset` of `data`, or nil when no whole record fits there (hostile
    /// offsets, e.g. from a stored index, land here).
    static func read(in data: UnsafeRawBufferPointer, at offset: Int) -> (kind: UInt8, fields: RecordFields)? {
        guard offset >= TraceFileLayout.firstRecordOffset, offset <= data.count - TraceFileLayout.recordHeaderSize,
              load32(data, offset) == TraceFileLayout.syncMarker else { return nil }
        let bodyLength = Int(load32(data, offset + 4))
        let bodyStart = offset + TraceFileLayout.recordHeaderSize
        guard bodyLength <= data.count - bodyStart else { return nil }
        let kind = data[offset + 12]
        return (kind, RecordFields(kind: kind, body: UnsafeRawBufferPointer(rebasing: data[bodyStart..<(bodyStart + bodyLength)])))
    }

    @inline(__always)
    static func load32(_ data: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
        UInt32(littleEndian: data.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    @inline(__always)
    static func load64(_ data: UnsafeRawBufferPointer, _ offset: Int) -> UInt64 {
        UInt64(littleEndian: data.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
}
