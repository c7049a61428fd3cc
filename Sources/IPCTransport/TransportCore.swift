import Dispatch
import Glibc
import IPCWire
import Synchronization

/// How the IO thread should stop (Ladybird's `IOThreadState`).
enum StopMode: Int, Comparable, Sendable {
    /// Keep reading and writing until the send queue is empty, then stop (release, graceful close).
    case sendPendingThenStop = 0
    /// Stop at the next wakeup, dropping whatever is queued.
    case immediately = 1

    static func < (lhs: StopMode, rhs: StopMode) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Everything the API threads and the IO thread share, guarded by one lock.
struct TransportState {
    var sendQueue = SendQueue()
    var retained = RetainedFDs()
    var incoming = FIFO<IncomingMessage>()
    /// Published EOF; set at most once, in the same critical section as the last messages.
    var eof: EOFReason?
    var stopRequest: StopMode?
    /// `releaseForTransfer()` began: refuse sends, never publish EOF.
    var releasing = false
    /// `releaseForTransfer()` finished: `receive` reports `.released` once the queue is drained.
    var released = false
    /// `close()` or `closeAfterSendingAllPendingMessages()` began: refuse sends.
    var closing = false
    var ioThreadFinished = false
    /// Blocked `receive`/`flush` callers, woken after every state change that could concern them.
    var waiters: [DispatchSemaphore] = []
}

/// The part of a transport the IO thread holds. The public `IPCTransport` owns it and the thread, so the
/// thread never keeps the public object alive and `deinit` can stop it.
final class TransportCore: Sendable {
    /// The socket, closed (end of the transport) or released (transfer) once by `IPCTransport`.
    let socketOwner: SharedFD
    /// The wake pipe, closed with the core: after the IO thread, which holds the core, has ended.
    private let wakeReadEnd: OwnedFD
    private let wakeWriteEnd: OwnedFD
    let limits: ReceiveLimits
    let state = Mutex(TransportState())
    let statistics = TransportStatistics()

    /// Borrowed fd numbers for the IO calls.
    var socket: Int32 { socketOwner.rawValue }
    var wakeRead: Int32 { wakeReadEnd.rawValue }
    var wakeWrite: Int32 { wakeWriteEnd.rawValue }

    init(socket: consuming OwnedFD, wakeRead: consuming OwnedFD, wakeWrite: consuming OwnedFD, limits: ReceiveLimits) {
        socketOwner = SharedFD(socket)
        wakeReadEnd = wakeRead
        wakeWriteEnd = wakeWrite
        self.limits = limits
    }

    /// Makes the IO thread's poll return. A full pipe already guarantees that, so EAGAIN is fine.
    func wakeIOThread() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    /// Mutates the state under the lock, then wakes every waiter so it can re-check its condition.
    func update<R: Sendable>(_ body: (inout TransportState) -> R) -> R {
        let (result, waiters) = state.withLock { state -> (R, [DispatchSemaphore]) in
            let result = body(&state)
            let waiters = state.waiters
            state.waiters = []
            return (result, waiters)
        }
        for waiter in waiters { waiter.signal() }
        return result
    }

    /// Blocks until `condition` returns a value or the deadline passes (then nil).
    func wait<R: Sendable>(deadline: DispatchTime?, until condition: (inout TransportState) -> R?) -> R? {
        while true {
            let semaphore = DispatchSemaphore(value: 0)
            let ready = state.withLock { state -> R? in
                if let result = condition(&state) { return result }
                state.waiters.append(semaphore)
                return nil
            }
            if let ready { return ready }
            if let deadline {
                if semaphore.wait(timeout: deadline) == .timedOut {
                    return state.withLock { state -> R? in
                        state.waiters.removeAll { $0 === semaphore }
                        return condition(&state)
                    }
                }
            } else {
                semaphore.wait()
            }
        }
    }

    func requestStop(_ mode: StopMode) {
        update { state in state.stopRequest = max(state.stopRequest ?? mode, mode) }
        wakeIOThread()
    }

    /// Queues a payload frame; its fds become retained. Throws when the transport cannot send any more.
    func enqueue(_ frame: OutgoingFrame) throws(TransportError) {
        let wasEmpty = try state.withLock { (state) throws(TransportError) -> Bool in
            if state.closing || state.releasing { throw .notOpen }
            if let eof = state.eof { throw .disconnected(eof) }
            if state.ioThreadFinished { throw .notOpen }
            let wasEmpty = state.sendQueue.isEmpty
            state.retained.retain(frame.fds)
            statistics.retainedFDs.add(frame.fds.count)
            state.sendQueue.enqueue(frame)
            return wasEmpty
        }
        // A non-empty queue means the IO thread is already polling for POLLOUT.
        if wasEmpty { wakeIOThread() }
    }

    /// Closes every fd the transport still owns: retained ones and those of messages nobody received.
    func closeOwnedFDs(includingIncoming: Bool) {
        let fds = state.withLock { state -> [Int32] in
            Descriptor.closeAll(state.retained.removeAll())
            statistics.retainedFDs.store(0, ordering: .relaxed)
            var fds: [Int32] = []
            if includingIncoming {
                for message in state.incoming.removeAll() { fds.append(contentsOf: message.fds) }
            }
            return fds
        }
        Descriptor.closeAll(fds)
    }
}

extension DispatchTime {
    /// `now + timeout`, clamped so huge or negative durations cannot overflow.
    static func deadline(after timeout: Duration) -> DispatchTime {
        let (seconds, attoseconds) = timeout.components
        guard seconds >= 0, attoseconds >= 0 || seconds > 0 else { return .now() }
        let cappedSeconds = min(seconds, 100 * 365 * 24 * 3600)
        let nanoseconds = Int(cappedSeconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
        return .now() + .nanoseconds(max(nanoseconds, 0))
    }
}
