import Dispatch
import Glibc
import IPCWire
import Synchronization

/// A LibIPC `TransportSocket` in Swift: frames with a 12-byte header over an AF_UNIX stream socket, fds via
/// SCM_RIGHTS, automatic fd acknowledgements, Ladybird's receive limits, EOF after the last message, and
/// hand-off with `releaseForTransfer()`. One "IPC IO" thread per transport does all socket IO.
///
/// Fd ownership: `send` consumes its attachments (even when it throws); fds in received messages belong to
/// the caller; the socket belongs to the transport until `close()` or `releaseForTransfer()`.
public final class IPCTransport: Sendable {
    private enum Lifecycle: Sendable { case open, closed, released }

    private let core: TransportCore
    private let ioThread: OSThread
    private let lifecycle = Mutex(Lifecycle.open)

    /// Takes ownership of a connected AF_UNIX stream socket given as a raw number (an inherited or received
    /// fd): owned from here, closed on failure too. See ``init(adopting:limits:)-(OwnedFD,_)``.
    public convenience init(adopting socket: Int32, limits: ReceiveLimits = .ladybird) throws(TransportError) {
        guard socket >= 0 else { throw .system(SystemError(errno: EBADF, operation: "IPCTransport(adopting:)")) }
        try self.init(adopting: OwnedFD(adopting: socket), limits: limits)
    }

    /// Takes ownership of a connected AF_UNIX stream socket (closed on failure too) and starts its IO thread.
    /// The socket may be blocking or not: all IO uses MSG_DONTWAIT. Sets SO_SNDBUF/SO_RCVBUF to 128 KiB
    /// (ignoring errors, like Ladybird) and close-on-exec.
    public init(adopting owned: consuming OwnedFD, limits: ReceiveLimits = .ladybird) throws(TransportError) {
        // A failure below drops `owned`, and dropping closes it.
        let socket = owned.rawValue
        do throws(SystemError) {
            let info = try Descriptor.info(socket)
            guard info.kind == .socket else { throw SystemError(errno: ENOTSOCK, operation: "IPCTransport(adopting:)") }
            try Descriptor.setCloseOnExec(socket)
        } catch {
            throw .system(error)
        }
        try? SocketOptions.setBufferSizes(socket)

        let wake: Pipe
        do {
            wake = try Pipe.make(nonBlocking: true)
        } catch {
            throw .system(error)
        }
        // The core owns all three fds from here (and closes them if the thread cannot start).
        let core = TransportCore(socket: owned, wakeRead: wake.readEnd, wakeWrite: wake.writeEnd, limits: limits)
        do {
            ioThread = try OSThread(name: "IPC IO") { TransportIOLoop(core: core).run() }
        } catch {
            throw .system(error)
        }
        self.core = core
    }

    /// Like Ladybird's `TransportSocket::create_paired()`: a transport on one end of a new socketpair
    /// (non-blocking, close-on-exec) and the other end, close-on-exec, owned by the caller (for a
    /// `TransportHandle`): closed if it is dropped on an error path before being handed on.
    public static func makePair(limits: ReceiveLimits = .ladybird) throws(TransportError) -> TransportPair {
        let pair: SocketPair
        do { pair = try SocketPair.make() } catch { throw .system(error) }
        do { try Descriptor.setNonBlocking(pair.first.rawValue) } catch { throw .system(error) }
        // On failure `second` is dropped (closed) with the pair.
        let peer = pair.second
        return TransportPair(transport: try IPCTransport(adopting: pair.first, limits: limits), peer: peer)
    }

    deinit {
        let state = lifecycle.withLock { $0 }
        if state == .open {
            core.requestStop(.immediately)
            ioThread.join()
            core.socketOwner.drop()
        } else {
            ioThread.join()
        }
        core.closeOwnedFDs(includingIncoming: true)
        // The wake pipe closes with the core, which nothing holds once the thread has ended.
    }

    /// The socket fd, for diagnostics. Valid while the transport is open.
    public var socketFD: Int32 { core.socket }

    /// True until EOF, `close()` or `releaseForTransfer()`.
    public var isOpen: Bool {
        lifecycle.withLock { $0 == .open } && core.state.withLock { $0.eof == nil && !$0.releasing && !$0.closing }
    }

    public var statistics: TransportStatisticsSnapshot { core.statistics.snapshot() }

    // MARK: Sending

    /// Queues one payload frame. Consumes `attachments`: they stay open until the peer acknowledges them
    /// and are closed at once when this throws. Throws instead of Ladybird's VERIFY crash for more than
    /// 128 fds or a payload over 64 MiB.
    public func send(payload: [UInt8], attachments: [Int32] = []) throws(TransportError) {
        guard attachments.count <= Int(Limits.maxMessageFDCount) else {
            Descriptor.closeAll(attachments)
            throw .tooManyAttachments(count: attachments.count, limit: Int(Limits.maxMessageFDCount))
        }
        guard UInt64(payload.count) <= Limits.maxMessagePayloadSize else {
            Descriptor.closeAll(attachments)
            throw .payloadTooLarge(size: payload.count, limit: Int(Limits.maxMessagePayloadSize))
        }
        do {
            try core.enqueue(OutgoingFrame(type: .payload, payload: payload, fds: attachments))
        } catch {
            Descriptor.closeAll(attachments)
            throw error
        }
    }

    /// Blocks until the send queue is empty (everything handed to the kernel) or the IO thread stopped.
    /// Returns false on timeout or when frames were left unsent.
    @discardableResult
    public func flush(timeout: Duration? = nil) -> Bool {
        let result = core.wait(deadline: timeout.map(DispatchTime.deadline(after:))) { state -> Bool? in
            if state.sendQueue.isEmpty { return true }
            if state.ioThreadFinished { return false }
            return nil
        }
        return result ?? false
    }

    // MARK: Receiving

    /// The next message, or EOF once every message before it was returned (EOF repeats on later calls).
    /// Blocks up to `timeout` (forever when nil).
    public func receive(timeout: Duration? = nil) -> IncomingEvent {
        let event = core.wait(deadline: timeout.map(DispatchTime.deadline(after:))) { state -> IncomingEvent? in
            if let message = state.incoming.popFirst() { return .message(payload: message.payload, fds: message.fds) }
            if let eof = state.eof { return .eof(eof) }
            if state.released { return .released }
            return nil
        }
        return event ?? .timedOut
    }

    /// Everything received so far without blocking, and the EOF if it was published after those messages.
    public func receiveAll() -> IncomingBatch {
        core.state.withLock { state in
            IncomingBatch(messages: state.incoming.removeAll(), eof: state.eof, released: state.released)
        }
    }

    // MARK: Ending

    /// Stops the IO thread at once, closes the socket (the peer sees EOF) and the retained fds, and
    /// publishes `.localClose` unless an EOF was already published. Queued messages stay receivable.
    public func close() {
        end(mode: .immediately)
    }

    /// Sends everything queued (while still reading and acknowledging), then closes like `close()`.
    /// Blocks until the queue is empty, so a peer that never reads keeps it waiting.
    public func closeAfterSendingAllPendingMessages() {
        end(mode: .sendPendingThenStop)
    }

    /// Hands the socket off (Ladybird's `release_for_transfer`): refuses further sends, flushes the queue
    /// (pending acks included) while still reading, stops the IO thread and returns the fd unclosed.
    /// No EOF is published; `receive` returns the remaining messages, then `.released`.
    /// Retained fds are dropped (closed) with this object, so a late ack reaches the new owner as an over-ack
    /// (docs/protocol.md §1.5 caveat); partial frames and unmatched fds are lost (§6).
    public func releaseForTransfer() throws(TransportError) -> Int32 {
        try lifecycle.withLock { (lifecycle) throws(TransportError) -> Int32 in
            guard lifecycle == .open else { throw .notOpen }
            core.update { state in state.releasing = true }
            core.requestStop(.sendPendingThenStop)
            ioThread.join()
            core.closeOwnedFDs(includingIncoming: false)
            core.update { state in state.released = true }
            lifecycle = .released
            guard let socket = core.socketOwner.release() else { throw .notOpen }
            return socket
        }
    }

    private func end(mode: StopMode) {
        lifecycle.withLock { lifecycle in
            guard lifecycle == .open else { return }
            if mode == .immediately { core.update { state in state.closing = true } }
            core.requestStop(mode)
            ioThread.join()
            core.socketOwner.drop()
            core.closeOwnedFDs(includingIncoming: false)
            core.update { state in
                state.closing = true
                if state.eof == nil { state.eof = .localClose }
            }
            lifecycle = .closed
        }
    }
}

/// What ``IPCTransport/makePair(limits:)`` makes: the transport, and the socket connected to it.
@frozen public struct TransportPair: ~Copyable, Sendable {
    public var transport: IPCTransport
    public var peer: OwnedFD

    public init(transport: IPCTransport, peer: consuming OwnedFD) {
        self.transport = transport
        self.peer = peer
    }
}
