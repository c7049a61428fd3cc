/// Tells from the first bytes of one direction of a stream whether it looks like LibIPC framing.
///
/// A recorder that relays every AF_UNIX stream socketpair of a process tree also relays channels that
/// are not LibIPC at all (Python's multiprocessing pipes, asyncio's wake-up bytes, tmux, D-Bus). Parsed as
/// LibIPC they give made-up frames and violations. This looks at the first frame header and decides as
/// soon as the bytes allow — often from the first byte — what the stream is. It only reads copies of the
/// bytes: it never holds traffic back.
///
/// A real LibIPC sender (docs/protocol.md §1.2, §1.5, §3.1, §6) writes headers whose type byte is 0 or 1 and
/// whose 3 padding bytes are zero; a payload frame carries at least 8 bytes (an endpoint message's
/// envelope — magic, message id — or a MessagePort record's two u32 counts); an ack frame has no payload
/// and acknowledges at least one fd. A header that breaks one of LibIPC's limits is still LibIPC (a
/// misbehaving peer, reported as a violation); one that breaks both is not.
///
/// The payload's endpoint magic is not consulted: MessagePort transports carry no envelope, so an unknown
/// magic does not mean "not LibIPC", even with the schemas of every endpoint.
///
/// Memory: at most ``bytesExamined`` bytes, whatever is fed.
public struct LibIPCStreamClassifier: Sendable {
    public struct Verdict: Equatable, Sendable {
        public var isLibIPC: Bool
        /// Why, in a few words, for the trace and the user.
        public var reason: String

        public init(isLibIPC: Bool, reason: String) {
            self.isLibIPC = isLibIPC
            self.reason = reason
        }
    }

    /// One frame header: the most bytes a decision needs.
    public static let bytesExamined = FrameHeader.size
    /// Acks larger than this are not plausible: a receiver holds at most this many unmatched fds (§2).
    static let maxPlausibleAcknowledgement = UInt32(Limits.maxUnprocessedFDs)

    /// The first bytes of the stream, up to ``bytesExamined``.
    public private(set) var examined: [UInt8] = []
    public private(set) var verdict: Verdict?

    public init() {
        examined.reserveCapacity(Self.bytesExamined)
    }

    /// Takes the next bytes of the stream; returns the verdict once there is one (then it never changes).
    @discardableResult
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) -> Verdict? {
        guard verdict == nil else { return verdict }
        let take = min(bytes.count, Self.bytesExamined - examined.count)
        if take > 0 { examined.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[0..<take])) }
        verdict = Self.judge(examined)
        return verdict
    }

    @discardableResult
    public mutating func feed(_ bytes: [UInt8]) -> Verdict? {
        bytes.withUnsafeBytes { feed($0) }
    }

    /// The verdict the first bytes of a stream allow, nil while they allow both.
    static func judge(_ p: [UInt8]) -> Verdict? {
        func notLibIPC(_ reason: String) -> Verdict { Verdict(isLibIPC: false, reason: reason) }
        func u32(_ offset: Int) -> UInt32 {
            UInt32(p[offset]) | UInt32(p[offset + 1]) << 8 | UInt32(p[offset + 2]) << 16 | UInt32(p[offset + 3]) << 24
        }
        guard let type = p.first else { return nil }
        guard type <= FrameType.fdAcknowledgement.rawValue else {
            return notLibIPC("first byte \(hex(type)) is no frame type (0 or 1)")
        }
        for index in 1..<min(p.count, 4) where p[index] != 0 {
            return notLibIPC("header padding byte \(index) is \(hex(p[index])), not 0")
        }
        guard p.count >= 8 else { return nil }
        let payloadSize = u32(4)
        if type == FrameType.payload.rawValue, payloadSize < 8 {
            return notLibIPC("payload frame of \(payloadSize) bytes, shorter than any LibIPC message (8)")
        }
        if type == FrameType.fdAcknowledgement.rawValue, payloadSize != 0 {
            return notLibIPC("fd acknowledgement with a \(payloadSize)-byte payload")
        }
        guard p.count >= FrameHeader.size else { return nil }
        let fdCount = u32(8)
        if type == FrameType.fdAcknowledgement.rawValue {
            guard fdCount > 0, fdCount <= maxPlausibleAcknowledgement else {
                return notLibIPC("fd acknowledgement of \(fdCount) fds")
            }
            return Verdict(isLibIPC: true, reason: "first frame acknowledges \(fdCount) fds")
        }
        let oversize = UInt64(payloadSize) > Limits.maxMessagePayloadSize
        let tooManyFDs = UInt64(fdCount) > Limits.maxMessageFDCount
        if oversize && tooManyFDs {
            return notLibIPC("payload_size \(payloadSize) and fd_count \(fdCount) both over LibIPC's limits")
        }
        let broken = oversize ? " over MAX_MESSAGE_PAYLOAD_SIZE" : tooManyFDs ? " over MAX_MESSAGE_FD_COUNT" : ""
        return Verdict(isLibIPC: true, reason: "first frame header: payload of \(payloadSize) bytes, \(fdCount) fds\(broken)")
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16)
        return "0x" + (digits.count == 1 ? "0" + digits : digits)
    }
}
