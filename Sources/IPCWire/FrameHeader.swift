/// The two kinds of frame on a LibIPC socket (docs/protocol.md §1.2).
public enum FrameType: UInt8, Sendable, CaseIterable {
    case payload = 0
    case fdAcknowledgement = 1
}

/// The 12-byte `SocketMessageHeader` that starts every frame:
/// `u8 type, 3 bytes padding, u32 payload_size, u32 fd_count`, little-endian.
public struct FrameHeader: Equatable, Hashable, Sendable {
    public static let size = 12

    /// The type byte as sent; it may name no known ``FrameType``.
    public var rawType: UInt8
    public var payloadSize: UInt32
    /// For a payload frame, the fds that belong to it; for an ack, how many fds are acknowledged.
    public var fdCount: UInt32

    public init(rawType: UInt8, payloadSize: UInt32, fdCount: UInt32) {
        self.rawType = rawType
        self.payloadSize = payloadSize
        self.fdCount = fdCount
    }

    public init(type: FrameType, payloadSize: UInt32, fdCount: UInt32) {
        self.init(rawType: type.rawValue, payloadSize: payloadSize, fdCount: fdCount)
    }

    public static func payload(size: Int, fdCount: Int) -> FrameHeader {
        FrameHeader(type: .payload, payloadSize: UInt32(size), fdCount: UInt32(fdCount))
    }

    public static func acknowledgement(count: Int) -> FrameHeader {
        FrameHeader(type: .fdAcknowledgement, payloadSize: 0, fdCount: UInt32(count))
    }

    public var type: FrameType? { FrameType(rawValue: rawType) }

    /// Decodes a header from the first 12 bytes; nil when fewer are given. Padding is ignored.
    public init?(bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= FrameHeader.size else { return nil }
        rawType = bytes[0]
        payloadSize = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        fdCount = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
    }

    public init?<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        let array = Array(bytes.prefix(FrameHeader.size))
        guard let header = array.withUnsafeBytes({ FrameHeader(bytes: $0) }) else { return nil }
        self = header
    }

    /// Writes the 12 wire bytes; padding is sent as zeros.
    public func write(to out: UnsafeMutableRawBufferPointer) {
        precondition(out.count >= FrameHeader.size)
        out[0] = rawType
        out[1] = 0; out[2] = 0; out[3] = 0
        out.storeBytes(of: payloadSize.littleEndian, toByteOffset: 4, as: UInt32.self)
        out.storeBytes(of: fdCount.littleEndian, toByteOffset: 8, as: UInt32.self)
    }

    public func append(to bytes: inout [UInt8]) {
        withUnsafeTemporaryAllocation(byteCount: FrameHeader.size, alignment: 4) { tmp in
            write(to: tmp)
            bytes.append(contentsOf: UnsafeRawBufferPointer(tmp))
        }
    }

    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(FrameHeader.size)
        append(to: &out)
        return out
    }

    /// Total frame length on the wire, computed without overflow (payload_size + 12 in 64 bits).
    public var frameLength: UInt64 { UInt64(payloadSize) + UInt64(FrameHeader.size) }
}

/// Builds complete frames: the header followed by the payload.
public enum FrameEncoder {
    public static func payloadFrame(_ payload: [UInt8], fdCount: Int = 0) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(FrameHeader.size + payload.count)
        FrameHeader.payload(size: payload.count, fdCount: fdCount).append(to: &out)
        out.append(contentsOf: payload)
        return out
    }

    public static func acknowledgementFrame(count: Int) -> [UInt8] {
        FrameHeader.acknowledgement(count: count).bytes
    }
}
