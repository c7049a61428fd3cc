import CSystemShims
import Glibc
import IPCTransport
import IPCWire
import Synchronization
import TraceFormat

/// The queue depths of one direction, readable from any thread: the relay thread publishes what only it
/// knows (the bytes it holds, its parser's model of the receiver) with atomic stores, and a sample reads
/// those together with the kernel's count of the receiver's unread bytes and the channel's counters.
///
/// Samples are taken by ``QueueSampler``'s thread every few milliseconds, so a queue that drains while its
/// direction is idle, or stays full while the relay waits for room, is seen; and by the relay thread where
/// it matters at once (when it starts waiting for room, and last at end of stream). Only a sample that
/// differs from the direction's previous one is recorded, unless forced.
///
/// It also keeps the last chunk's frames-delivered event until the relay's next chunk or the sampler's next
/// tick records it, whichever comes first.
final class QueueGauge: Sendable {
    let channel: ChannelShared
    let direction: Direction
    /// The proxy's socket to the receiver. Valid while the gauge is not retired: the channel closes it only
    /// after both directions ended, and the relay retires its gauge before its direction ends.
    private let destination: Int32
    private let sink: any RelayEventSink

    private let proxyHeld = Atomic<UInt64>(0)
    private let receiverUnprocessedBytes = Atomic<UInt64>(0)
    private let receiverUnmatchedFDs = Atomic<UInt64>(0)
    /// Chunks read so far: while it stands still, a receiver that had read everything still has.
    private let chunksRead = Atomic<UInt64>(0)

    private struct State {
        var last: QueueDepths?
        var chunksReadAtLast: UInt64 = 0
        var retired = false
        var delivery: PendingDelivery?
    }

    struct PendingDelivery {
        var frames: FramesDelivered
        var time: UInt64
    }

    /// Whether `State.delivery` is set: spares the relay thread the lock when it is not.
    private let deliveryPending = Atomic<Bool>(false)

    /// Held while sampling, so samples of one direction are recorded in the order they were measured and
    /// none is taken after the gauge retired.
    private let state = Mutex(State())

    init(channel: ChannelShared, direction: Direction, destination: Int32, sink: any RelayEventSink) {
        self.channel = channel
        self.direction = direction
        self.destination = destination
        self.sink = sink
    }

    // MARK: Published by the relay thread

    /// A chunk of `bytes` was read from the sender: the proxy holds all of it.
    func chunkRead(bytes: Int) {
        proxyHeld.store(UInt64(bytes), ordering: .relaxed)
        chunksRead.add(1, ordering: .releasing)
    }

    /// The proxy still holds `bytes` of the chunk (after a partial write, or 0 once it is all written).
    func holding(_ bytes: Int) {
        // Releasing: a sampler that reads this value also sees the write that preceded it in the kernel.
        proxyHeld.store(UInt64(bytes), ordering: .releasing)
    }

    /// The parser's model of the receiving LibIPC side after the last chunk.
    func receiverModel(unprocessedBytes: UInt64, unmatchedFDs: UInt64) {
        receiverUnprocessedBytes.store(unprocessedBytes, ordering: .relaxed)
        receiverUnmatchedFDs.store(unmatchedFDs, ordering: .relaxed)
    }

    // MARK: Deliveries

    /// The last chunk's frames are delivered. The relay records this with its next chunk's records; if no
    /// chunk comes first, the sampler does within one interval, so an idle direction's last frames are not
    /// left unrecorded. (Recording it at once would cost a submit per chunk in request-response traffic.)
    func offerDelivery(_ frames: FramesDelivered, time: UInt64) {
        state.withLock { state in
            // The relay takes each offer before the next (takeDelivery at its next chunk), so nothing is lost.
            state.delivery = PendingDelivery(frames: frames, time: time)
            deliveryPending.store(true, ordering: .releasing)
        }
    }

    /// The delivery offered and not yet recorded, taken: the caller records it.
    func takeDelivery() -> PendingDelivery? {
        guard deliveryPending.load(ordering: .acquiring) else { return nil }
        return state.withLock { state in
            defer { state.delivery = nil }
            deliveryPending.store(false, ordering: .relaxed)
            return state.delivery
        }
    }

    // MARK: Sampling

    /// Measures the direction and records the sample if it differs from the last one (or `force`).
    func sample(force: Bool = false) {
        state.withLock { state in
            guard !state.retired else { return }
            take(force: force, &state)
        }
    }

    /// The sampler's tick: a delivery the relay has not recorded yet (its direction went idle), then a sample.
    /// Both under the lock, so the relay cannot take and record a later delivery before this one.
    func tick() {
        state.withLock { state in
            guard !state.retired else { return }
            if let pending = state.delivery {
                state.delivery = nil
                deliveryPending.store(false, ordering: .relaxed)
                sink.record(channel: channel.id, direction: direction, time: pending.time, .framesDelivered(pending.frames))
            }
            take(force: false, &state)
        }
    }

    /// Records a last sample and stops sampling: the direction is ending (its fds are closed after this).
    func retire() {
        state.withLock { state in
            guard !state.retired else { return }
            take(force: true, &state)
            state.retired = true
        }
    }

    private func take(force: Bool, _ state: inout State) {
        let time = TraceClock.monotonicNanoseconds()
        let chunks = chunksRead.load(ordering: .acquiring)
        var depths = QueueDepths()
        depths.proxyBufferedBytes = proxyHeld.load(ordering: .acquiring)
        if let last = state.last, last.unreadByReceiverEstimate == 0, last.proxyBufferedBytes == 0,
           !last.notMeasured.contains(.receiverUnreadBytes), chunks == state.chunksReadAtLast,
           depths.proxyBufferedBytes == 0 {
            // Nothing read, so nothing written, since a sample that found the proxy and the receiver's queue
            // empty: they still are. Spares idle directions the system call.
            depths.unreadByReceiverEstimate = 0
        } else {
            let outq = ipcs_siocoutq(destination)
            if outq >= 0 {
                depths.unreadByReceiverEstimate = UInt64(outq)
            } else {
                depths.notMeasured.insert(.receiverUnreadBytes)
            }
        }
        // Parsing stopped for a channel that is not LibIPC: nothing models its receiver or counts its fds.
        let parsed = channel.classification.current.map { $0 == .libIPC } ?? true
        if parsed {
            depths.unacknowledgedFDs = channel.unacknowledgedFDs(direction)
            depths.receiverUnprocessedBytes = receiverUnprocessedBytes.load(ordering: .relaxed)
            depths.receiverUnmatchedFDs = receiverUnmatchedFDs.load(ordering: .relaxed)
        } else {
            depths.notMeasured.formUnion([.unacknowledgedFDs, .receiverUnprocessedBytes, .receiverUnmatchedFDs])
        }
        if parsed, channel.knowsEveryMessageKind {
            depths.pendingSyncRequests = channel.pendingSyncRequests(direction)
        } else {
            depths.notMeasured.insert(.pendingSyncRequests)
        }
        guard force || depths != state.last else { return }
        state.last = depths
        state.chunksReadAtLast = chunks
        sink.record(channel: channel.id, direction: direction, time: time, .queueDepths(depths))
    }
}

/// One thread for the whole process samples every live direction's queues every `interval`: cost bounded by
/// the number of directions (a few atomic loads each, plus one `SIOCOUTQ` for a direction that wrote or has
/// unread bytes), and none on the relay threads. It runs only while some direction is live.
///
/// One per process rather than per channel: a recording session is one process, and hundreds of channels
/// would otherwise mean hundreds of threads waking every few milliseconds.
final class QueueSampler: Sendable {
    static let shared = QueueSampler(interval: 5_000_000)

    /// Nanoseconds between samples of one direction (at most; a sample that changed nothing is not recorded).
    let interval: UInt64

    private struct State {
        var gauges: [ObjectIdentifier: QueueGauge] = [:]
        var running = false
    }

    private let state = Mutex(State())

    init(interval: UInt64) {
        self.interval = interval
    }

    /// Samples `gauge` from now on, until ``remove(_:)``.
    func add(_ gauge: QueueGauge) {
        let start = state.withLock { state -> Bool in
            state.gauges[ObjectIdentifier(gauge)] = gauge
            guard !state.running else { return false }
            state.running = true
            return true
        }
        guard start else { return }
        do {
            _ = try OSThread(name: "ipcscope-queues") { [self] in run() }
        } catch {
            // Without the thread, directions are still sampled by their relays (waits for room, end of
            // stream); the next channel tries again.
            state.withLock { $0.running = false }
        }
    }

    func remove(_ gauge: QueueGauge) {
        state.withLock { _ = $0.gauges.removeValue(forKey: ObjectIdentifier(gauge)) }
    }

    private func run() {
        var pause = timespec(tv_sec: Int(interval / 1_000_000_000), tv_nsec: Int(interval % 1_000_000_000))
        while true {
            let gauges = state.withLock { state -> [QueueGauge]? in
                if state.gauges.isEmpty {
                    state.running = false
                    return nil
                }
                return Array(state.gauges.values)
            }
            guard let gauges else { return }
            for gauge in gauges { gauge.tick() }
            var remaining = timespec()
            // Not the EINTR funnel: an interrupted sleep resumes with what remained, not from the start.
            while nanosleep(&pause, &remaining) != 0, errno == EINTR { pause = remaining }
            pause = timespec(tv_sec: Int(interval / 1_000_000_000), tv_nsec: Int(interval % 1_000_000_000))
        }
    }
}
