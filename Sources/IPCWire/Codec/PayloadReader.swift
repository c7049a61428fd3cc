/// Why decoding a message stopped early; becomes the message's ``DecodeOutcome``.
enum DecodeStop: Error {
    case undecoded(offset: Int, reason: String)
    case captureEnded(offset: Int)
    case decodeError(offset: Int, reason: String)
    case violation(Violation)

    var outcome: DecodeOutcome {
        switch self {
        case .undecoded(let offset, let reason): .undecoded(offset: offset, reason: reason)
        case .captureEnded(let offset): .captureEnded(offset: offset)
        case .decodeError(let offset, let reason): .decodeError(offset: offset, reason: reason)
        case .violation(let violation): .violation(violation)
        }
    }
}

/// A bounds-checked cursor over a payload that may have been cut short by the capture.
///
/// Every read checks the bytes left first: running past the true payload is a decode error (LibIPC would
/// fail too); running past only the captured bytes is the end of the capture.
struct PayloadReader {
    let bytes: UnsafeRawBufferPointer
    /// The payload length on the wire; at least `bytes.count`.
    let trueLength: Int
    private(set) var offset: Int

    init(bytes: UnsafeRawBufferPointer, trueLength: Int, offset: Int) {
        self.bytes = bytes
        self.trueLength = max(trueLength, bytes.count)
        self.offset = offset
    }

    /// Bytes left in the real payload (captured or not).
    var remaining: Int { trueLength - offset }

    /// Throws unless `count` more bytes are available to read.
    func require(_ count: Int, for what: @autoclosure () -> String) throws(DecodeStop) {
        if count <= bytes.count - offset { return }
        if count <= trueLength - offset { throw .captureEnded(offset: offset) }
        throw .decodeError(
            offset: offset, reason: "truncated: \(what()) needs \(count) bytes, \(max(0, trueLength - offset)) left")
    }

    mutating func read<T: FixedWidthInteger>(_ type: T.Type, for what: @autoclosure () -> String) throws(DecodeStop) -> T {
        let size = MemoryLayout<T>.size
        try require(size, for: what())
        let value = T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += size
        return value
    }

    /// `count` bytes, which must have been checked with ``require(_:for:)`` or are checked here.
    mutating func take(_ count: Int, for what: @autoclosure () -> String) throws(DecodeStop) -> UnsafeRawBufferPointer {
        try require(count, for: what())
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
        offset += count
        return slice
    }

    mutating func skip(_ count: Int, for what: @autoclosure () -> String) throws(DecodeStop) {
        try require(count, for: what())
        offset += count
    }

    /// A LibIPC `decode_size()`: a u32 length or count, at most `MAX_DECODED_SIZE`.
    mutating func readSize(for what: @autoclosure () -> String) throws(DecodeStop) -> Int {
        let start = offset
        let size = try read(UInt32.self, for: what())
        guard UInt64(size) <= Limits.maxDecodedSize else {
            throw .violation(Violation(
                kind: .decodedSizeTooLarge, limit: Limits.maxDecodedSize, observed: UInt64(size),
                streamOffset: UInt64(start)))
        }
        return Int(size)
    }
}
