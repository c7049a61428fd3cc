/// Incremental parser for one direction of a LibIPC socket stream.
///
/// Feed it the chunks exactly as `recvmsg` returned them, each with the number of fds that arrived with it.
/// It reports payload frames, fd acknowledgements and violations of docs/protocol.md §2 in stream order, and
/// models the receiving LibIPC side's state (unprocessed bytes, unmatched fds) that those limits talk about.
///
/// Memory is bounded by what it is told to keep: a frame costs at most `captureLimit` bytes however large
/// its header says it is, and the model of a stalled receiver keeps at most `maxStalledEntries` entries
/// (``retainedBytesBound(_:)`` says how much that is at most). It never traps on any input.
public struct FrameStreamParser {
    public struct Configuration: Sendable {
        /// Payload bytes captured per frame; the rest is counted, not kept.
        public var captureLimit: Int
        /// Report ``Violation/Severity/warning`` when a value passes ``Limits/warningFraction`` of its limit.
        public var reportsWarnings: Bool
        /// Bound on the bookkeeping for frames waiting for their fds (only hostile streams get near it).
        public var maxStalledEntries: Int

        public init(captureLimit: Int = 4096, reportsWarnings: Bool = true, maxStalledEntries: Int = 4096) {
            self.captureLimit = max(0, captureLimit)
            self.reportsWarnings = reportsWarnings
            self.maxStalledEntries = max(1, maxStalledEntries)
        }
    }

    /// A run of parsed frames the receiver cannot consume yet because their fds have not arrived.
    private struct StalledRun {
        var streamOffset: UInt64
        var fdLowerBound: UInt64
        var fdUpperBound: UInt64
    }

    private enum Phase {
        case header
        /// Inside a frame's payload; `kind` says what to do when it ends.
        case payload(FrameHeader, Completion)
    }

    private enum Completion {
        case payloadFrame
        case acknowledgement
        /// Unknown frame type: its bytes are skipped.
        case skipped
    }

    public let configuration: Configuration

    private var phase: Phase = .header
    private var headerBytes: [UInt8]
    private var capture: [UInt8]
    private var payloadReceived: UInt64 = 0
    private var frameStart: UInt64 = 0
    private var stalled: [StalledRun] = []
    private var stalledHead = 0

    /// Counts frames and bytes from `frameIndex` and `streamOffset` instead of 0: for a stream joined after
    /// its start, whose earlier frames are known from elsewhere. Only before the first byte is fed.
    public mutating func startCounting(atFrame frameIndex: UInt64, streamOffset offset: UInt64) {
        precondition(streamOffset == 0 && frameCount == 0, "startCounting after parsing began")
        frameCount = frameIndex
        streamOffset = offset
        frameStart = offset
        chunkStart = offset
    }

    /// Bytes consumed so far.
    public private(set) var streamOffset: UInt64 = 0
    /// Frames whose header has been read so far (the next frame's index).
    public private(set) var frameCount: UInt64 = 0
    /// Fds that arrived with the chunks so far.
    public private(set) var fdsReceived: UInt64 = 0
    /// Fds claimed by the payload frames parsed so far (the FIFO position of the next frame's fds).
    public private(set) var fdsClaimed: UInt64 = 0

    /// Where in the last chunk its fds belong: the offset, within the chunk, of the first byte of the frame
    /// that claims the first of them — 0 when that frame began in an earlier chunk (its header split, or its
    /// fds sent with a later part of it). A relay forwards the chunk's fds there, as LibIPC's sender groups
    /// them (docs/protocol.md §1.3); nil when no frame begun so far claims them (fds ahead of their frame).
    public private(set) var fdPlacementInLastChunk: Int?
    private var fdsReceivedBeforeChunk: UInt64 = 0
    private var chunkStart: UInt64 = 0
    /// Fds claimed by every payload frame whose header has been read, including one still arriving.
    private var fdsClaimedByBegunFrames: UInt64 = 0

    /// A payload frame complete in bytes whose fds have not all arrived.
    private struct WaitingFrame {
        var frameIndex: UInt64
        var streamOffset: UInt64
        var fdSequence: Range<UInt64>
        var missingReported = false
    }

    private var waiting: [WaitingFrame] = []
    private var waitingHead = 0

    private var unprocessedBytesWarned = false
    private var unmatchedFDsWarned = false

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        headerBytes = []
        headerBytes.reserveCapacity(FrameHeader.size)
        capture = []
    }

    public init(captureLimit: Int) {
        self.init(configuration: Configuration(captureLimit: captureLimit))
    }

    // MARK: Receiver model

    /// Fds the receiving LibIPC side holds that no parsed frame has taken yet.
    public var unmatchedFDs: UInt64 {
        let matched = firstStalledRun?.fdLowerBound ?? fdsClaimed
        return fdsReceived > matched ? fdsReceived - matched : 0
    }

    /// Bytes the receiving LibIPC side has buffered and not yet consumed: the frames stalled waiting for
    /// their fds and the incomplete frame at the end of the stream.
    public var unprocessedBytes: UInt64 {
        streamOffset - (firstStalledRun?.streamOffset ?? frameStart)
    }

    /// Bytes of a frame started but not finished: non-zero at end of stream means a truncated frame.
    public var incompleteFrameBytes: UInt64 { streamOffset - frameStart }

    /// Payload bytes of the current frame still to come (0 between frames): how much a reader can ask
    /// for at once without crossing into the next frame.
    public var remainingPayloadBytes: UInt64 {
        guard case .payload(let header, _) = phase else { return 0 }
        return UInt64(header.payloadSize) &- payloadReceived
    }

    /// Whether the receiver is stalled on a frame whose fds have not arrived.
    public var isWaitingForFDs: Bool { firstStalledRun != nil }

    /// Heap bytes the parser holds, for tests and memory accounting: bounded by the configuration.
    public var retainedBytes: Int {
        headerBytes.capacity + capture.capacity + stalled.capacity * MemoryLayout<StalledRun>.stride
            + waiting.capacity * MemoryLayout<WaitingFrame>.stride
    }

    /// The most ``retainedBytes`` can reach under `configuration`, whatever the input (the fuzzer checks
    /// it after every chunk): the header buffer, the capture buffer (`captureLimit` plus allocator
    /// rounding), and for each queue its live entries (at most `maxStalledEntries`) plus a consumed prefix
    /// of at most as many or `compactionFloor`, doubled for the array's growth.
    public static func retainedBytesBound(_ configuration: Configuration) -> Int {
        let entriesPerQueue = 2 * (configuration.maxStalledEntries + max(configuration.maxStalledEntries, compactionFloor) + 1)
        return 64 + (configuration.captureLimit + 64)
            + entriesPerQueue * (MemoryLayout<StalledRun>.stride + MemoryLayout<WaitingFrame>.stride)
    }

    private var firstStalledRun: StalledRun? {
        stalledHead < stalled.count ? stalled[stalledHead] : nil
    }

    // MARK: Feeding

    /// Parses one chunk that arrived with `fdCount` fds and reports each event to `onEvent`.
    public mutating func feed(
        _ chunk: UnsafeRawBufferPointer, fdCount: Int = 0, _ onEvent: (FrameEvent) -> Void
    ) {
        let newFDs = UInt64(max(0, fdCount))
        checkReadLimits(chunkBytes: UInt64(chunk.count), newFDs: newFDs, onEvent)
        fdsReceivedBeforeChunk = fdsReceived
        chunkStart = streamOffset
        fdsReceived &+= newFDs
        // The first new fd belongs to a frame begun before this chunk: it goes with the chunk's first byte.
        fdPlacementInLastChunk = newFDs > 0 && fdsClaimedByBegunFrames > fdsReceivedBeforeChunk ? 0 : nil
        releaseStalledRuns()
        if newFDs > 0 { reportLateFDs(onEvent) }

        var pass = PassCounters()
        var index = 0
        while index < chunk.count {
            switch phase {
            case .header:
                index = consumeHeader(chunk, from: index, pass: &pass, onEvent)
            case .payload(let header, let completion):
                index = consumePayload(chunk, from: index, header: header, completion: completion, onEvent)
            }
        }
        pass.report(offset: streamOffset, onEvent)
        if newFDs > 0, fdPlacementInLastChunk == nil, !headerBytes.isEmpty {
            // The chunk ends inside a header: the fds belong to that frame or a later one, so they go
            // with its first byte (or the chunk's, when the header began in an earlier chunk).
            fdPlacementInLastChunk = frameStart > chunkStart ? Int(frameStart - chunkStart) : 0
        }
    }

    public mutating func feed(_ chunk: [UInt8], fdCount: Int = 0, _ onEvent: (FrameEvent) -> Void) {
        chunk.withUnsafeBytes { feed($0, fdCount: fdCount, onEvent) }
    }

    /// Ladybird sums the fd counts of one read pass in checked u32 arithmetic (§2).
    private struct PassCounters {
        var payloadFDs: UInt64 = 0
        var acknowledgedFDs: UInt64 = 0

        func report(offset: UInt64, _ onEvent: (FrameEvent) -> Void) {
            for total in [payloadFDs, acknowledgedFDs] where total > UInt64(UInt32.max) {
                onEvent(.violation(Violation(
                    kind: .counterOverflow, limit: UInt64(UInt32.max), observed: total, streamOffset: offset)))
            }
        }
    }

    private mutating func checkReadLimits(chunkBytes: UInt64, newFDs: UInt64, _ onEvent: (FrameEvent) -> Void) {
        if newFDs > Limits.maxTransferFDs {
            onEvent(.violation(Violation(
                kind: .tooManyFDsInOneSend, limit: Limits.maxTransferFDs, observed: newFDs,
                streamOffset: streamOffset)))
        }
        let bytes = unprocessedBytes &+ chunkBytes
        checkLevel(bytes, limit: Limits.maxUnprocessedBufferSize, kind: .unprocessedBytesOverflow,
                   warned: &unprocessedBytesWarned, onEvent)
        let fds = unmatchedFDs &+ newFDs
        checkLevel(fds, limit: Limits.maxUnprocessedFDs, kind: .unprocessedFDsOverflow,
                   warned: &unmatchedFDsWarned, onEvent)
    }

    /// Reports a level over its limit every time, and a warning once each time it climbs past 80%.
    private func checkLevel(
        _ value: UInt64, limit: UInt64, kind: Violation.Kind, warned: inout Bool, _ onEvent: (FrameEvent) -> Void
    ) {
        if value > limit {
            onEvent(.violation(Violation(kind: kind, limit: limit, observed: value, streamOffset: streamOffset)))
        } else if Double(value) > Double(limit) * Limits.warningFraction {
            if configuration.reportsWarnings && !warned {
                onEvent(.violation(Violation(
                    kind: kind, severity: .warning, limit: limit, observed: value, streamOffset: streamOffset)))
            }
            warned = true
        } else if Double(value) < Double(limit) * Limits.warningFraction / 2 {
            warned = false
        }
    }

    // MARK: Header

    private mutating func consumeHeader(
        _ chunk: UnsafeRawBufferPointer, from index: Int, pass: inout PassCounters, _ onEvent: (FrameEvent) -> Void
    ) -> Int {
        let header: FrameHeader
        var next = index
        if headerBytes.isEmpty, chunk.count - index >= FrameHeader.size,
           let direct = FrameHeader(bytes: UnsafeRawBufferPointer(rebasing: chunk[index...])) {
            // Fast path: the whole header is in this chunk.
            header = direct
            next += FrameHeader.size
        } else {
            let take = min(FrameHeader.size - headerBytes.count, chunk.count - index)
            headerBytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[index..<(index + take)]))
            next += take
            guard headerBytes.count == FrameHeader.size,
                  let buffered = headerBytes.withUnsafeBytes({ FrameHeader(bytes: $0) }) else {
                streamOffset &+= UInt64(take)
                return next
            }
            header = buffered
            headerBytes.removeAll(keepingCapacity: true)
        }
        streamOffset &+= UInt64(next - index)
        beginFrame(header, pass: &pass, onEvent)
        return next
    }

    private mutating func beginFrame(_ header: FrameHeader, pass: inout PassCounters, _ onEvent: (FrameEvent) -> Void) {
        let frameIndex = frameCount
        frameCount &+= 1
        func report(_ kind: Violation.Kind, limit: UInt64, observed: UInt64,
                    severity: Violation.Severity = .violation, continuation: Violation.Continuation = .continues) {
            onEvent(.violation(Violation(
                kind: kind, severity: severity, limit: limit, observed: observed,
                streamOffset: frameStart, frameIndex: frameIndex, continuation: continuation)))
        }

        let completion: Completion
        switch header.type {
        case .payload:
            completion = .payloadFrame
            checkFrameValue(UInt64(header.payloadSize), limit: Limits.maxMessagePayloadSize,
                            kind: .payloadTooLarge, report)
            checkFrameValue(UInt64(header.fdCount), limit: Limits.maxMessageFDCount,
                            kind: .tooManyFDsInFrame, report)
            pass.payloadFDs &+= UInt64(header.fdCount)
            fdsClaimedByBegunFrames &+= UInt64(header.fdCount)
            if header.fdCount > 0, fdPlacementInLastChunk == nil, fdsReceived > fdsReceivedBeforeChunk,
               fdsClaimedByBegunFrames > fdsReceivedBeforeChunk {
                // A header split across chunks began before this one.
                fdPlacementInLastChunk = frameStart > chunkStart ? Int(frameStart - chunkStart) : 0
            }
        case .fdAcknowledgement:
            completion = .acknowledgement
            if header.payloadSize != 0 {
                report(.acknowledgementWithPayload, limit: 0, observed: UInt64(header.payloadSize))
            }
            pass.acknowledgedFDs &+= UInt64(header.fdCount)
        case nil:
            completion = .skipped
            report(.unknownFrameType, limit: 0, observed: UInt64(header.rawType), continuation: .resyncAssumed)
            onEvent(.unknownFrame(UnknownFrameEvent(header: header, frameIndex: frameIndex, streamOffset: frameStart)))
        }

        payloadReceived = 0
        if !capture.isEmpty { capture.removeAll(keepingCapacity: capture.capacity <= configuration.captureLimit) }
        phase = .payload(header, completion)
        if header.payloadSize == 0 {
            finishFrame(header, completion: completion, payload: UnsafeRawBufferPointer(start: nil, count: 0), onEvent)
        }
    }

    private func checkFrameValue(
        _ value: UInt64, limit: UInt64, kind: Violation.Kind,
        _ report: (Violation.Kind, UInt64, UInt64, Violation.Severity, Violation.Continuation) -> Void
    ) {
        if value > limit {
            report(kind, limit, value, .violation, .continues)
        } else if configuration.reportsWarnings, Double(value) > Double(limit) * Limits.warningFraction {
            report(kind, limit, value, .warning, .continues)
        }
    }

    // MARK: Payload

    private mutating func consumePayload(
        _ chunk: UnsafeRawBufferPointer, from index: Int, header: FrameHeader, completion: Completion,
        _ onEvent: (FrameEvent) -> Void
    ) -> Int {
        let remaining = UInt64(header.payloadSize) - payloadReceived
        let take = Int(min(remaining, UInt64(chunk.count - index)))
        let wanted = completion == .payloadFrame ? min(Int(header.payloadSize), configuration.captureLimit) : 0
        let stillWanted = max(0, wanted - capture.count)

        // Fast path: the whole payload lies in this chunk, so lend the capture out instead of copying.
        var borrowed: UnsafeRawBufferPointer?
        if payloadReceived == 0, UInt64(take) == remaining {
            borrowed = UnsafeRawBufferPointer(rebasing: chunk[index..<(index + wanted)])
        } else if stillWanted > 0 {
            let copy = min(stillWanted, take)
            if capture.isEmpty { capture.reserveCapacity(wanted) }
            capture.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[index..<(index + copy)]))
        }

        payloadReceived &+= UInt64(take)
        streamOffset &+= UInt64(take)
        if payloadReceived == UInt64(header.payloadSize) {
            if let borrowed {
                finishFrame(header, completion: completion, payload: borrowed, onEvent)
            } else {
                let captured = capture
                captured.withUnsafeBytes { finishFrame(header, completion: completion, payload: $0, onEvent) }
            }
        }
        return index + take
    }

    private mutating func finishFrame(
        _ header: FrameHeader, completion: Completion, payload: UnsafeRawBufferPointer,
        _ onEvent: (FrameEvent) -> Void
    ) {
        let frameIndex = frameCount &- 1
        let start = frameStart
        phase = .header
        frameStart = streamOffset

        switch completion {
        case .payloadFrame:
            let lower = fdsClaimed
            let upper = lower &+ UInt64(header.fdCount)
            fdsClaimed = upper
            let arrived = fdsReceived >= upper && firstStalledRun == nil
            if !arrived { recordStall(offset: start, lower: lower, upper: upper) }
            if header.fdCount > 0, fdsReceived < upper {
                // Fds may come with any part of their frame, so by the last byte of this frame, which claims
                // fds, every earlier frame's are due: those still short are missing (the receiver will
                // give them this frame's fds). This frame's own may still come, late.
                reportMissingFDs(before: frameIndex, onEvent)
                // A receiver disconnects on a header claiming more than the limit: it waits for nothing.
                if UInt64(header.fdCount) <= Limits.maxMessageFDCount {
                    awaitFDs(WaitingFrame(frameIndex: frameIndex, streamOffset: start, fdSequence: lower..<upper))
                }
            }
            onEvent(.payload(PayloadFrameEvent(
                header: header, frameIndex: frameIndex, streamOffset: start, capturedPayload: payload,
                fdSequence: lower..<upper, fdsArrived: lower == upper || fdsReceived >= upper,
                arrivedFDSequence: lower..<min(upper, max(lower, fdsReceived)))))
        case .acknowledgement:
            onEvent(.acknowledgement(AcknowledgementEvent(header: header, frameIndex: frameIndex, streamOffset: start)))
        case .skipped:
            break
        }
    }

    // MARK: Frames waiting for their fds

    /// Reports frames whose fds never came, now that the stream has ended. Call once, at end of stream.
    public mutating func finish(_ onEvent: (FrameEvent) -> Void) {
        reportMissingFDs(before: UInt64.max, onEvent)
    }

    private mutating func awaitFDs(_ frame: WaitingFrame) {
        // Bounded: only a hostile stream keeps this many frames waiting; later ones go unreported.
        guard waiting.count - waitingHead < configuration.maxStalledEntries else { return }
        waiting.append(frame)
    }

    /// Hands the fds that just arrived to the frames waiting for them, in FIFO order as the receiver does.
    private mutating func reportLateFDs(_ onEvent: (FrameEvent) -> Void) {
        var index = waitingHead
        while index < waiting.count {
            let frame = waiting[index]
            let lower = max(frame.fdSequence.lowerBound, fdsReceivedBeforeChunk)
            let upper = min(frame.fdSequence.upperBound, fdsReceived)
            if lower < upper {
                onEvent(.lateFDs(LateFDsEvent(
                    frameIndex: frame.frameIndex, streamOffset: frame.streamOffset, fdSequence: lower..<upper)))
            }
            if upper < frame.fdSequence.upperBound { break }
            index += 1
        }
        waitingHead = index
        Self.dropConsumed(&waiting, head: &waitingHead)
    }

    private mutating func reportMissingFDs(before frameIndex: UInt64, _ onEvent: (FrameEvent) -> Void) {
        var index = waitingHead
        while index < waiting.count, waiting[index].frameIndex < frameIndex {
            let frame = waiting[index]
            if !frame.missingReported {
                waiting[index].missingReported = true
                let arrived = fdsReceived > frame.fdSequence.lowerBound
                    ? min(frame.fdSequence.upperBound, fdsReceived) - frame.fdSequence.lowerBound : 0
                onEvent(.violation(Violation(
                    kind: .missingFDs, limit: UInt64(frame.fdSequence.count), observed: arrived,
                    streamOffset: frame.streamOffset, frameIndex: frame.frameIndex)))
            }
            index += 1
        }
    }

    // MARK: Stalled receiver

    private mutating func recordStall(offset: UInt64, lower: UInt64, upper: UInt64) {
        if let last = stalled.last, stalledHead < stalled.count {
            // Frames that need no further fds are consumed together with the run before them.
            if upper <= last.fdUpperBound { return }
            if stalled.count - stalledHead >= configuration.maxStalledEntries {
                // Merge: conservative (it may overstate unprocessed bytes) but bounded.
                stalled[stalled.count - 1].fdUpperBound = upper
                return
            }
        }
        stalled.append(StalledRun(streamOffset: offset, fdLowerBound: lower, fdUpperBound: upper))
    }

    private mutating func releaseStalledRuns() {
        while stalledHead < stalled.count, stalled[stalledHead].fdUpperBound <= fdsReceived {
            stalledHead += 1
        }
        Self.dropConsumed(&stalled, head: &stalledHead)
    }

    /// The parser's queues are arrays read from `head` (appending is cheap, popping is an index bump):
    /// entries before `head` are freed once all are consumed, or when they are over half of an array longer
    /// than `compactionFloor` (moving the live rest costs no more than the entries consumed since the last
    /// time). SystemSupport's FIFO has the same rule with a floor of 1024, kept here on plain arrays: IPCWire
    /// depends on the standard library only, and these small entries are accounted as capacity × stride
    /// (`retainedBytes`), which FIFO's optional slots would widen. The floor is low so that a parser told to
    /// keep few entries holds few, live or consumed.
    static let compactionFloor = 64

    private static func dropConsumed<Element>(_ queue: inout [Element], head: inout Int) {
        if head == queue.count {
            queue.removeAll(keepingCapacity: queue.capacity <= 64)
            head = 0
        } else if head > compactionFloor, head * 2 > queue.count {
            queue.removeFirst(head)
            head = 0
        }
    }
}
