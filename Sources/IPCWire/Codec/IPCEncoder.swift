/// Writes LibIPC payloads the way Ladybird's `IPC::Encoder` does: little-endian, unpadded, lengths as u32,
/// fds collected beside the bytes. Used by tests and by the demo peers.
///
///     var e = IPCEncoder()
///     e.envelope(magic: EndpointMagic.of("RequestServer"), id: 10)
///     e.byteString(Array("http".utf8))
///     let frame = e.frame()
public struct IPCEncoder: Sendable {
    public var bytes: [UInt8] = []
    /// Fds to send with the payload, in encoding order (`fd_count` = `attachments.count`).
    public var attachments: [Int32] = []

    public init() {}

    /// Magic and message id: the first 8 bytes of every endpoint message.
    public mutating func envelope(magic: UInt32, id: Int32) {
        MessageEnvelope(magic: magic, messageID: id).append(to: &bytes)
    }

    // MARK: Numbers

    public mutating func u8(_ value: UInt8) { bytes.append(value) }
    public mutating func i8(_ value: Int8) { bytes.append(UInt8(bitPattern: value)) }
    public mutating func u16(_ value: UInt16) { append(value) }
    public mutating func i16(_ value: Int16) { append(value) }
    public mutating func u32(_ value: UInt32) { append(value) }
    public mutating func i32(_ value: Int32) { append(value) }
    public mutating func u64(_ value: UInt64) { append(value) }
    public mutating func i64(_ value: Int64) { append(value) }
    public mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }
    public mutating func f32(_ value: Float) { append(value.bitPattern) }
    public mutating func f64(_ value: Double) { append(value.bitPattern) }
    /// `size_t` is 8 raw bytes on 64-bit Linux (not a length).
    public mutating func sizeT(_ value: UInt64) { append(value) }
    /// A LibIPC length or count (`encode_size`).
    public mutating func count(_ value: UInt32) { append(value) }

    // MARK: Strings and bytes

    /// `String` / `StringView`: u32 byte length + UTF-8.
    public mutating func string(_ value: String) { byteString(Array(value.utf8)) }

    /// `ByteString`: u32 byte length + bytes (any bytes).
    public mutating func byteString(_ value: [UInt8]) {
        count(UInt32(truncatingIfNeeded: value.count))
        bytes.append(contentsOf: value)
    }

    /// `Utf16String`: ASCII flag, u32 code-unit count, then 1 byte per unit if ASCII, else UTF-16LE.
    public mutating func utf16String(_ value: String) {
        let isASCII = value.utf8.allSatisfy { $0 < 0x80 }
        bool(isASCII)
        if isASCII {
            byteString(Array(value.utf8))
        } else {
            let units = Array(value.utf16)
            count(UInt32(truncatingIfNeeded: units.count))
            for unit in units { append(unit) }
        }
    }

    /// `ByteBuffer` / `ReadonlyBytes`: u32 length + bytes.
    public mutating func byteBuffer(_ value: [UInt8]) { byteString(value) }

    /// Raw bytes with no length prefix (for hand-made or deliberately broken payloads).
    public mutating func bytes(_ raw: [UInt8]) { bytes.append(contentsOf: raw) }

    // MARK: Attachments

    /// `IPC::File`: no bytes; the fd joins the attachments.
    public mutating func file(fd: Int32) { attachments.append(fd) }

    /// `Core::AnonymousBuffer`: bool valid, u64 size, and the shm fd as an attachment.
    public mutating func anonymousBuffer(fd: Int32, size: UInt64) {
        bool(true)
        u64(size)
        attachments.append(fd)
    }

    /// An invalid (null) `Core::AnonymousBuffer`: just `false`.
    public mutating func invalidAnonymousBuffer() { bool(false) }

    /// `IPC::TransportHandle` on Linux: exactly an `IPC::File` (the socket fd).
    public mutating func transportHandle(fd: Int32) { file(fd: fd) }

    // MARK: Containers

    /// `Optional<T>`: the presence flag, then `body` for a present value.
    public mutating func optional<T>(_ value: T?, _ body: (inout IPCEncoder, T) -> Void) {
        bool(value != nil)
        if let value { body(&self, value) }
    }

    /// `Vector<T>`: u32 count, then `body` per element.
    public mutating func vector<S: Collection>(_ elements: S, _ body: (inout IPCEncoder, S.Element) -> Void) {
        count(UInt32(truncatingIfNeeded: elements.count))
        for element in elements { body(&self, element) }
    }

    /// The index of a `Variant` with fewer than 255 alternatives.
    public mutating func variantIndex(_ index: UInt8) { u8(index) }

    /// The payload as a frame: 12-byte header (with `fd_count`) followed by the bytes.
    public func frame() -> [UInt8] {
        FrameEncoder.payloadFrame(bytes, fdCount: attachments.count)
    }

    private mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
}
