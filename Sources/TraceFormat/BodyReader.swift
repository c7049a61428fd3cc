/// Why a record body could not be decoded.
public struct BodyDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Reads little-endian fields from a record body. Every read checks the bytes left first, so a damaged
/// or hostile body can fail to decode but never trap or make the reader allocate more than is present.
struct BodyReader {
    private let bytes: UnsafeRawBufferPointer
    private(set) var position = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    var remaining: Int { bytes.count - position }

    /// Inlined (every field of every decoded record passes here); the error is built out of line.
    @inline(__always)
    private mutating func take(_ count: Int, _ field: StaticString) throws(BodyDecodingError) -> Int {
        guard count >= 0, count <= remaining else { throw Self.bodyEnds(inside: field, needs: count, left: remaining) }
        let at = position
        position += count
        return at
    }

    @inline(never)
    private static func bodyEnds(inside field: StaticString, needs count: Int, left: Int) -> BodyDecodingError {
        BodyDecodingError("body ends inside \(field) (needs \(count) bytes, \(left) left)")
    }

    @inline(__always)
    mutating func integer<T: FixedWidthInteger>(_ field: StaticString, as: T.Type = T.self) throws(BodyDecodingError) -> T {
        let at = try take(MemoryLayout<T>.size, field)
        return T(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: T.self))
    }

    @inline(__always) mutating func u8(_ field: StaticString) throws(BodyDecodingError) -> UInt8 { try integer(field) }
    @inline(__always) mutating func u16(_ field: StaticString) throws(BodyDecodingError) -> UInt16 { try integer(field) }
    @inline(__always) mutating func u32(_ field: StaticString) throws(BodyDecodingError) -> UInt32 { try integer(field) }
    @inline(__always) mutating func u64(_ field: StaticString) throws(BodyDecodingError) -> UInt64 { try integer(field) }
    @inline(__always) mutating func i32(_ field: StaticString) throws(BodyDecodingError) -> Int32 { try integer(field) }

    /// A u8 flag: any non-zero value is true.
    mutating func bool(_ field: StaticString) throws(BodyDecodingError) -> Bool { try u8(field) != 0 }

    /// A u32 length and that many bytes, as a view into the body.
    mutating func blob(_ field: StaticString) throws(BodyDecodingError) -> UnsafeRawBufferPointer {
        let length = Int(try u32(field))
        let at = try take(length, field)
        return UnsafeRawBufferPointer(rebasing: bytes[at..<(at + length)])
    }

    /// A u32 length and UTF-8 bytes; invalid UTF-8 is repaired, not rejected.
    mutating func string(_ field: StaticString) throws(BodyDecodingError) -> String {
        String(decoding: try blob(field), as: UTF8.self)
    }

    /// Skips `count` bytes (unknown trailing parts of an entry).
    mutating func skip(_ count: Int, _ field: StaticString) throws(BodyDecodingError) {
        _ = try take(count, field)
    }

    /// A u32 element count, checked against the bytes left: each element takes at least
    /// `minimumElementSize` bytes, so a damaged count fails here instead of driving a huge allocation.
    mutating func count(_ field: StaticString, minimumElementSize: Int) throws(BodyDecodingError) -> Int {
        let count = Int(try u32(field))
        guard count <= remaining / Swift.max(minimumElementSize, 1) else {
            throw BodyDecodingError("\(field) count \(count) does not fit in the \(remaining) bytes left")
        }
        return count
    }
}
