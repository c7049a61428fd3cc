/// Endpoint magic numbers: `AK::string_hash(name, seed: 0)` (docs/protocol.md §3.2), the Jenkins
/// one-at-a-time variant Ladybird's IPC generators use to tag every message of an endpoint.
public enum EndpointMagic {
    public static func of(_ name: String) -> UInt32 {
        var hash: UInt32 = 0
        for byte in name.utf8 {
            hash &+= UInt32(byte)
            hash &+= hash &<< 10
            hash ^= hash &>> 6
        }
        hash &+= hash &<< 3
        hash ^= hash &>> 11
        hash &+= hash &<< 15
        return hash
    }
}

/// How a message id is used (docs/protocol.md §3.3).
public enum MessageKind: String, Sendable, Codable, CaseIterable {
    /// `=|`: no reply.
    case async
    /// `=>`: the caller blocks until the `…Response` (id + 1) arrives.
    case request
    /// The reply to a request; carries the magic of the endpoint that declares the request.
    case response
}

/// The 8 bytes that start every endpoint message's payload: magic and message id (docs/protocol.md §3.1).
public struct MessageEnvelope: Equatable, Hashable, Sendable {
    public static let size = 8
    public var magic: UInt32
    public var messageID: Int32

    public init(magic: UInt32, messageID: Int32) {
        self.magic = magic
        self.messageID = messageID
    }

    public init?(payload: UnsafeRawBufferPointer) {
        guard payload.count >= MessageEnvelope.size else { return nil }
        magic = UInt32(littleEndian: payload.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
        messageID = Int32(littleEndian: payload.loadUnaligned(fromByteOffset: 4, as: Int32.self))
    }

    public init?(payload: [UInt8]) {
        guard let envelope = payload.withUnsafeBytes({ MessageEnvelope(payload: $0) }) else { return nil }
        self = envelope
    }

    public func append(to bytes: inout [UInt8]) {
        withUnsafeBytes(of: magic.littleEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: messageID.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Id of the response that answers a request with this id.
    public static func responseID(forRequest id: Int32) -> Int32 { id &+ 1 }
}
