/// A LibIPC value without wire positions: what ``IPCEncoder/encode(_:as:types:)`` writes and what
/// ``DecodedValue/value`` gives back, so that `decode(encode(x)) == x`.
public indirect enum IPCValue: Hashable, Sendable {
    /// The raw byte: 0 and 1 are false and true; mainline LibIPC accepts any byte, so others are kept as sent.
    case bool(UInt8)
    case signed(Int64)
    case unsigned(UInt64)
    case float(Float)
    case double(Double)
    /// Text of `String`, `FlyString`, `Utf16String`…, and of a `ByteString` that is valid UTF-8.
    case string(String)
    /// `ByteBuffer`, `Vector<u8>`, `IPv6Address`, or a `ByteString` that is not valid UTF-8.
    case bytes([UInt8])
    /// Only the start of a long value was kept (`.string`, `.bytes` or `.list`); `totalCount` is the true
    /// length in the value's own unit: bytes, UTF-16 code units, or elements.
    case elided(IPCValue, totalCount: Int)
    /// An fd that travels beside the bytes (`IPC::File`, `Core::AnonymousBuffer`, …).
    case attachment(IPCAttachment)
    /// A value of an `@ipcscope enum`; `name` is nil when the value matches no case.
    case enumCase(name: String?, raw: Int64)
    /// An absent `Optional`, or an invalid `Core::AnonymousBuffer`. (Not named `none` so that it cannot be
    /// confused with `Optional.none` when compared with an `IPCValue?`.)
    case absent
    /// A present `Optional`.
    case present(IPCValue)
    /// `Empty`: no bytes.
    case empty
    /// `Vector`, `Span`, `Array` elements in order.
    case list([IPCValue])
    /// `HashMap` entries in the sender's order (duplicates kept as sent).
    case map([IPCMapEntry])
    /// Fixed fields in wire order: `Gfx::IntRect` (x, y, width, height), `URL::Origin`, `Core::ProxyData`…
    case structure([IPCValue])
    /// `Variant<…>`: the index of the active alternative and its value.
    case variant(index: Int, IPCValue)

    public static func boolean(_ value: Bool) -> IPCValue { .bool(value ? 1 : 0) }
}

public struct IPCMapEntry: Hashable, Sendable {
    public var key: IPCValue
    public var value: IPCValue

    public init(key: IPCValue, value: IPCValue) {
        self.key = key
        self.value = value
    }
}

/// What an fd attachment carries; it tells a viewer what the fd is for.
public enum AttachmentKind: String, Hashable, Sendable, Codable, CaseIterable {
    case file
    case anonymousBuffer
    case transportHandle
    case queue
}

public struct IPCAttachment: Hashable, Sendable {
    /// Decoding: the position of the fd in the frame's attachment list. Encoding: the fd to attach.
    public var index: Int
    public var kind: AttachmentKind
    /// The byte size a `Core::AnonymousBuffer` declares.
    public var bufferSize: UInt64?

    public init(index: Int, kind: AttachmentKind, bufferSize: UInt64? = nil) {
        self.index = index
        self.kind = kind
        self.bufferSize = bufferSize
    }
}
