import IPCTransport

// For tests that keep both ends as plain numbers and close each once, by hand (or hand it to an owner
// with `OwnedFD(adopting:)`). Production code holds them as OwnedFD from the start.
extension SocketPair {
    public static func makeRaw() throws -> (first: Int32, second: Int32) {
        let pair = try SocketPair.make()
        return (pair.first.release(), pair.second.release())
    }
}

extension Pipe {
    public static func makeRaw(nonBlocking: Bool = false) throws -> (readEnd: Int32, writeEnd: Int32) {
        let pipe = try Pipe.make(nonBlocking: nonBlocking)
        return (pipe.readEnd.release(), pipe.writeEnd.release())
    }
}

extension IPCTransport {
    /// `makePair()` for tests that manage the peer end as a plain number.
    public static func makeRawPair() throws -> (IPCTransport, Int32) {
        let pair = try IPCTransport.makePair()
        return (pair.transport, pair.peer.release())
    }
}
