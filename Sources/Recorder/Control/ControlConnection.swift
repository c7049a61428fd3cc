import Glibc
import IPCTransport
import Synchronization

/// One control connection: one request in, one reply out, then close.
enum ControlConnection {
    /// Room for the largest valid message plus one byte, so an oversize message shows as too long.
    static let receiveBufferSize = ControlProtocol.headerSize + ControlProtocol.maxNameLength + 1
    /// Room for more fds than any kind carries: a few extra land in `wrongFDCount`, more in MSG_CTRUNC.
    static let receiveFDRoom = 4

    /// Serves `connection` and closes it (it is dropped on every path). Never throws or traps: a bad peer
    /// only gets a reply or a close. A reply that cannot be sent is counted in `undeliveredReplies`.
    static func serve(
        _ owned: consuming OwnedFD, serverUID: uid_t, timeout: Duration, handler: ControlServer.Handler,
        undeliveredReplies: borrowing Atomic<UInt64>
    ) {
        let connection = owned.rawValue
        guard let uid = ControlPeerPolicy.peerUID(of: connection),
              ControlPeerPolicy.isTrusted(peerUID: uid, serverUID: serverUID) else { return }
        setSendTimeout(connection, timeout)
        // A client that connects and says nothing costs this connection `timeout`, nothing more.
        guard ControlTime.wait(connection, for: POLLIN, until: .now.advanced(by: timeout)) else { return }

        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: receiveBufferSize, alignment: 8)
        defer { buffer.deallocate() }
        let chunk: ReceivedChunk
        do {
            chunk = try SocketMessaging.receiveMessage(connection, into: buffer, maxFDs: receiveFDRoom)
        } catch {
            return
        }
        let message = UnsafeRawBufferPointer(rebasing: buffer[0..<chunk.byteCount])
        let status: Int32
        // The received fds are raw numbers (a list of any length a client sent), owned here until the parsed
        // request hands them to `handler`, which owns them then; a refused message's are closed here.
        switch ControlRequestParser.parse(message: message, fds: chunk.fds, fdsTruncated: chunk.controlTruncated) {
        case .failure(let error):
            Descriptor.closeAll(chunk.fds)
            status = error.replyStatus
        case .success(let request):
            status = handler(request).status
        }
        // The client may be gone already (it timed out): it then falls back to the real call, and the handler's
        // relay sees EOF. Nothing can be done for it here, so the failure is counted, not reported.
        do {
            _ = try SocketMessaging.sendMessage(connection, bytes: ControlProtocol.encodeReply(status: status))
        } catch {
            undeliveredReplies.add(1, ordering: .relaxed)
        }
    }

    private static func setSendTimeout(_ fd: Int32, _ timeout: Duration) {
        var value = ControlTime.timeval(timeout)
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }
}
