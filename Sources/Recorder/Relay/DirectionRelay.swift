import CSystemShims
import Glibc
import IPCTransport
import IPCWire
import TraceFormat

/// Relays one direction of a channel: reads what the sender wrote, parses it, reports events, and
/// forwards the same bytes with the same fds to the receiver.
///
/// Blocking reads and writes on a dedicated thread give backpressure for free: when the receiver stops
/// reading, the write waits, this thread stops reading, and the sender's own writes block — the proxy
/// holds at most one buffer per direction, and the other direction runs on its own thread untouched.
///
/// This thread is also what notices that its sender closed completely (``ChannelHangUps``): at the EOF it
/// reads, or, while its write waits for room, in the poll it waits in (``waitForRoom()``).
struct DirectionRelay {
    struct Configuration: Sendable {
        /// The most one read takes: inside a large frame's payload.
        var bufferSize = 256 * 1024
        /// The most one read takes otherwise. Streams of small frames relay faster in smaller reads —
        /// a 32 KiB chunk stays in the L1 cache while it is parsed and forwarded (docs/benchmarks.md) —
        /// and large payloads faster in larger ones. A stream whose frames average at least this much
        /// reads large at frame boundaries too (the next frame is most likely large as well).
        var smallReadSize = 32 * 1024
        var parser = FrameStreamParser.Configuration()
        /// Where counting starts: after frames recovered from a transfer (RecordingSession.followTransfer).
        var firstFrameIndex: UInt64 = 0
        var firstStreamOffset: UInt64 = 0
        /// SO_SNDBUF for the destination once the frames are large (RelayedChannel.deepSendQueue); nil: never.
        var deepSendQueue: Int32?
    }

    let source: Int32
    let destination: Int32
    let direction: Direction
    let channel: ChannelShared
    let hangUps: ChannelHangUps
    /// For events from helper threads; the relay thread reports through `recorder`.
    let sink: any RelayEventSink
    let configuration: Configuration

    private let recorder: any DirectionEventRecorder

    /// The frames completed by the last read that completed any averaged at least `smallReadSize`.
    private var framesAreLarge = false
    private var deepenedSendQueue = false
    private var parser: FrameStreamParser
    private var classifier: DirectionClassifier
    private var fdDescriptions = FDDescriptionQueue()
    /// This direction's queue depths, sampled on the sampler's thread too (QueueSampling.swift).
    private let gauge: QueueGauge
    private var delivery = FrameDeliveryTracker()
    /// Bytes of the current chunk, and how many of them are written to the receiver so far.
    private var chunkLength = 0
    private var chunkWritten = 0
    private var credentials = CredentialForwarding()
    /// Control data of every forwarding write: SCM_CREDENTIALS and up to 253 fds, built without allocating.
    private let sendControl = ControlMessageBuffer(maxFDs: 253, credentials: true)

    init(source: Int32, destination: Int32, direction: Direction, channel: ChannelShared,
         hangUps: ChannelHangUps, sink: any RelayEventSink, configuration: Configuration) {
        self.source = source
        self.destination = destination
        self.direction = direction
        self.channel = channel
        self.hangUps = hangUps
        self.sink = sink
        self.configuration = configuration
        recorder = sink.directionRecorder(channel: channel.id, direction: direction)
        parser = FrameStreamParser(configuration: configuration.parser)
        parser.startCounting(atFrame: configuration.firstFrameIndex, streamOffset: configuration.firstStreamOffset)
        classifier = DirectionClassifier(mode: channel.classification.mode)
        gauge = QueueGauge(channel: channel, direction: direction, destination: destination, sink: sink)
    }

    /// Runs until the sender closes, either side fails, or the channel stops.
    mutating func run() {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: configuration.bufferSize, alignment: 16)
        defer { buffer.deallocate() }
        // Room for the kernel's maximum (SCM_MAX_FD): a hostile sender's extra fds are forwarded too. And
        // for the writer's credentials before them (RelayedChannel sets SO_PASSCRED on both proxy ends).
        let control = ControlMessageBuffer(maxFDs: 253, credentials: true)
        let end: EndOfStream
        let sender = ChannelSide.sender(of: direction)
        QueueSampler.shared.add(gauge)
        while true {
            if hangUps.readsWereShut(from: sender) {
                // The receiver closed while the sender was still sending: what the sender writes can never
                // be delivered. It stays unread in our socket, so closing that socket resets the sender as
                // the receiver's close would have (unread data there means ECONNRESET).
                end = receiverClosed()
                break
            }
            let readsLarge = framesAreLarge || parser.remainingPayloadBytes > UInt64(configuration.smallReadSize)
            let readSize = boundedByForeignFDs(
                readsLarge ? buffer.count : min(buffer.count, configuration.smallReadSize), scratch: buffer)
            let chunk: ReceivedChunk
            do {
                chunk = try SocketMessaging.receiveMessage(
                    source, into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<readSize]), control: control,
                    flags: Int32(MSG_NOSIGNAL | MSG_CMSG_CLOEXEC))
            } catch {
                end = endOfStream(reading: error)
                break
            }
            if chunk.byteCount == 0 && chunk.fds.isEmpty {
                // After the receiver's close this EOF can be our own shutdown of the source, not the sender's.
                end = hangUps.readsWereShut(from: sender) ? receiverClosed() : endOfStream(closedAt: TraceClock.monotonicNanoseconds())
                break
            }
            let bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<chunk.byteCount])
            identifySides(writer: chunk.credentials?.pid)
            let firstPosition = parser.fdsReceived
            gauge.chunkRead(bytes: chunk.byteCount)
            // The last chunk's delivery, unless the sampler published it while this thread waited: it goes
            // in this chunk's batch, so a busy direction costs no submit of its own for it.
            if let pending = gauge.takeDelivery() { recorder.record(time: pending.time, .framesDelivered(pending.frames)) }
            chunkLength = chunk.byteCount
            chunkWritten = 0
            let transfers = parse(bytes, fds: chunk.fds)
            gauge.receiverModel(unprocessedBytes: parser.unprocessedBytes, unmatchedFDs: parser.unmatchedFDs)
            // The chunk's records are published before its bytes go on, so a reply never precedes them.
            recorder.flush()
            let split = parser.fdPlacementInLastChunk ?? 0
            let (outgoing, toClose) = followTransfers(chunk.fds, firstPosition: firstPosition, origins: transfers)
            let forwarded = forward(bytes, fds: outgoing, fdsAt: split, writer: chunk.credentials)
            gauge.holding(chunkLength - chunkWritten)
            Descriptor.closeAll(toClose)
            if let delivered = delivery.written(chunkWritten) {
                gauge.offerDelivery(delivered, time: TraceClock.monotonicNanoseconds())
            }
            if let failure = forwarded {
                // The receiver is gone. Refuse further input so the sender sees EPIPE, as it would directly.
                shutdown(source, Int32(SHUT_RD))
                end = EndOfStream(kind: .failedCall(errno: failure.errno), errno: failure.errno,
                                  incompleteFrameBytes: parser.incompleteFrameBytes)
                break
            }
        }
        if !hangUps.checkHungUp(sender) {
            // Half-close: the receiver sees EOF exactly when it would have without the proxy.
            shutdown(destination, Int32(SHUT_WR))
        }
        // Else the sender closed completely and the other direction is ending too (its reads were shut),
        // so the channel closes the destination next. Closing it instead of half-closing it first gives
        // the receiver EOF and, when it had written data the proxy left unread, ECONNRESET in one step,
        // as the sender's own close would have — never a plain EOF first.
        var ending = end
        if let missing = reportFramesStillWaitingForFDs(), ending.likelyCause == nil {
            ending.likelyCause = missing
        }
        if let pending = gauge.takeDelivery() { recorder.record(time: pending.time, .framesDelivered(pending.frames)) }
        recorder.flush()
        // The last sample, before the EOF; none after it (the channel closes this direction's fds later).
        gauge.retire()
        QueueSampler.shared.remove(gauge)
        recorder.record(time: TraceClock.monotonicNanoseconds(), .endOfStream(ending))
        recorder.flush()
    }

    /// Records the frames whose last byte the writes so far put in the receiver's socket, if any are new.
    private mutating func recordDelivered() {
        guard let delivered = delivery.written(chunkWritten) else { return }
        recorder.record(time: TraceClock.monotonicNanoseconds(), .framesDelivered(delivered))
    }

    // MARK: Parsing

    /// Parses the chunk and reports its events. Returns, for each fd position holding a transport to
    /// follow, the frame that carries it (and what that frame hands over with it).
    private mutating func parse(_ bytes: UnsafeRawBufferPointer, fds: [Int32]) -> TransferCarriers {
        channel.relayedTraffic.count(direction, bytes: bytes.count, fds: fds.count)
        classifier.foreignReads.noteRead(fdCount: fds.count)
        let step = classifier.step(bytes, direction: direction, channel: channel)
        if step == .stopParsing {
            // Not LibIPC: forget what the tentative parse saw, so nothing of it shapes the relay.
            parser = FrameStreamParser(configuration: configuration.parser)
            fdDescriptions = FDDescriptionQueue()
            delivery.restart()
        }
        if step == .stopParsing || step == .skip { return TransferCarriers() }
        // Undecided: only the first few bytes get here, so only read- and header-level violations.
        let tentative = step == .parseTentatively
        var held: [Violation] = []
        var origins: [UInt64: UInt64] = [:]
        var handedOver: [UInt64: [[UInt8]]] = [:]
        var frames: UInt64 = 0
        var frameBytes: UInt64 = 0
        var frameFDs: UInt64 = 0
        for fd in fds { fdDescriptions.append(describe(fd)) }
        let time = TraceClock.monotonicNanoseconds()
        let channel = channel
        let direction = direction
        let recorder = recorder
        // Read once per chunk, not per frame: fixed for the channel's life.
        let inspector = channel.inspector
        // Moved out (not copied) so the closure can mutate it without copying its storage.
        var queue = FDDescriptionQueue()
        swap(&queue, &fdDescriptions)
        var delivery = FrameDeliveryTracker()
        swap(&delivery, &self.delivery)
        delivery.beginChunk(at: parser.streamOffset, length: bytes.count)
        parser.feed(bytes, fdCount: fds.count) { event in
            switch event {
            case .payload(let frame):
                delivery.frameCompleted(index: frame.frameIndex, end: frame.streamOffset &+ UInt64(FrameHeader.size)
                                            &+ UInt64(frame.header.payloadSize))
                frames += 1
                frameBytes += UInt64(frame.header.payloadSize) + UInt64(FrameHeader.size)
                if frame.header.fdCount > 0 { channel.recordSentFDs(frame.header.fdCount, direction: direction) }
                // Only the fds that have arrived: any others are reported when they come (lateFDs).
                let described = queue.take(frame.arrivedFDSequence)
                if !described.isEmpty {
                    frameFDs += UInt64(described.count)
                    Self.noteSockets(described, from: frame.arrivedFDSequence.lowerBound, frameIndex: frame.frameIndex,
                                     channel: channel, direction: direction, origins: &origins)
                }
                recorder.record(time: time, .payload(frame, fds: described))
                if let inspector {
                    let inspection = inspector.inspect(frame)
                    channel.recordMessage(kind: inspection.kind, direction: direction)
                    if let name = inspection.endpointName, let kind = inspection.kind {
                        // A request or async message is for the receiver's endpoint; a response comes from it.
                        let side = kind == .response ? ChannelSide.sender(of: direction) : ChannelSide.receiver(of: direction)
                        if channel.shouldLearn(side, from: .schema) {
                            recorder.record(time: time, .endpointIdentified(EndpointIdentity(side: side, endpointName: name)))
                        }
                    }
                    if let violation = inspection.violation {
                        Self.report(violation, time: time, channel: channel, direction: direction, recorder: recorder)
                    }
                    if let messages = inspection.handedOverMessages {
                        let position = frame.arrivedFDSequence.lowerBound + UInt64(messages.attachmentIndex)
                        if frame.arrivedFDSequence.contains(position) { handedOver[position] = messages.payloads }
                    }
                }
            case .lateFDs(let late):
                let described = queue.take(late.fdSequence)
                frameFDs += UInt64(described.count)
                Self.noteSockets(described, from: late.fdSequence.lowerBound, frameIndex: late.frameIndex,
                                 channel: channel, direction: direction, origins: &origins)
                recorder.record(time: time, .lateFDs(frameIndex: late.frameIndex, fds: described))
            case .unknownFrame(let frame):
                recorder.record(time: time, .unknownFrame(frame))
            case .acknowledgement(let ack):
                delivery.frameCompleted(index: ack.frameIndex, end: ack.streamOffset &+ UInt64(FrameHeader.size)
                                            &+ UInt64(ack.header.payloadSize))
                recorder.record(time: time, .acknowledgement(ack))
                if let overAcknowledged = channel.recordAcknowledgement(ack, direction: direction) {
                    Self.report(overAcknowledged, time: time, channel: channel, direction: direction, recorder: recorder)
                }
            case .violation(let violation) where tentative:
                held.append(violation)
            case .violation(let violation):
                Self.report(violation, time: time, channel: channel, direction: direction, recorder: recorder)
            }
        }
        for violation in held.isEmpty ? [] : channel.classification.hold(held, direction: direction, time: time) {
            Self.report(violation, time: time, channel: channel, direction: direction, recorder: recorder)
        }
        fdDescriptions = queue
        self.delivery = delivery
        if frames > 0 || frameFDs > 0 {
            recorder.record(time: time, .chunkTotals(frames: frames, bytes: frameBytes, fds: frameFDs))
        }
        if frames > 0 {
            framesAreLarge = frameBytes / frames >= UInt64(configuration.smallReadSize)
            if framesAreLarge, let size = configuration.deepSendQueue, !deepenedSendQueue {
                deepenedSendQueue = true
                // Best effort, like LibIPC's own buffer sizes: without it the relay is only slower.
                do { try SocketOptions.setSendBufferSize(destination, size) } catch {}
            }
        }
        return TransferCarriers(origins: origins, handedOver: handedOver)
    }

    /// Per fd position of a chunk: the frame carrying a transport to follow, and the messages of that
    /// transport its previous owner had read, sent along in that frame.
    struct TransferCarriers {
        var origins: [UInt64: UInt64] = [:]
        var handedOver: [UInt64: [[UInt8]]] = [:]
    }

    /// Records a violation and notes it on the channel, where an EOF shortly after looks for its likely cause.
    private static func report(
        _ violation: Violation, time: UInt64, channel: ChannelShared, direction: Direction,
        recorder: any DirectionEventRecorder
    ) {
        channel.noteViolation(violation, direction: direction, time: time)
        recorder.record(time: time, .violation(violation))
    }

    /// Notes, for the sockets among a frame's fds, which frame carried them: a transport to follow is
    /// opened with that frame as its origin; a relayed channel's end gets a channel-transferred record.
    private static func noteSockets(
        _ fds: [RelayedFD], from firstPosition: UInt64, frameIndex: UInt64, channel: ChannelShared,
        direction: Direction, origins: inout [UInt64: UInt64]
    ) {
        for (offset, fd) in fds.enumerated() where fd.kind == .socket {
            if fd.interposed {
                origins[firstPosition + UInt64(offset)] = frameIndex
            } else if let follower = channel.follower, follower.isRelayed(inode: fd.inode) {
                follower.noteCarried(inode: fd.inode, by: channel.id, direction: direction, frameIndex: frameIndex)
            }
        }
    }

    /// On a channel not known to be LibIPC, reads are sized so that fds stay with the byte they were sent
    /// with (ForeignStreamReads).
    private mutating func boundedByForeignFDs(_ readSize: Int, scratch: UnsafeMutableRawBufferPointer) -> Int {
        classifier.isLibIPC ? readSize : classifier.foreignReads.readLimit(source, within: readSize, scratch: scratch)
    }

    /// Identifies the sending side's process when that side first sends (again after its socket
    /// travelled) — the writer the kernel names in the chunk's credentials — and looks up, off the relay
    /// thread, which process holds the receiver's socket when it is not known yet (EndpointLookup.swift).
    /// Two relaxed loads per chunk once both are known.
    private func identifySides(writer: Int32?) {
        let sender = ChannelSide.sender(of: direction)
        let lookups = channel.holderLookups(forChunkFrom: sender)
        if lookups.sender {
            channel.lookUpHolder(of: sender, bySending: true, afterTransfer: lookups.senderTravelled,
                                 writer: writer, direction: direction, sink: sink)
        }
        if lookups.receiver {
            channel.lookUpHolder(of: ChannelSide.receiver(of: direction), bySending: false, afterTransfer: false,
                                 direction: direction, sink: sink)
        }
    }

    /// What the trace says about an fd; a transport to follow is marked as interposed.
    private func describe(_ fd: Int32) -> RelayedFD {
        guard let info = try? Descriptor.info(fd) else { return .unknown }
        let sized = info.kind == .regularFile || info.kind == .memfd
        var described = RelayedFD(kind: info.kind, inode: info.inode, size: sized ? info.size : 0)
        described.interposed = isTransportToFollow(fd, info)
        return described
    }

    private func isTransportToFollow(_ fd: Int32, _ info: DescriptorInfo) -> Bool {
        // A socket sent over a channel that is not (known to be) LibIPC is no transport to follow.
        guard info.kind == .socket, channel.classification.isLibIPC, let follower = channel.follower,
              !follower.isRelayed(inode: info.inode) else {
            return false
        }
        return SocketOptions.isUnixStream(fd)
    }

    /// The fds to forward — transports to follow replaced by interposed ends — and the fds to close after.
    ///
    /// Raw numbers, not ``OwnedFD``s: a chunk's fds are an array (up to 253), which a non-copyable value
    /// cannot be an element of, and wrapping each would cost the hot path. They have one owner, this
    /// relay, and one close path: `run()` closes `toClose` after forwarding — every received fd and every
    /// interposed end, whether the write succeeded or not. A follower only borrows the fd it follows.
    private func followTransfers(
        _ fds: [Int32], firstPosition: UInt64, origins carriers: TransferCarriers
    ) -> (outgoing: [Int32], toClose: [Int32]) {
        guard let follower = channel.follower, !fds.isEmpty else { return (fds, fds) }
        var outgoing = fds
        var toClose = fds
        for (index, fd) in fds.enumerated() {
            let position = firstPosition + UInt64(index)
            guard let info = try? Descriptor.info(fd), isTransportToFollow(fd, info),
                  let replacement = follower.follow(socket: fd, from: channel.id, direction: direction,
                                                    frameIndex: carriers.origins[position],
                                                    handedOver: carriers.handedOver[position] ?? []) else { continue }
            let interposed = replacement.release()  // owned by `toClose` from here
            outgoing[index] = interposed
            toClose.append(interposed)
        }
        return (outgoing, toClose)
    }

    // MARK: Forwarding

    /// Writes all of `bytes`, the fds attached at offset `fdsAt` (the first byte of the frame that claims
    /// them, as LibIPC's sender groups them), each write with the `writer`'s credentials where the kernel
    /// allows. Returns the error that stopped it, if any.
    private mutating func forward(
        _ bytes: UnsafeRawBufferPointer, fds: [Int32], fdsAt split: Int, writer: Credentials?
    ) -> SystemError? {
        let split = fds.isEmpty ? bytes.count : min(max(0, split), bytes.count)
        var claim = credentials.claim(for: writer)
        do {
            try writeAll(UnsafeRawBufferPointer(rebasing: bytes[0..<split]), fds: [], claim: &claim)
            if !fds.isEmpty {
                try writeAll(UnsafeRawBufferPointer(rebasing: bytes[split...]), fds: fds, claim: &claim)
            }
            return nil
        } catch {
            return error
        }
    }

    /// `claim` becomes nil when the kernel refuses it, so the chunk's later writes do not ask again.
    private mutating func writeAll(
        _ bytes: UnsafeRawBufferPointer, fds: [Int32], claim: inout Credentials?
    ) throws(SystemError) {
        var offset = 0
        var pendingFDs = fds
        while offset < bytes.count || !pendingFDs.isEmpty {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            guard !rest.isEmpty else {
                // Fds with no bytes left to carry them cannot happen: fds always arrive with data.
                return
            }
            // Never blocks in the kernel: a full receiver is the slow path, where the sender is watched too.
            let flags = Int32(MSG_NOSIGNAL | MSG_DONTWAIT)
            do {
                do {
                    let sent = try SocketMessaging.sendMessage(destination, bytes: rest, fds: pendingFDs, credentials: claim,
                                                               control: sendControl, flags: flags)
                    offset += sent
                    chunkWritten += sent
                } catch let error where claim != nil && CredentialForwarding.mayBeRefusal(error.errno) {
                    // A refused claim sends nothing. The same write without one decides: if it fails too, the
                    // claim was not the cause and its error ends the direction as before.
                    let sent = try SocketMessaging.sendMessage(destination, bytes: rest, fds: pendingFDs, credentials: nil,
                                                               control: sendControl, flags: flags)
                    offset += sent
                    chunkWritten += sent
                    if let claimed = claim, let loss = credentials.refused(claimed, errno: error.errno) {
                        recorder.record(time: TraceClock.monotonicNanoseconds(), .credentialsNotPreserved(loss))
                        recorder.flush()
                    }
                    claim = nil
                }
            } catch let error where error.errno == EAGAIN {
                // Held here until the receiver reads: what the proxy holds is the part of the chunk not
                // yet written, so the queue series shows it while it is held; the frames written so far
                // are delivered now, not when the whole chunk is.
                // Sampled at once, not at the sampler's next tick: this runs once per wait for room, which
                // the kernel spaces out (it reports room when a quarter of the socket buffer is free).
                gauge.holding(chunkLength - chunkWritten)
                recordDelivered()
                recorder.flush()
                gauge.sample()
                waitForRoom()
                continue
            }
            pendingFDs = []
        }
    }

    /// The receiver's queue is full: waits until it has room or the receiver is gone (the next write says
    /// which). Meanwhile this thread reads nothing, so it watches its sender here: POLLHUP there means the
    /// sender closed completely, and the other program's writes must fail from now on, not when the
    /// receiver reads again. The sender's bytes already read are still delivered, so it keeps waiting.
    private func waitForRoom() {
        let sender = ChannelSide.sender(of: direction)
        // Events 0 on the source: only POLLHUP and POLLERR, which are always reported. A negative fd is
        // skipped, once the hang-up is handled (it stays reported).
        var entries = [pollfd(fd: destination, events: Int16(POLLOUT), revents: 0),
                       pollfd(fd: hangUps.hasHungUp(sender) ? -1 : source, events: 0, revents: 0)]
        while true {
            do {
                _ = try retryingOnInterrupt("poll") { poll(&entries, 2, -1) }
            } catch {
                return  // cannot happen with valid fds; the next write reports the socket's state
            }
            if entries[1].revents != 0 {
                // POLLERR alone cannot come from AF_UNIX without POLLHUP; either way it is reported once.
                if entries[1].revents & Int16(POLLHUP) != 0 { hangUps.programHungUp(sender) }
                entries[1].fd = -1
                entries[1].revents = 0
            }
            // POLLOUT, or POLLHUP/POLLERR: the receiver is gone.
            if entries[0].revents != 0 { return }
        }
    }

    // MARK: End of stream and queue depths

    /// At end of stream, frames still waiting for fds will never get them: reports each as `missing-fds`
    /// (held like any violation while the channel's protocol is undecided, dropped when it is not LibIPC).
    /// Returns the first recorded, which the EOF names as its likely cause.
    private mutating func reportFramesStillWaitingForFDs() -> Violation? {
        var found: [Violation] = []
        parser.finish { event in
            if case .violation(let violation) = event { found.append(violation) }
        }
        guard !found.isEmpty else { return nil }
        let time = TraceClock.monotonicNanoseconds()
        let toRecord = classifier.isLibIPC ? found : channel.classification.hold(found, direction: direction, time: time)
        for violation in toRecord {
            Self.report(violation, time: time, channel: channel, direction: direction, recorder: recorder)
        }
        return toRecord.first
    }

    /// The direction ended because its receiver closed: the sender's writes now fail with EPIPE.
    private func receiverClosed() -> EndOfStream {
        if channel.stopping.load(ordering: .relaxed) {
            return EndOfStream(kind: .ipcscopeStopped, incompleteFrameBytes: parser.incompleteFrameBytes)
        }
        return EndOfStream(kind: .reset, errno: EPIPE, incompleteFrameBytes: parser.incompleteFrameBytes)
    }

    private func endOfStream(reading error: SystemError) -> EndOfStream {
        if channel.stopping.load(ordering: .relaxed) {
            return EndOfStream(kind: .ipcscopeStopped, incompleteFrameBytes: parser.incompleteFrameBytes)
        }
        return EndOfStream(kind: .failedCall(errno: error.errno), errno: error.errno,
                           likelyCause: channel.likelyCause(ofClosing: direction, at: TraceClock.monotonicNanoseconds()),
                           incompleteFrameBytes: parser.incompleteFrameBytes)
    }

    private func endOfStream(closedAt time: UInt64) -> EndOfStream {
        if channel.stopping.load(ordering: .relaxed) {
            return EndOfStream(kind: .ipcscopeStopped, incompleteFrameBytes: parser.incompleteFrameBytes)
        }
        return EndOfStream(kind: .peerClosed, likelyCause: channel.likelyCause(ofClosing: direction, at: time),
                           incompleteFrameBytes: parser.incompleteFrameBytes)
    }
}
