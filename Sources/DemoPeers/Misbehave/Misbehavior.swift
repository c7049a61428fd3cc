import IPCWire

/// The six ways `--misbehave` breaks LibIPC's receive checks (docs/protocol.md §2), one per fresh connection.
/// Each is a few raw bytes: IPCTransport refuses to send any of them, which is right for a real peer.
public enum Misbehavior: String, CaseIterable, Sendable {
    case tooManyFDs = "fd-count"
    case payloadTooLarge = "payload-size"
    case unknownFrameType = "frame-type"
    case acknowledgementWithPayload = "ack-with-payload"
    case overAcknowledgement = "over-ack"
    case decodedLengthTooLarge = "decoded-length"

    /// What the victim must report.
    public var expectedViolation: Violation.Kind {
        switch self {
        case .tooManyFDs: .tooManyFDsInFrame
        case .payloadTooLarge: .payloadTooLarge
        case .unknownFrameType: .unknownFrameType
        case .acknowledgementWithPayload: .acknowledgementWithPayload
        case .overAcknowledgement: .overAcknowledgement
        case .decodedLengthTooLarge: .decodedSizeTooLarge
        }
    }

    /// The rule broken, for the report.
    public var brokenRule: String {
        switch self {
        case .tooManyFDs: "payload header with fd_count \(Self.fdCount) > \(Limits.maxMessageFDCount)"
        case .payloadTooLarge: "payload header with payload_size \(Self.oversize) > 64 MiB"
        case .unknownFrameType: "header with type \(Self.unknownType) (neither 0 nor 1)"
        case .acknowledgementWithPayload: "fd acknowledgement with a 4-byte payload"
        case .overAcknowledgement: "acknowledges 1 fd on a connection that sent none"
        case .decodedLengthTooLarge: "valid frame, ByteString length \(Self.oversize) > 64 MiB"
        }
    }

    /// Which layer of the victim is expected to notice.
    public var detectingLayer: String {
        self == .decodedLengthTooLarge ? "message decoder" : "transport"
    }

    static let fdCount = UInt32(Limits.maxMessageFDCount) + 1
    static let oversize = UInt32(Limits.maxDecodedSize) + 1
    static let unknownType: UInt8 = 7

    /// The bytes the misbehaving peer writes (`demoProtocol` gives the magic and id of the message whose
    /// length field is the lie).
    func frameBytes(_ demoProtocol: DemoProtocol) -> [UInt8] {
        switch self {
        case .tooManyFDs:
            return FrameHeader(type: .payload, payloadSize: 0, fdCount: Self.fdCount).bytes
        case .payloadTooLarge:
            return FrameHeader(type: .payload, payloadSize: Self.oversize, fdCount: 0).bytes
        case .unknownFrameType:
            return FrameHeader(rawType: Self.unknownType, payloadSize: 0, fdCount: 0).bytes
        case .acknowledgementWithPayload:
            return FrameHeader(type: .fdAcknowledgement, payloadSize: 4, fdCount: 1).bytes + [0, 0, 0, 0]
        case .overAcknowledgement:
            return FrameEncoder.acknowledgementFrame(count: 1)
        case .decodedLengthTooLarge:
            // is_supported_protocol(ByteString protocol) whose length says 64 MiB + 1 but carries 4 bytes.
            let descriptor = demoProtocol.requestServer.descriptor(.isSupportedProtocol)
            var encoder = IPCEncoder()
            encoder.envelope(magic: descriptor.magic, id: descriptor.id)
            encoder.count(Self.oversize)
            encoder.bytes(Array("http".utf8))
            return encoder.frame()
        }
    }
}
