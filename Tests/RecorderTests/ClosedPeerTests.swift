import CSystemShims
import Dispatch
import Glibc
import IPCTransport
import IPCWire
@testable import Recorder
import Synchronization
import Testing

/// Program A's and program B's sockets of one connection: a plain socketpair, or two socketpairs with the
/// real relay (a `RelayedChannel`) between them. The same scenario runs on both and must be seen the same.
final class ClosedPeerConnection {
    let a: Int32
    let b: Int32
    private var openEnds: Set<Int32>
    let channel: RelayedChannel?
    let sink = CollectingSink()
    /// Signalled by the channel's onClosed, once.
    private let closed = DispatchSemaphore(value: 0)
    /// The proxy's sockets and their inodes, to check that the channel closed them.
    private let proxyEnds: [(fd: Int32, inode: UInt64)]

    var isRelayed: Bool { channel != nil }

    static func make(relayed: Bool) throws -> ClosedPeerConnection {
        try ClosedPeerConnection(relayed: relayed)
    }

    private init(relayed: Bool) throws {
        if relayed {
            let pairA = try SocketPair.makeRaw()
            let pairB = try SocketPair.makeRaw()
            a = pairA.first
            b = pairB.first
            proxyEnds = [(pairA.second, try Descriptor.info(pairA.second).inode),
                         (pairB.second, try Descriptor.info(pairB.second).inode)]
            let closed = closed
            channel = try RelayedChannel(id: 1, endA: OwnedFD(adopting: pairA.second), endB: OwnedFD(adopting: pairB.second), options: .init(), sink: sink,
                                         onClosed: { [closed] _, _ in closed.signal() })
        } else {
            let pair = try SocketPair.makeRaw()
            a = pair.first
            b = pair.second
            proxyEnds = []
            channel = nil
        }
        openEnds = [a, b]
    }

    func end(_ side: ChannelSide) -> Int32 { side == .a ? a : b }

    /// A program closes its end completely.
    func close(_ side: ChannelSide) {
        let fd = end(side)
        if openEnds.remove(fd) != nil { Descriptor.close(fd) }
    }

    /// Waits (bounded) until the relay recorded the end of `directions`: by then it has acted on what
    /// ended them. Always true without the proxy, where there is nothing to wait for.
    func proxyEnded(_ directions: Direction...) -> Bool {
        guard isRelayed else { return true }
        return sink.wait { sink in directions.allSatisfy { sink.endOfStream($0) != nil } }
    }

    /// Waits (bounded) until the channel closed its sockets.
    func proxyClosed(timeout: Duration = .seconds(10)) -> Bool {
        guard isRelayed else { return true }
        // Woken by onClosed; the timeout only bounds a test that fails.
        guard closed.wait(timeout: .now() + .seconds(Int(timeout.components.seconds))) == .success else { return false }
        closed.signal()  // a latch: later calls see the channel closed too
        return true
    }

    /// Whether the proxy's sockets are closed (the fd is gone or its number now holds another file).
    var proxyEndsAreClosed: Bool {
        proxyEnds.allSatisfy { end in (try? Descriptor.info(end.fd).inode) != end.inode }
    }

    /// Closes what the scenario left open and waits for the relay threads, unless the channel stalled
    /// (then joining would hang the test run; the scenario has failed already).
    func finish() {
        for fd in openEnds { Descriptor.close(fd) }
        openEnds = []
        if let channel, proxyClosed() { channel.join() }
    }
}

/// What a program saw from one call or one read sequence.
enum Seen: Equatable, CustomStringConvertible {
    case wrote(Int)
    case failed(Int32)
    /// Bytes read in a row (however the reads split them), as a count and a digest.
    case data(count: Int, digest: UInt64)
    case endOfFile
    /// Nothing happened before the deadline.
    case nothing

    static func data(_ bytes: [UInt8]) -> Seen {
        var digest: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        for byte in bytes { digest = (digest ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return .data(count: bytes.count, digest: digest)
    }

    var description: String {
        switch self {
        case .wrote(let count): "wrote \(count)"
        case .failed(let code): "failed \(SystemError(errno: code, operation: "").errnoName)"
        case .data(let count, _): "\(count) bytes"
        case .endOfFile: "EOF"
        case .nothing: "nothing before the deadline"
        }
    }
}

/// One non-blocking write that does not raise SIGPIPE.
func writeOnce(_ fd: Int32, _ bytes: [UInt8] = [0x78]) -> Seen {
    let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
    return sent >= 0 ? .wrote(sent) : .failed(errno)
}

/// A write from a sender whose send buffer was full when its peer closed. The kernel checks the buffer
/// before the peer (unix_stream_sendmsg): until the closed peer's queue has been freed a write still says
/// EAGAIN, with or without the proxy. Then it waits for the socket to report room (POLLOUT, which the
/// freeing of that queue raises) and writes again; the timeout only bounds a test that fails.
func writeOnceBufferIsFreed(_ fd: Int32) -> Seen {
    let first = writeOnce(fd)
    guard first == .failed(EAGAIN) else { return first }
    var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
    _ = poll(&entry, 1, 10_000)
    return writeOnce(fd)
}

/// Reads until EOF (at most `limit` bytes when given), each wait bounded: data (merged), errors and EOF in
/// the order they came.
func readSequence(_ fd: Int32, limit: Int = .max, timeout: Duration = .seconds(10)) -> [Seen] {
    var seen: [Seen] = []
    var data: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    let deadline = ContinuousClock.now + timeout
    func flush() {
        if !data.isEmpty { seen.append(.data(data)) }
        data = []
    }
    while data.count < limit, seen.count < 8 {
        let remaining = deadline - ContinuousClock.now
        guard remaining > .zero else {
            flush()
            seen.append(.nothing)
            break
        }
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        if poll(&entry, 1, Int32(remaining.components.seconds * 1000 + 1)) == 0 { continue }
        let want = min(buffer.count, limit - data.count)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, want, Int32(MSG_DONTWAIT)) }
        if count > 0 {
            data += buffer[0..<count]
        } else if count == 0 {
            flush()
            seen.append(.endOfFile)
            break
        } else if errno != EAGAIN && errno != EINTR {
            flush()
            seen.append(.failed(errno))
        }
    }
    flush()
    return seen
}

/// A read sequence running on its own thread, started before what it is to see happens.
final class BackgroundReads: Sendable {
    private final class Box: Sendable {
        let seen = Mutex<[Seen]>([])
    }
    private let box = Box()
    private let thread: OSThread

    init(_ fd: Int32) throws {
        let box = box
        thread = try OSThread(name: "reads") {
            let result = readSequence(fd)
            box.seen.withLock { $0 = result }
        }
    }

    func result() -> [Seen] {
        thread.join()
        return box.seen.withLock { $0 }
    }
}

/// Writes a pattern from `fd` (made non-blocking) until the writes have been refused for a while: the
/// receiver is not reading, so every buffer on the way is full. Returns what was written.
func fillUntilBlocked(_ fd: Int32) throws -> [UInt8] {
    try Descriptor.setNonBlocking(fd, true)
    var written: [UInt8] = []
    let chunk = (0..<65_536).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 8) }
    while written.count < 64 << 20 {
        if case .wrote(let count) = writeOnce(fd, chunk) {
            written += chunk[0..<count]
            continue
        }
        // Refused: give the relay time to drain what it can into the next buffer. Only how much gets
        // written depends on this wait, not what the scenario must see.
        var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        if poll(&entry, 1, 300) == 0 { break }
    }
    return written
}

/// The closed-peer matrix: each scenario on a plain socketpair and through the real relay, compared call
/// for call (writes with MSG_NOSIGNAL, read sequences until EOF).
@Suite(.serialized) struct ClosedPeerTests {
    /// Runs `scenario` without and with the proxy; returns both logs.
    private func both(_ scenario: (ClosedPeerConnection) throws -> [String]) throws -> (plain: [String], relayed: [String]) {
        let plain = try ClosedPeerConnection.make(relayed: false)
        let plainLog = try scenario(plain)
        plain.finish()
        let relayed = try ClosedPeerConnection.make(relayed: true)
        let relayedLog = try scenario(relayed)
        relayed.finish()
        #expect(relayed.proxyEndsAreClosed, "the channel left its sockets open")
        return (plainLog, relayedLog)
    }

    @Test(arguments: [ChannelSide.a, .b])
    func fullCloseFailsTheOtherSidesWritesAndEndsItsReads(_ closer: ChannelSide) throws {
        let (plain, relayed) = try both { connection in
            let other = connection.end(closer.opposite)
            try send(connection.end(closer), Array("last words".utf8))
            connection.close(closer)
            var log: [String] = []
            // Nothing is written to the closer's peer here: the proxy must notice the close on its own.
            if !connection.proxyEnded(.aToB, .bToA) { log.append("the proxy did not notice the close") }
            log.append("write: \(writeOnce(other))")
            log.append("reads: \(readSequence(other))")
            return log
        }
        #expect(plain == ["write: failed EPIPE", "reads: [10 bytes, EOF]"])
        #expect(relayed == plain)
    }

    @Test(arguments: [ChannelSide.a, .b])
    func halfCloseStaysAHalfClose(_ closer: ChannelSide) throws {
        let (plain, relayed) = try both { connection in
            let (half, other) = (connection.end(closer), connection.end(closer.opposite))
            let closing: Direction = closer == .a ? .aToB : .bToA
            try send(half, Array("ping".utf8))
            shutdown(half, Int32(SHUT_WR))
            var log: [String] = []
            if !connection.proxyEnded(closing) { log.append("the proxy did not forward the half-close") }
            log.append("peer reads: \(readSequence(other))")
            log.append("peer writes: \(writeOnce(other, Array("pong".utf8)))")
            log.append("half-closed side reads: \(readSequence(half, limit: 4))")
            log.append("half-closed side writes: \(writeOnce(half))")
            log.append("peer writes again: \(writeOnce(other, Array("more".utf8)))")
            log.append("half-closed side reads again: \(readSequence(half, limit: 4))")
            shutdown(other, Int32(SHUT_WR))
            if !connection.proxyEnded(closing.reversed) { log.append("the proxy did not forward the second half-close") }
            log.append("half-closed side reads at the end: \(readSequence(half))")
            return log
        }
        #expect(plain == [
            "peer reads: [4 bytes, EOF]", "peer writes: wrote 4", "half-closed side reads: [4 bytes]",
            "half-closed side writes: failed EPIPE", "peer writes again: wrote 4",
            "half-closed side reads again: [4 bytes]", "half-closed side reads at the end: [EOF]",
        ])
        #expect(relayed == plain)
    }

    /// SHUT_RD is not visible to poll on the proxy's socket, so the proxy learns of it only when it next
    /// writes there: the first write after it is accepted and dropped (docs/recording.md). From then on
    /// both are the same, and the other direction keeps flowing.
    @Test(arguments: [ChannelSide.a, .b])
    func shutdownOfReadsFailsTheOtherSidesWritesOnceTheProxyWroteThere(_ reader: ChannelSide) throws {
        var firstWrites: [Seen] = []
        let (plain, relayed) = try both { connection in
            let (closing, other) = (connection.end(reader), connection.end(reader.opposite))
            shutdown(closing, Int32(SHUT_RD))
            firstWrites.append(writeOnce(other))
            var log: [String] = []
            if !connection.proxyEnded(reader == .b ? .aToB : .bToA) { log.append("the proxy did not notice") }
            log.append("write: \(writeOnce(other))")
            log.append("reader writes: \(writeOnce(closing, Array("pong".utf8)))")
            log.append("writer reads: \(readSequence(other, limit: 4))")
            log.append("reader reads: \(readSequence(closing))")
            return log
        }
        #expect(firstWrites == [.failed(EPIPE), .wrote(1)])
        #expect(plain == ["write: failed EPIPE", "reader writes: wrote 4", "writer reads: [4 bytes]", "reader reads: [EOF]"])
        #expect(relayed == plain)
    }

    @Test(arguments: [ChannelSide.a, .b])
    func aSenderThatClosesWhileTheProxyHoldsItsBytesHasThemAllDelivered(_ sender: ChannelSide) throws {
        let (plain, relayed) = try both { connection in
            let receiver = connection.end(sender.opposite)
            let written = try fillUntilBlocked(connection.end(sender))
            connection.close(sender)
            var log: [String] = []
            // The direction carrying the bytes cannot end before they are read; the other one must.
            if !connection.proxyEnded(sender == .a ? .bToA : .aToB) { log.append("the proxy did not notice the close") }
            log.append("receiver writes: \(writeOnce(receiver))")
            let reads = readSequence(receiver)
            log.append("receiver reads: \(reads == [.data(written), .endOfFile] ? "everything written, then EOF" : "\(reads) of \(written.count)")")
            return log
        }
        #expect(plain == ["receiver writes: failed EPIPE", "receiver reads: everything written, then EOF"])
        #expect(relayed == plain)
    }

    @Test(arguments: [ChannelSide.a, .b])
    func aReceiverThatClosesWhileTheProxyHoldsBytesFailsTheSendersWritesAndResetsIt(_ sender: ChannelSide) throws {
        let (plain, relayed) = try both { connection in
            let writer = connection.end(sender)
            _ = try fillUntilBlocked(writer)
            // The sender is already waiting in a read when the receiver closes, so it sees the order in which
            // things happen to its socket.
            let reads = try BackgroundReads(writer)
            connection.close(sender.opposite)
            var log: [String] = []
            if !connection.proxyEnded(.aToB, .bToA) { log.append("the proxy did not notice the close") }
            log.append("sender writes: \(writeOnceBufferIsFreed(writer))")
            // The sender's unread bytes were still queued at the receiver (plain) or in the proxy's socket
            // (relayed) when it closed: ECONNRESET, then EOF — never EOF first.
            log.append("sender reads: \(reads.result())")
            return log
        }
        #expect(plain == ["sender writes: failed EPIPE", "sender reads: [failed ECONNRESET, EOF]"])
        #expect(relayed == plain)
    }

    /// The one difference left (docs/recording.md): bytes the proxy has already forwarded sit in the
    /// receiver's queue, not in the proxy's socket, so the receiver's close resets the proxy, and the
    /// sender sees a plain EOF where it would have seen ECONNRESET.
    @Test func unreadBytesTheProxyAlreadyForwardedEndInEOFNotReset() throws {
        let (plain, relayed) = try both { connection in
            try send(connection.a, Array("unanswered".utf8))
            var entry = pollfd(fd: connection.b, events: Int16(POLLIN), revents: 0)
            var log: [String] = []
            if poll(&entry, 1, 10_000) != 1 { log.append("the bytes did not arrive") }
            connection.close(.b)
            if !connection.proxyEnded(.aToB, .bToA) { log.append("the proxy did not notice the close") }
            log.append("write: \(writeOnce(connection.a))")
            log.append("reads: \(readSequence(connection.a))")
            return log
        }
        #expect(plain == ["write: failed EPIPE", "reads: [failed ECONNRESET, EOF]"])
        #expect(relayed == ["write: failed EPIPE", "reads: [EOF]"])
    }

    @Test func theTraceSaysWhoClosed() throws {
        let connection = try ClosedPeerConnection.make(relayed: true)
        defer { connection.finish() }
        connection.close(.b)
        #expect(connection.proxyEnded(.aToB, .bToA))
        #expect(connection.sink.endOfStream(.bToA)?.kind == .peerClosed)
        // A never wrote: its direction ended because its receiver went away, and its writes now fail.
        #expect(connection.sink.endOfStream(.aToB) == EndOfStream(kind: .reset, errno: EPIPE))
    }

    /// B closes, then A: B's direction ended by B's own close (which is what names a likely cause), never
    /// by the proxy shutting its reads when A's close came in, however late the relay reads B's EOF.
    @Test func whenBothCloseTheFirstIsRecordedAsClosing() throws {
        for _ in 0..<30 {
            let connection = try ClosedPeerConnection.make(relayed: true)
            defer { connection.finish() }
            connection.close(.b)
            connection.close(.a)
            #expect(connection.proxyEnded(.aToB, .bToA))
            #expect(connection.sink.endOfStream(.bToA)?.kind == .peerClosed)
        }
    }

    /// Both programs close at once, idle or with every buffer full both ways: the channel always closes
    /// its sockets, and no relay thread is left blocked.
    @Test(arguments: [false, true])
    func bothClosingAtOnceNeverStallsOrLeaks(_ withFullBuffers: Bool) throws {
        for _ in 0..<(withFullBuffers ? 4 : 40) {
            let connection = try ClosedPeerConnection.make(relayed: true)
            if withFullBuffers {
                _ = try fillUntilBlocked(connection.a)
                _ = try fillUntilBlocked(connection.b)
            }
            let closer = try OSThread(name: "close-b") { [b = connection.b] in Descriptor.close(b) }
            Descriptor.close(connection.a)
            closer.join()
            #expect(connection.proxyClosed(), "the channel did not close")
            #expect(connection.proxyEndsAreClosed)
            connection.channel?.join()
        }
    }
}
