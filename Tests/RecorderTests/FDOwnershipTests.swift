import CSystemShims
import Dispatch
import Glibc
import IPCTransport
import IPCWire
@testable import Recorder
import Synchronization
import Testing
import TraceFormat

// Every fd the recorder is given is closed exactly once on every path, failures included. Whether it was
// closed is asked of the socket's other end (it reads EOF), never of the fd number: tests run in parallel
// and another one may have been given that number again.

/// Whether the socket connected to `fd` has been closed: `fd` then reads EOF. Waits up to `milliseconds`
/// for it (the close may happen on another thread); false when data arrives or nothing happens.
func peerClosed(_ fd: Int32, within milliseconds: Int32 = 5000) -> Bool {
    var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    guard poll(&entry, 1, milliseconds) == 1 else { return false }
    var byte: UInt8 = 0
    return recv(fd, &byte, 1, Int32(MSG_DONTWAIT)) == 0
}

/// A session whose trace goes to a scratch directory.
private func makeSession() throws -> RecordingSession {
    let header = TraceHeader.startingNow(ipcscopeVersion: "test", commandLine: ["test"], snapLength: 4096)
    return try RecordingSession(tracePath: makeScratchDirectory() + "/fds.ipctrace", header: header, options: .init())
}

@Suite struct FDOwnershipTests {
    @Test func aChannelThatCannotOpenClosesBothEndsItWasGiven() throws {
        let session = try makeSession()
        session.stop()
        let a = try SocketPair.make()
        let b = try SocketPair.make()
        let programA = a.first
        let programB = b.first
        do {
            try session.openChannel(endA: a.second, endB: b.second, endpointA: ChannelEndpoint(name: "A"),
                                    endpointB: ChannelEndpoint(name: "B"), discovery: .wrap)
            Issue.record("a stopped session opened a channel")
        } catch {
            #expect(error.errno == ESHUTDOWN)
        }
        #expect(peerClosed(programA.rawValue))
        #expect(peerClosed(programB.rawValue))
    }

    /// A transport that cannot be followed is forwarded as it came: the relay's fd must still be open (it
    /// used to be closed by the failed openChannel, and then forwarded and closed a second time).
    @Test func aTransferThatCannotBeFollowedLeavesTheRelaysFDOpen() throws {
        let session = try makeSession()
        session.stop()
        let transport = try SocketPair.make()
        let followed = session.followTransfer(socket: transport.second.rawValue, parent: 1, direction: .aToB,
                                              frameIndex: 0)?.release()
        #expect(followed == nil)
        #expect(!peerClosed(transport.first.rawValue, within: 0))
        try Descriptor.writeAll(transport.second.rawValue, [42])
        var byte: UInt8 = 0
        #expect(read(transport.first.rawValue, &byte, 1) == 1 && byte == 42)
    }

    /// A followed transport is relayed from a copy: the relay closes the fd it received as always, and the
    /// channel still carries the transport's traffic to the end forwarded in its place.
    @Test func aFollowedTransferRelaysItsOwnCopyOfTheSocket() throws {
        let session = try makeSession()
        defer { session.stop() }
        let transport = try SocketPair.make()
        let peer = transport.first
        let received = transport.second
        guard let replacement = session.followTransfer(socket: received.rawValue, parent: 1, direction: .aToB,
                                                       frameIndex: nil) else {
            Issue.record("a live session did not follow the transfer")
            return
        }
        try received.close()  // what the relay does after forwarding `replacement`
        try Descriptor.writeAll(peer.rawValue, FrameEncoder.payloadFrame([1, 2, 3, 4, 5, 6, 7, 8]))
        var buffer = [UInt8](repeating: 0, count: 64)
        var entry = pollfd(fd: replacement.rawValue, events: Int16(POLLIN), revents: 0)
        #expect(poll(&entry, 1, 5000) == 1)
        let count = buffer.withUnsafeMutableBytes { recv(replacement.rawValue, $0.baseAddress, $0.count, 0) }
        #expect(count == FrameHeader.size + 8)
        // The program's end closing ends the channel, which closes its copy: the peer reads EOF.
        try replacement.close()
        #expect(peerClosed(peer.rawValue))
    }

    /// A connect request the recorder refuses (nothing listens at the path): the program's fd it carried is
    /// closed by the real handler, and the connection after the reply.
    @Test func aRefusedControlConnectClosesTheFDItCarried() throws {
        let session = try makeSession()
        defer { session.stop() }
        let server = try ControlServer(handler: ChannelRequestHandler(session: session).handle)
        defer { server.stop() }
        let program = try SocketPair.make()
        let missing = makeScratchDirectory() + "/nobody.sock"
        let reply = try ControlClient.request(
            controlPath: server.path,
            message: ControlProtocol.encodeRequest(kind: .connect, pid: getpid(), flags: 0, name: Array(missing.utf8)),
            fds: [program.second.rawValue])
        #expect(reply == .refused(ENOENT))
        try program.second.close()  // ours; the recorder's copy must be gone too
        #expect(peerClosed(program.first.rawValue))
    }

    /// A reply the client is no longer there to take is counted (it used to be dropped with `try?`).
    @Test func aReplyThatCannotBeSentIsCounted() throws {
        let clientGone = DispatchSemaphore(value: 0)
        let server = try ControlServer { request in
            Descriptor.closeAll(request.fds)
            // Reply only once the client has closed its connection (the bound only ends a broken test).
            _ = clientGone.wait(timeout: .now() + 10)
            return .declined
        }
        defer { server.stop() }
        let connection = socket(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue | SOCK_CLOEXEC.rawValue), 0)
        try #require(connection >= 0)
        try UnixSocketAddress.connect(connection, to: server.path)
        let pair = try SocketPair.make()
        _ = try SocketMessaging.sendMessage(
            connection, bytes: ControlProtocol.encodeRequest(kind: .connect, pid: getpid(), flags: 0, name: Array("/x".utf8)),
            fds: [pair.second.rawValue])
        try OwnedFD(adopting: connection).close()
        clientGone.signal()
        // The count changes when the server's send fails, after the handler returns; the server has no
        // event for it, so this waits for the count itself, bounded only to end a broken test.
        for _ in 0..<5000 where server.undeliveredReplies == 0 { usleep(1000) }
        #expect(server.undeliveredReplies == 1)
    }

    /// A client of `--listen` whose upstream cannot be reached is hung up on: the proxy closes the
    /// connection it accepted, on that error path too.
    @Test func aListenClientWhoseUpstreamIsGoneIsClosed() throws {
        let session = try makeSession()
        defer { session.stop() }
        let directory = makeScratchDirectory()
        let proxy = try SocketPathProxy(listenPath: directory + "/proxy.sock", upstreamPath: directory + "/gone.sock",
                                        session: session)
        defer { proxy.stop() }
        let client = try StreamSocketPath.connect(to: proxy.listenPath)
        #expect(peerClosed(client.rawValue))
        #expect(session.openChannelCount == 0)
    }
}
