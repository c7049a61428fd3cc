import IPCTransport
import IPCWire
import Synchronization
import TraceFormat

/// Turns relay events into trace records.
///
/// The relay must never wait on the disk, so capture degrades before traffic does: past half the writer's
/// queue budget payloads are cut to their envelope (frames are still recorded, with their true length), and
/// a batch the writer refuses is counted by what it held — frames with their index range, queue samples,
/// late fds. Both become capture-loss records (`writer behind`, `records dropped`) as soon as the writer
/// has room.
/// In lossless mode it waits for room instead, which slows the relay down to the disk's pace — but never
/// after a write failure: the writer then refuses everything at once.
final class TraceSink: RelayEventSink {
    let writer: TraceWriter
    let lossless: Bool
    let statistics = RecordingStatistics()
    private let pendingLosses = Mutex<[LossKey: LossTally]>([:])
    /// Process and endpoint records.
    let identities: IdentityRecords
    private let hasPendingLosses = Atomic<Bool>(false)

    private struct LossKey: Hashable {
        var channel: ChannelID
        var direction: Direction
        var reason: String
    }

    init(writer: TraceWriter, lossless: Bool) {
        self.writer = writer
        self.lossless = lossless
        identities = IdentityRecords(writer: writer)
    }

    private var degradeThreshold: Int { writer.options.queueBudgetBytes / 2 }

    func channelClosed(_ channel: ChannelID) {
        identities.channelClosed(channel)
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
        case .payload, .acknowledgement, .unknownFrame, .lateFDs, .queueDepths, .chunkTotals, .framesDelivered:
            // Off the relay threads' fast path (they batch through their recorders): a batch of its own.
            let batch = writer.makeBatch()
            var state = BatchState()
            _ = append(event, channel: channel, direction: direction, time: time, to: batch, state: &state)
            submit(batch, state: &state, channel: channel, direction: direction)
        case .violation(let violation):
            if violation.severity == .warning {
                statistics.warnings.add(1, ordering: .relaxed)
            } else {
                statistics.violations.add(1, ordering: .relaxed)
            }
            // Violations are what a user chases: they wait for room even when capture is degrading.
            writer.submit(.violation(ViolationRecord(time: time, channel: channel, direction: direction,
                                                     violation: violation)), waitForRoom: true)
        case .endpointIdentified(let identity):
            identities.learnt(identity, channel: channel, time: time)
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

    /// What a batch holds and what it has cut so far, and whether it cuts payload capture (decided at its
    /// first frame).
    struct BatchState {
        var degrading: Bool?
        /// Frames whose payload this batch cut to the envelope.
        var degraded = LossTally()
        /// Everything in the batch, which is what is lost if the writer refuses it.
        var contents = LossTally()
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
                    // Counted as cut when the batch is accepted; a refused batch counts it as dropped.
                    state.degraded.addFrame(frame.frameIndex, kind: .payload,
                                            bytes: UInt64(captured.count - MessageEnvelope.size))
                    captured = UnsafeRawBufferPointer(rebasing: captured.prefix(MessageEnvelope.size))
                }
            }
            let encoded = batch.appendPayloadFrame(
                time: time, channel: channel, direction: direction, frameIndex: frame.frameIndex,
                streamOffset: frame.streamOffset, header: frame.header, payload: captured,
                fds: fds.isEmpty ? [] : fds.map(Self.attachedFD))
            if encoded {
                state.contents.addFrame(frame.frameIndex, kind: .payload, bytes: UInt64(frame.header.payloadSize))
            } else {
                var lost = LossTally()
                lost.addFrame(frame.frameIndex, kind: .payload, bytes: UInt64(frame.header.payloadSize))
                noteLoss(channel, direction, reason: CaptureLossRecord.Reason.recordsDropped, lost)
            }
        case .lateFDs(let frameIndex, let fds):
            batch.append(.lateFDs(LateFDsRecord(
                time: time, channel: channel, direction: direction, frameIndex: frameIndex,
                fds: fds.map(Self.attachedFD))))
            state.contents.lateFDs += 1
        case .acknowledgement(let ack):
            statistics.acknowledgementFrames.add(1, ordering: .relaxed)
            batch.append(.acknowledgement(AcknowledgementRecord(
                time: time, channel: channel, direction: direction, frameIndex: ack.frameIndex,
                streamOffset: ack.streamOffset, count: ack.count, payloadSize: ack.header.payloadSize)))
            state.contents.addFrame(ack.frameIndex, kind: .acknowledgement, bytes: 0)
        case .unknownFrame(let frame):
            statistics.unknownTypeFrames.add(1, ordering: .relaxed)
            batch.append(.unknownFrame(UnknownFrameRecord(
                time: time, channel: channel, direction: direction, frameIndex: frame.frameIndex,
                streamOffset: frame.streamOffset, header: frame.header)))
            state.contents.addFrame(frame.frameIndex, kind: .unknownType, bytes: 0)
        case .queueDepths(let depths):
            batch.append(.queueSample(QueueSampleRecord(
                time: time, channel: channel, direction: direction,
                proxyBufferedBytes: depths.proxyBufferedBytes,
                receiverUnreadBytes: depths.unreadByReceiverEstimate, receiverUnreadIsExact: false,
                unacknowledgedFDs: depths.unacknowledgedFDs, pendingSyncRequests: depths.pendingSyncRequests,
                receiverUnprocessedBytes: depths.receiverUnprocessedBytes,
                receiverUnmatchedFDs: depths.receiverUnmatchedFDs, notMeasured: depths.notMeasured)))
            state.contents.queueSamples += 1
        case .framesDelivered(let delivered):
            batch.append(.framesDelivered(FramesDeliveredRecord(
                time: time, channel: channel, direction: direction, firstFrameIndex: delivered.first,
                lastFrameIndex: delivered.last)))
            state.contents.framesDelivered += 1
        case .chunkTotals(let frames, let bytes, let fds):
            statistics.frames.add(frames, ordering: .relaxed)
            statistics.bytes.add(bytes, ordering: .relaxed)
            statistics.fds.add(fds, ordering: .relaxed)
        case .violation, .endpointIdentified, .endOfStream, .credentialsNotPreserved:
            return false
        }
        return true
    }

    /// Hands `batch` to the writer and notes what it lost: the payloads it cut, or, when the writer refuses
    /// it, everything it held (each frame counted once, as dropped). Then writes the losses counted so far
    /// once the writer has caught up. Resets `state` for the next batch.
    fileprivate func submit(_ batch: TraceBatch, state: inout BatchState, channel: ChannelID, direction: Direction) {
        defer { state = BatchState() }
        guard !batch.isEmpty else { return }
        if !writer.submit(batch, waitForRoom: lossless) {
            // After a write failure nothing more reaches the trace: that is reported as the failure
            // (and in the end record), not as the writer falling behind.
            guard !writer.hasFailed else { return }
            noteLoss(channel, direction, reason: CaptureLossRecord.Reason.recordsDropped, state.contents)
            return
        }
        if state.degraded.frames > 0 {
            noteLoss(channel, direction, reason: CaptureLossRecord.Reason.writerBehind, state.degraded)
        }
        if hasPendingLosses.load(ordering: .relaxed), writer.queuedBytes < degradeThreshold / 2 {
            flushLosses(time: TraceClock.monotonicNanoseconds())
        }
    }

    private func noteLoss(_ channel: ChannelID, _ direction: Direction, reason: String, _ lost: LossTally) {
        if reason == CaptureLossRecord.Reason.recordsDropped {
            statistics.frameRecordsDropped.add(lost.frames, ordering: .relaxed)
        } else {
            statistics.framesWithCutPayload.add(lost.frames, ordering: .relaxed)
        }
        pendingLosses.withLock { losses in
            losses[LossKey(channel: channel, direction: direction, reason: reason), default: LossTally()].merge(lost)
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
        let ordered = losses.sorted {
            ($0.key.channel, $0.key.direction.rawValue, $0.key.reason) < ($1.key.channel, $1.key.direction.rawValue, $1.key.reason)
        }
        for (key, loss) in ordered {
            writer.submit(.captureLoss(CaptureLossRecord(
                time: time, channel: key.channel, direction: key.direction, framesAffected: loss.frames,
                bytesNotCaptured: loss.bytes, reason: key.reason, frameRange: loss.frameRange,
                acknowledgementFrames: loss.acknowledgementFrames, unknownTypeFrames: loss.unknownTypeFrames,
                otherRecords: .init(queueSamples: loss.queueSamples, lateFDs: loss.lateFDs,
                                    framesDelivered: loss.framesDelivered))), waitForRoom: true)
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

/// What capture loss cost one direction: frames (with the range of their indices, by kind), payload bytes,
/// and the other records lost with them. Merging keeps the range's hull, so every frame affected lies in it.
struct LossTally {
    enum FrameKind { case payload, acknowledgement, unknownType }

    var frames: UInt64 = 0
    var bytes: UInt64 = 0
    var frameRange: ClosedRange<UInt64>?
    var acknowledgementFrames: UInt64 = 0
    var unknownTypeFrames: UInt64 = 0
    var queueSamples: UInt64 = 0
    var lateFDs: UInt64 = 0
    var framesDelivered: UInt64 = 0

    mutating func addFrame(_ index: UInt64, kind: FrameKind, bytes: UInt64) {
        frames += 1
        self.bytes &+= bytes
        if kind == .acknowledgement { acknowledgementFrames += 1 }
        if kind == .unknownType { unknownTypeFrames += 1 }
        widen(to: index...index)
    }

    mutating func merge(_ other: LossTally) {
        frames &+= other.frames
        bytes &+= other.bytes
        acknowledgementFrames &+= other.acknowledgementFrames
        unknownTypeFrames &+= other.unknownTypeFrames
        queueSamples &+= other.queueSamples
        lateFDs &+= other.lateFDs
        framesDelivered &+= other.framesDelivered
        if let range = other.frameRange { widen(to: range) }
    }

    private mutating func widen(to range: ClosedRange<UInt64>) {
        guard let current = frameRange else {
            frameRange = range
            return
        }
        frameRange = min(current.lowerBound, range.lowerBound)...max(current.upperBound, range.upperBound)
    }
}

/// Totals for the one-line summary and the trace's end record.
final class RecordingStatistics: Sendable {
    let channels = Atomic<UInt64>(0)
    /// Payload frames, and their bytes on the wire (payload plus 12 header bytes each).
    let frames = Atomic<UInt64>(0)
    let bytes = Atomic<UInt64>(0)
    let fds = Atomic<UInt64>(0)
    let acknowledgementFrames = Atomic<UInt64>(0)
    let unknownTypeFrames = Atomic<UInt64>(0)
    /// Violation records by severity: rules broken, and values near their limit.
    let violations = Atomic<UInt64>(0)
    let warnings = Atomic<UInt64>(0)
    /// Frames whose record is in the trace with the payload cut to its envelope (writer behind).
    let framesWithCutPayload = Atomic<UInt64>(0)
    /// Frames whose record is not in the trace: the writer refused their batch.
    let frameRecordsDropped = Atomic<UInt64>(0)
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
            violations: violations.load(ordering: .relaxed),
            acknowledgementFrames: acknowledgementFrames.load(ordering: .relaxed),
            unknownTypeFrames: unknownTypeFrames.load(ordering: .relaxed), warnings: warnings.load(ordering: .relaxed))
    }
}
