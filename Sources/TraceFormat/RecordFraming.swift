/// Record framing (docs/trace-format.md §3): `u32 marker · u32 body length · u32 CRC32C(kind + body) ·
/// u8 kind · body`.
extension ByteBuffer {
    /// Appends one complete record whose body `encodeBody` writes. Returns the record's size in bytes, or
    /// nil (with nothing appended) when the body is longer than ``TraceFileLayout/maxBodyLength``.
    @inline(__always)
    func appendRecord(kind: UInt8, _ encodeBody: (ByteBuffer) -> Void) -> Int? {
        let start = count
        append(TraceFileLayout.syncMarker)
        append(UInt32(0))  // body length, patched below
        append(UInt32(0))  // CRC, patched below
        append(kind)
        encodeBody(self)
        let bodyLength = count - start - TraceFileLayout.recordHeaderSize
        guard bodyLength <= TraceFileLayout.maxBodyLength else {
            truncate(to: start)
            return nil
        }
        store(UInt32(bodyLength), at: start + 4)
        if !defersChecksums { fillChecksum(ofRecordAt: start) }
        return count - start
    }

    /// Computes the CRC of every record in the buffer (whole records only, as `appendRecord` leaves them).
    func fillRecordChecksums() {
        var offset = 0
        while offset + TraceFileLayout.recordHeaderSize <= count {
            offset += fillChecksum(ofRecordAt: offset)
        }
    }

    /// Computes the CRC of the whole record at `offset` (its length already stored); returns its size.
    @discardableResult
    func fillChecksum(ofRecordAt offset: Int) -> Int {
        let bodyLength = Int(UInt32(littleEndian: pointer(at: offset + 4).loadUnaligned(as: UInt32.self)))
        let checksummed = UnsafeRawBufferPointer(start: pointer(at: offset + 12), count: bodyLength + 1)
        store(CRC32C.checksum(checksummed), at: offset + 8)
        return TraceFileLayout.recordHeaderSize + bodyLength
    }
}

/// The fixed part of a record as read from a file.
struct RecordFrame {
    /// Offset of the record in the file.
    var offset: Int
    var kind: UInt8
    var bodyLength: Int

    var bodyOffset: Int { offset + TraceFileLayout.recordHeaderSize }
    var endOffset: Int { bodyOffset + bodyLength }
}

/// Where the records of an encoded run of whole records begin and end.
enum RecordBoundaries {
    /// The length of the whole records at the start of `bytes` that lie within its first `limit` bytes.
    static func wholeRecordsLength(in bytes: UnsafeRawBufferPointer, upTo limit: Int) -> Int {
        var offset = 0
        while offset + TraceFileLayout.recordHeaderSize <= limit {
            let bodyLength = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)))
            let end = offset + TraceFileLayout.recordHeaderSize + bodyLength
            guard end <= limit else { break }
            offset = end
        }
        return offset
    }
}
