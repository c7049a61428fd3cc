import IPCWire
import Synchronization
import TraceFormat

/// Writes the trace's process and endpoint records (docs/trace-format.md §5.15, §5.16): a process record
/// the first time a pid is seen, or when it is seen with another start time (reused), always before the
/// first record that names it; an endpoint record each time what is known of one side of a channel changes.
final class IdentityRecords: Sendable {
    private let writer: TraceWriter
    /// The start time each pid was last recorded with.
    private let processes = Mutex<[Int32: UInt64]>([:])
    private let sides = Mutex<[ChannelID: [SideState]]>([:])
    /// /proc, or what a test makes it say.
    private let started: @Sendable (Int32) -> ProcessSnapshot?
    private let snapshot: @Sendable (Int32) -> ProcessSnapshot?

    /// What the trace says of one side so far.
    struct SideState: Equatable {
        var pid: Int32 = -1
        var startTime: UInt64 = 0
        var basis = EndpointRecord.Basis.unknown
        var name = ""
        /// Named as the receiver of the frame its socket travelled in, and not heard from since: a holder
        /// found by a plain look-up (which may still see the previous owner) does not override that.
        var namedByTransfer = false
    }

    init(
        writer: TraceWriter, started: @escaping @Sendable (Int32) -> ProcessSnapshot? = ProcessLookup.started,
        snapshot: @escaping @Sendable (Int32) -> ProcessSnapshot? = ProcessLookup.snapshot(of:)
    ) {
        self.writer = writer
        self.started = started
        self.snapshot = snapshot
    }

    /// Records `pid` if the trace does not know it yet (or knew another process under that pid). Returns
    /// its start time (0 when unknown). Takes a few /proc reads; call it off the relay threads.
    @discardableResult
    func see(pid: Int32) -> UInt64 {
        guard pid > 0 else { return 0 }
        // The start time alone tells a known process; the rest is read for a new one.
        let started = self.started(pid)
        if let started, processes.withLock({ $0[pid] == started.startTime }) { return started.startTime }
        let snapshot = started == nil ? nil : self.snapshot(pid)
        let time = TraceClock.monotonicNanoseconds()
        return processes.withLock { known in
            let start = snapshot?.startTime ?? known[pid] ?? 0
            if let recorded = known[pid], recorded == start { return start }
            known[pid] = start
            // Submitted under the lock, so no endpoint record naming this process can precede it.
            writer.submit(.process(Self.record(pid: pid, snapshot, time: time)), waitForRoom: true)
            return start
        }
    }

    private static func record(pid: Int32, _ snapshot: ProcessSnapshot?, time: UInt64) -> ProcessRecord {
        guard let snapshot else { return ProcessRecord(time: time, pid: pid, flags: .detailsMissing) }
        return ProcessRecord(
            time: time, pid: pid, parentPID: snapshot.parentPID, startTime: snapshot.startTime,
            bootClockAtTime: snapshot.bootClock, flags: snapshot.commandLineTruncated ? .commandLineTruncated : [],
            executable: snapshot.executable, arguments: snapshot.arguments)
    }

    /// A channel opened with these sides (the channel-opened record is already submitted): sides whose
    /// creator is known get their first endpoint record.
    func channelOpened(_ channel: ChannelID, pids: [Int32], starts: [UInt64], time: UInt64) {
        sides.withLock { $0[channel] = [SideState(), SideState()] }
        for side in [ChannelSide.a, .b] where pids[Int(side.rawValue)] > 0 {
            update(channel, side, time: time) { state in
                state.pid = pids[Int(side.rawValue)]
                state.startTime = starts[Int(side.rawValue)]
                state.basis = .creator
            }
        }
    }

    /// One side's socket travelled in a frame of `carrier` going `direction`: from now on that side is the
    /// process the frame went to, the carrier's receiver (until the side sends and names its writer).
    func sideTravelled(_ channel: ChannelID, _ side: ChannelSide, carrier: ChannelID, direction: Direction, time: UInt64) {
        let receiver = sides.withLock { $0[carrier]?[Int(ChannelSide.receiver(of: direction).rawValue)] }
        guard let receiver, receiver.pid > 0 else { return }
        update(channel, side, time: time, afterTransfer: true) { state in
            state.pid = receiver.pid
            state.startTime = receiver.startTime
            state.basis = .holder
            state.namedByTransfer = true
        }
    }

    func channelClosed(_ channel: ChannelID) {
        sides.withLock { _ = $0.removeValue(forKey: channel) }
    }

    /// Merges what was learnt about one side and writes an endpoint record when that changed anything.
    func learnt(_ identity: EndpointIdentity, channel: ChannelID, time: UInt64) {
        var start: UInt64 = 0
        var time = time
        if let pid = identity.pid {
            start = see(pid: pid)
            // Not earlier than the process record it names, which may just have been written.
            time = max(time, TraceClock.monotonicNanoseconds())
        }
        update(channel, identity.side, time: time, afterTransfer: identity.afterTransfer) { state in
            if let name = identity.endpointName { state.name = name }
            if let pid = identity.pid, pid > 0 {
                // A side's sender outranks a holder found before it sent, unless its socket has moved since.
                let basis: EndpointRecord.Basis = identity.bySending ? .sender : .holder
                guard identity.afterTransfer || basis.rawValue >= state.basis.rawValue else { return }
                guard !state.namedByTransfer || identity.bySending || identity.afterTransfer else { return }
                state.namedByTransfer = false
                state.pid = pid
                state.startTime = start
                state.basis = basis
            }
        }
    }

    private func update(
        _ channel: ChannelID, _ side: ChannelSide, time: UInt64, afterTransfer: Bool = false,
        _ change: (inout SideState) -> Void
    ) {
        sides.withLock { known in
            guard var states = known[channel] else { return }
            var state = states[Int(side.rawValue)]
            change(&state)
            guard state != states[Int(side.rawValue)] || afterTransfer else { return }
            states[Int(side.rawValue)] = state
            known[channel] = states
            // Under the lock: a side's records reach the writer in the order their states were merged.
            writer.submit(.endpoint(EndpointRecord(
                time: time, channel: channel, side: side == .a ? .a : .b, pid: state.pid,
                processStartTime: state.startTime, basis: state.basis, afterTransfer: afterTransfer,
                endpointName: state.name)), waitForRoom: true)
        }
    }
}
