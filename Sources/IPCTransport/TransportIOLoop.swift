import Glibc
import IPCWire

/// The "IPC IO" thread's work: poll the socket and the wakeup pipe, read everything readable, parse, queue
/// acks, write queued chunks, and publish EOF after the last messages. Created on the IO thread itself, so
/// its buffers never cross threads.
final class TransportIOLoop {
    /// Bytes read before a pass stops to parse and publish, so a fast peer cannot starve writing or make
    /// a whole flood count as "unprocessed" (Ladybird reads until EAGAIN).
    static let maxBytesPerReadPass = 1 << 20
    /// Chunks written before going back to poll, so reading keeps up while a large queue drains.
    static let maxChunksPerWritePass = 256

    private let core: TransportCore
    private var parser: ReceiveParser
    private let readBuffer: UnsafeMutableRawBufferPointer
    private let writeBuffer: UnsafeMutableRawBufferPointer
    private let control = ControlMessageBuffer(maxFDs: Int(Limits.maxTransferFDs))

    init(core: TransportCore) {
        self.core = core
        parser = ReceiveParser(limits: core.limits)
        readBuffer = .allocate(byteCount: Limits.ioChunkSize, alignment: 16)
        writeBuffer = .allocate(byteCount: Limits.ioChunkSize, alignment: 16)
    }

    deinit {
        readBuffer.deallocate()
        writeBuffer.deallocate()
    }

    func run() {
        runUntilStopped()
        // Bytes of a partial frame and fds not yet matched die with the loop, as in Ladybird (§6).
        Descriptor.closeAll(parser.takeUnmatchedFDs())
        core.update { state in state.ioThreadFinished = true }
    }

    private func runUntilStopped() {
        var pollFDs = [
            pollfd(fd: core.socket, events: 0, revents: 0),
            pollfd(fd: core.wakeRead, events: Int16(POLLIN), revents: 0),
        ]
        while true {
            let (wantsWrite, stop) = core.state.withLock { state in (!state.sendQueue.isEmpty, state.stopRequest) }
            switch stop {
            case .immediately?: return
            case .sendPendingThenStop?: if !wantsWrite { return }
            case nil: break
            }

            pollFDs[0].events = Int16(POLLIN) | (wantsWrite ? Int16(POLLOUT) : 0)
            pollFDs[0].revents = 0
            pollFDs[1].revents = 0
            do throws(SystemError) {
                _ = try retryingOnInterrupt("poll") { poll(&pollFDs, 2, -1) }
            } catch {
                _ = readAndPublish(finalEOF: .socketError(error))
                return
            }
            if pollFDs[1].revents != 0 { drainWakePipe() }

            let events = Int32(pollFDs[0].revents)
            if events & Int32(POLLNVAL) != 0 {
                publish(ParsedBatch(), eof: .socketError(SystemError(errno: EBADF, operation: "poll (POLLNVAL)")))
                return
            }
            if events & Int32(POLLIN | POLLHUP | POLLERR) != 0 {
                var finalEOF: EOFReason?
                if events & Int32(POLLERR) != 0 {
                    let pending = SocketOptions.pendingError(core.socket)
                    finalEOF = .socketError(SystemError(errno: pending == 0 ? EIO : pending, operation: "poll (POLLERR)"))
                } else if events & Int32(POLLHUP) != 0 {
                    finalEOF = .hangUp
                }
                if readAndPublish(finalEOF: finalEOF) { return }
            }
            if wantsWrite, events & Int32(POLLOUT) != 0, let failure = writeQueuedChunks() {
                // Deliver what already arrived before reporting the failure.
                _ = readAndPublish(finalEOF: failure)
                return
            }
        }
    }

    private func drainWakePipe() {
        var scratch = [UInt8](repeating: 0, count: 64)
        while read(core.wakeRead, &scratch, scratch.count) > 0 {}
    }

    // MARK: Reading

    /// One read pass: `recvmsg` until EAGAIN (or the per-pass cap), then parse and publish.
    /// With `finalEOF` it drains completely and always ends the connection. Returns true when EOF was reached.
    private func readAndPublish(finalEOF: EOFReason?) -> Bool {
        var eof: EOFReason?
        var bytesThisPass = 0
        reading: while true {
            let chunk: ReceivedChunk
            do {
                chunk = try SocketMessaging.receiveMessage(core.socket, into: readBuffer, control: control)
            } catch {
                if !error.isWouldBlock { eof = .socketError(error) }
                break reading
            }
            if chunk.byteCount == 0, chunk.fds.isEmpty {
                eof = .peerClosed
                break reading
            }
            let bytes = UnsafeRawBufferPointer(rebasing: readBuffer[0..<chunk.byteCount])
            if let violation = parser.accept(bytes, fds: chunk.fds) {
                eof = .violation(violation)
                break reading
            }
            if chunk.controlTruncated {
                // More fds in one sendmsg than any LibIPC sender uses: the kernel dropped the rest, so fd
                // matching is off from here on. Frames before this point (possibly in this very read) still count.
                eof = .violation(parser.violationHere(
                    .tooManyFDsInOneSend, limit: Limits.maxTransferFDs, observed: Limits.maxTransferFDs + 1))
                break reading
            }
            bytesThisPass += chunk.byteCount
            if finalEOF == nil, bytesThisPass >= Self.maxBytesPerReadPass { break reading }
        }

        let batch = parser.parse()
        if let violation = batch.violation { eof = .violation(violation) }  // earlier in the stream
        return publish(batch, eof: eof ?? finalEOF)
    }

    /// Delivers a batch, applies its acks, queues our ack, and publishes EOF — all in one critical section
    /// so a consumer sees every message before the EOF. Returns true when the connection ended.
    @discardableResult
    private func publish(_ batch: ParsedBatch, eof: EOFReason?) -> Bool {
        let stats = core.statistics
        return core.update { state -> Bool in
            var eof = eof
            // Counters first, so nobody can take a message the statistics do not show yet.
            stats.messagesReceived.add(batch.messages.count)
            stats.payloadBytesReceived.add(batch.messages.reduce(0) { $0 + $1.payload.count })
            stats.fdsReceived.add(batch.messages.reduce(0) { $0 + $1.fds.count })
            stats.acknowledgementsReceived.add(batch.acknowledgementFrames)
            state.incoming.append(contentsOf: batch.messages)
            if batch.acknowledgedFDCount > 0 {
                switch state.retained.acknowledge(batch.acknowledgedFDCount) {
                case .release(let fds):
                    // Closed before the counters move, so "0 retained" really means closed.
                    Descriptor.closeAll(fds)
                    stats.fdsAcknowledgedByPeer.add(fds.count)
                    stats.retainedFDs.add(-fds.count)
                case .overAcknowledged(let outstanding):
                    eof = eof ?? .peerOverAcknowledged(
                        acknowledged: UInt64(batch.acknowledgedFDCount), outstanding: UInt64(outstanding))
                }
            }
            if batch.receivedFDCount > 0, eof == nil {
                state.sendQueue.enqueue(.acknowledgement(count: batch.receivedFDCount))
            }
            if let eof {
                // A transport being transferred never reports EOF; its new owner will see the hang-up.
                if !state.releasing, state.eof == nil { state.eof = eof }
                return true
            }
            return false
        }
    }

    // MARK: Writing

    /// Writes queued chunks until EAGAIN, an empty queue or the per-pass cap. Returns the error that
    /// ended the connection, if any.
    private func writeQueuedChunks() -> EOFReason? {
        for _ in 0..<Self.maxChunksPerWritePass {
            let chunk = core.state.withLock { state in state.sendQueue.peek(into: writeBuffer) }
            guard chunk.byteCount > 0 else { return nil }
            let written: Int
            do {
                let bytes = UnsafeRawBufferPointer(rebasing: writeBuffer[0..<chunk.byteCount])
                written = try SocketMessaging.sendMessage(core.socket, bytes: bytes, fds: chunk.fds)
            } catch {
                return error.isWouldBlock ? nil : .socketError(error)
            }
            guard written > 0 else { return nil }
            let stats = core.statistics
            let drained = core.state.withLock { state -> Bool in
                let completed = state.sendQueue.consume(written, of: chunk)
                if !chunk.fds.isEmpty { state.retained.markSent(chunk.fds.count) }
                stats.fdsSent.add(chunk.fds.count)
                stats.messagesSent.add(completed.payloadFrames)
                stats.payloadBytesSent.add(completed.payloadBytes)
                stats.acknowledgementsSent.add(completed.acknowledgementFrames)
                return state.sendQueue.isEmpty
            }
            if drained {
                core.update { _ in }  // wake flush() waiters
                return nil
            }
        }
        return nil
    }
}
