/// Fds this side sent and must keep open until the peer acknowledges them (docs/protocol.md §1.5).
/// Owns the fds: closing happens through the arrays it hands back.
struct RetainedFDs {
    private var fds = FIFO<Int32>()
    /// How many of the oldest retained fds have actually gone out in a `sendmsg`.
    private(set) var sentCount = 0

    var count: Int { fds.count }

    mutating func retain(_ newFDs: [Int32]) { fds.append(contentsOf: newFDs) }

    mutating func markSent(_ n: Int) { sentCount = min(sentCount + n, fds.count) }

    enum AcknowledgeResult {
        /// The acknowledged fds, oldest first, for the caller to close.
        case release([Int32])
        /// The peer acknowledged more than was sent and is still retained.
        case overAcknowledged(outstanding: Int)
    }

    /// Ladybird compares against everything retained; we compare against what was actually sent, which is
    /// the same for an honest peer and keeps a hostile early ack from closing fds still waiting to go out.
    mutating func acknowledge(_ n: UInt32) -> AcknowledgeResult {
        guard UInt64(n) <= UInt64(sentCount) else { return .overAcknowledged(outstanding: sentCount) }
        sentCount -= Int(n)
        return .release(fds.popFirst(Int(n)))
    }

    /// Everything still retained, for closing when the transport object goes away.
    mutating func removeAll() -> [Int32] {
        sentCount = 0
        return fds.removeAll()
    }
}
