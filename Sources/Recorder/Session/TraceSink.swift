import IPCTransport
import IPCWire
import Synchronization
import TraceFormat

/// Turns relay events into trace records.
///
/// The relay must never wait on the disk, so capture degrades before traffic does: past half the writer's
/// queue budget payload bytes are dropped (frames are still recorded, with their true length), and a
/// record the writer refuses is counted. Both become capture-loss records as soon as the writer has room.
/// In lossless mode it waits for room instead, which slows the relay down to the disk's pace — but never
/// after a write failure: the writer then refuses everything at once.
final class TraceSink: RelayEventSink {
    let writer: TraceWriter
    let lossless: Bool
    let statistics = RecordingStatistics()
    private let pendingLosses = Mutex<[LossKey: (frames: UInt64, bytes: UInt64)]>([:])
    /// What each channel's sides are known as so far, merged as facts arrive (endpoint-resolved records).
    private let endpoints = Mutex<[ChannelID: [ChannelEndpoint]]>([:])
    private let hasPendingLosses = Atomic<Bool>(false)

    private struct LossKey: Hashable {
        var channel: ChannelID
        var direction: Direction
        var reason: String
    }

    init(writer: TraceWriter, lossless: Bool) {
        self.writer = writer
        self.lossless = lossless
    }

    private var degradeThreshold: Int { writer.options.queueBudgetBytes / 2 }

    func channelOpened(_ channel: ChannelID, endpointA: ChannelEndpoint, endpointB: ChannelEndpoint) {
        endpoints.withLock { $0[channel] = [endpointA, endpointB] }
    }

    func channelClosed(_ channel: ChannelID) {
        endpoints.withLock { _ = $0.removeValue(forKey: channel) }
    }

    private func resolve(_ identity: EndpointIdentity, channel: ChannelID, time: UInt64) {
        let merged: ChannelEndpoint? = endpoints.withLock { known in
            guard var sides = known[channel] else { return nil }
            var endpoint = sides[Int(identity.side.rawValue)]
            if let name = identity.endpointName { endpoint.name = name }
            if let pid = identity.pid { endpoint.pid = pid }
            if let command = identity.command { endpoint.command = command }
            sides[Int(identity.side.rawValue)] = endpoint
            known[channel] = sides
            return endpoint
        }
        guard let merged else { return }
        writer.submit(.endpointResolved(EndpointResolvedRecord(
            time: time, channel: channel, side: identity.side == .a ? .a : .b, endpoint: merged)), waitForRoom: true)
    }

    func directionRecorder(channel: ChannelID, direction: Direction) -> any DirectionEventRecorder {
        TraceDirectionRecorder(sink: self, channel: channel, direction: direction)
    }

    func channelClassified(_ channel: ChannelID, time: UInt64, _ classification: ChannelClassification) {
        if classification.channelProtocol == .notLibIPC { statistics.notLibIPCChannels.add(1, ordering: .relaxed) }
        writer.submit(.channelClassified(ChannelClassifiedRecord(
            time: time, channel: channel, channelProtocol: classification.channelProtocol,
            decidedBy: classification.decidedBy, reason: classification.reason, evidence: classification.evidence)),
            waitForRoom: true)
    }

    func record(channel: ChannelID, direction: Direction, time: UInt64, _ event: RelayEvent) {
        switch event {
        case .payload, .acknowledgement, .lateFDs, .queueDepths, .chunkTotals, .framesDelivered:
            // Off the relay threads' fast path (they batch through their recorders): a batch of its own.
            let batch = writer.makeBatch()
            var state = BatchState()
            _ = append(event, channel: channel, direction: direction, time: time, to: batch, state: &state)
            submit(batch, state: &state, channel: channel, direction: direction)
        case .violation(let violation):
            if violation.severity == .violation { statistics.violations.add(1, ordering: .relaxed) }
            // Violations are what a user chases: they wait for room even when capture is degrading.
            writer.submit(.violation(ViolationRecord(time: time, channel: channel, direction: direction,
                                                     violation: violation)), waitForRoom: true)
        case .endpointIdentified(let identity):
            resolve(identity, channel: channel, time: time)
        case .credentialsNotPreserved(let loss):
            // Not in the trace: counted for the session's summary line.
            if loss.isRefusal {
                statistics.credentialsRefused.add(1, ordering: .relaxed)
            } else {
                statistics.credentialsOfExitedWriters.add(1, ordering: .relaxed)
            }
        case .endOfStream(let end):
            writer.submit(.eof(EOFRecord(
                time: time, channel: channel, direction: direction, kind: Self.eofKind(end.kind),
                errorNumber: end.errno, likelyCause: end.likelyCause?.kind.rawValue,
                likelyCauseFrameIndex: end.likelyCause?.frameIndex)), waitForRoom: true)
        }
    }

    /// What a batch has dropped so far, and whether it drops payload capture (decided at its first frame).
    struct BatchState {
        var degrading: Bool?
        var degradedFrames: UInt64 = 0
        var degradedBytes: UInt64 = 0
    }

    /// Encodes the high-volume events — frames, acks, queue samples — into `batch` (and counts chunk
    /// totals); returns false for the rest, which are recorded one by one.
    fileprivate func append(
        _ event: RelayEvent, channel: ChannelID, direction: Direction, time: UInt64, to batch: TraceBatch,
        state: inout BatchState
    ) -> Bool {
        switch event {
        case .payload(let frame, let fds):
            var captured = frame.capturedPayload
            if !lossless, captured.count > MessageEnvelope.size {
                let degrade = state.degrading ?? (writer.queuedBytes > degradeThreshold)
                state.degrading = degrade
                if degrade {
                    // Only the envelope is kept, so the frame stays identifiable (magic and message id).
                    // Counted as lost when the batch is accepted; a refused batch counts all its frames.
                    state.degradedFrames += 1
                    state.degradedBytes += UInt64(captured.count - MessageEnvelope.size)
                    captured = UnsafeRawBufferPointer(rebasing: captured.prefix(MessageEnvelope.size))
                }
            }
            let encoded = batch.appendPayloadFrame(
                time: time, channel: channel, direction: direction, frameIndex: frame.frameIndex,
                streamOffset: frame.streamOffset, header: frame.header, payload: captured,
                fds: fds.isEmpty ? [] : fds.map(Self.attachedFD))
            if !encoded {
                noteLoss(channel, direction, reason: CaptureLossRecord.Reason.writerBehind,
                         frames: 1, bytes: UInt64(frame.header.payloadSize))
            }
        case .lateFDs(let frameIndex, let fds):
            batch.append(.lateFDs(LateFDsRecord(
                time: time, channel: channel, direction: direction, frameIndex: frameIndex,
                fds: fds.map(Self.attachedFD))))
        case .acknowledgement(let ack):
            batch.append(.acknowledgement(AcknowledgementRecord(
                time: time, channel: channel, direction: direction, frameIndex: ack.frameIndex,
                streamOffset: ack.streamOffset, count: ack.count)))
        case .queueDepths(let depths):
            batch.append(.queueSample(QueueSampleRecord(
                time: time, channel: channel, direction: direction,
                proxyBufferedBytes: depths.proxyBufferedBytes,
                receiverUnreadBytes: depths.unreadByReceiverEstimate, receiverUnreadIsExact: false,
                unacknowledgedFDs: depths.unacknowledgedFDs, pendingSyncRequests: depths.pendingSyncRequests,
                receiverUnprocessedBytes: depths.receiverUnprocessedBytes,
                receiverUnmatchedFDs: depths.receiverUnmatchedFDs, notMeasured: depths.notMeasured)))
        case .framesDelivered(let delivered):
            batch.append(.framesDelivered(FramesDeliveredRecord(
                time: time, channel: channel, direction: direction, firstFrameIndex: delivered.first,
                lastFrameIndex: delivered.last)))
        case .chunkTotals(let frames, let bytes, let fds):
            statistics.frames.add(frames, ordering: .relaxed)
            statistics.bytes.add(bytes, ordering: .relaxed)
            statistics.fds.add(fds, ordering: .relaxed)
        case .violation, .endpointIdentified, .endOfStream, .credentialsNotPreserved:
            return false
        }
        return true
    }

    /// Hands `batch` to the writer and notes what it lost: the payloads it dropped, or every record when the
    /// writer refuses it (each frame counted once). Then writes the losses counted so far once the writer
    /// has caught up. Resets `state` for the next batch.
    fileprivate func submit(_ batch: TraceBatch, state: inout BatchState, channel: ChannelID, direction: Direction) {
        defer { state = BatchState() }
        guard !batch.isEmpty else { return }
        let records = batch.recordCount
        let payloadBytes = batch.payloadBytes
        if !writer.submit(batch, waitForRoom: lossless) {
            // After a write failure nothing more reaches the trace: that is reported as the failure
            // (and in the end record), not as the writer falling behind.
            guard !writer.hasFailed else { return }
            noteLoss(channel, direction, reason: CaptureLossRecord.Reason.writerBehind,
                     frames: UInt64(records), bytes: payloadBytes)
            return
        }
        if state.degradedFrames > 0 {
            noteLoss(channel, direction, reason: CaptureLossRecord.Reason.writerBehind,
                     frames: state.degradedFrames, bytes: state.degradedBytes)
        }
        if hasPendingLosses.load(ordering: .relaxed), writer.queuedBytes < degradeThreshold / 2 {
            flushLosses(time: TraceClock.monotonicNanoseconds())
        }
    }

    private func noteLoss(_ channel: ChannelID, _ direction: Direction, reason: String, frames: UInt64, bytes: UInt64) {
        statistics.framesWithLostCapture.add(frames, ordering: .relaxed)
        pendingLosses.withLock { losses in
            let key = LossKey(channel: channel, direction: direction, reason: reason)
            let current = losses[key] ?? (0, 0)
            losses[key] = (current.frames + frames, current.bytes + bytes)
        }
        hasPendingLosses.store(true, ordering: .relaxed)
    }

    /// Writes the capture losses counted so far (also called once at the end of the recording).
    func flushLosses(time: UInt64) {
        let losses = pendingLosses.withLock { losses in
            defer { losses.removeAll() }
            return losses
        }
        hasPendingLosses.store(false, ordering: .relaxed)
        for (key, loss) in losses.sorted(by: { ($0.key.channel, $0.key.direction.rawValue) < ($1.key.channel, $1.key.direction.rawValue) }) {
            writer.submit(.captureLoss(CaptureLossRecord(
                time: time, channel: key.channel, direction: key.direction, framesAffected: loss.frames,
                bytesNotCaptured: loss.bytes, reason: key.reason)), waitForRoom: true)
        }
    }

    static func attachedFD(_ fd: RelayedFD) -> AttachedFD {
        let kind: FDKind
        switch fd.kind {
        case .socket: kind = .socket
        case .pipe: kind = .pipe
        case .regularFile: kind = .regular
        case .memfd: kind = .memfd
        case .other(mode: 0): kind = .unknown
        default: kind = .other
        }
        return AttachedFD(kind: kind, inode: fd.inode, size: UInt64(max(0, fd.size)), interposed: fd.interposed)
    }

    static func eofKind(_ kind: EndOfStream.Kind) -> EOFKind {
        switch kind {
        case .peerClosed: .peerClosed
        case .reset: .reset
        case .handoffAfterTransfer: .handoffAfterTransfer
        case .ipcscopeStopped: .ipcscopeStopped
        case .error: .error
        }
    }
}

/// One direction's recorder: the frames, acks and samples of a chunk go into one batch that reaches the
/// writer with a single lock. Other events flush the batch first, so the trace keeps stream order.
final class TraceDirectionRecorder: DirectionEventRecorder {
    private let sink: TraceSink
    private let channel: ChannelID
    private let direction: Direction
    private let batch: TraceBatch
    @exclusivity(unchecked) private var state = TraceSink.BatchState()

    init(sink: TraceSink, channel: ChannelID, direction: Direction) {
        self.sink = sink
        self.channel = channel
        self.direction = direction
        batch = sink.writer.makeBatch()
    }

    func record(time: UInt64, _ event: RelayEvent) {
        if sink.append(event, channel: channel, direction: direction, time: time, to: batch, state: &state) {
            return
        }
        flush()
        sink.record(channel: channel, direction: direction, time: time, event)
    }

    func flush() {
        sink.submit(batch, state: &state, channel: channel, direction: direction)
    }
}

/// Totals for the one-line summary and the trace's end record.
final class RecordingStatistics: Sendable {
    let channels = Atomic<UInt64>(0)
    let frames = Atomic<UInt64>(0)
    let bytes = Atomic<UInt64>(0)
    let fds = Atomic<UInt64>(0)
    let violations = Atomic<UInt64>(0)
    let framesWithLostCapture = Atomic<UInt64>(0)
    /// Directions whose writers' credentials the kernel would not let the relay claim (EPERM, EINVAL).
    let credentialsRefused = Atomic<UInt64>(0)
    /// Directions where a writer had exited before its last bytes were forwarded (ESRCH).
    let credentialsOfExitedWriters = Atomic<UInt64>(0)
    /// Channels relayed but not parsed: not in the end record's summary (its fields are not ours to add).
    let notLibIPCChannels = Atomic<UInt64>(0)

    var summary: TraceSummary {
        TraceSummary(
            channels: channels.load(ordering: .relaxed), frames: frames.load(ordering: .relaxed),
            bytes: bytes.load(ordering: .relaxed), fds: fds.load(ordering: .relaxed),
            violations: violations.load(ordering: .relaxed))
    }
}
