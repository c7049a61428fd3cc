import IPCTransport

extension IPCTransport {
    /// `makePair()` for tests that manage the peer end as a plain number.
    static func makeRawPair() throws -> (IPCTransport, Int32) {
        let pair = try IPCTransport.makePair()
        return (pair.transport, pair.peer.release())
    }
}
