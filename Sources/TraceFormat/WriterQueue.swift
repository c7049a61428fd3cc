import Glibc
import Synchronization

/// The writer's queue and the loop of its thread: submitters encode records into `pending` under the
/// lock; the thread swaps `pending` for an empty buffer and writes it with write(2) outside the lock.
///
/// A pthread mutex with two condition variables rather than `Synchronization.Mutex`: the writer thread,
/// `flush()` and lossless submitters must sleep until woken, and `Mutex` has no condition variable.
/// `@unchecked Sendable`: every `var` below is read and written only with `mutex` held.
final class WriterQueue: @unchecked Sendable {
    struct Options {
        var budgetBytes: Int
        var flushThresholdBytes: Int
        var flushIntervalNanoseconds: UInt64
    }

    let path: String
    private let fd: Int32
    private let options: Options

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    /// Wakes the writer thread: data became pending, the threshold was crossed, a flush or close began.
    private let writerWake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Broadcast after every batch the writer finishes: flush and room waiters re-check.
    private let progress = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    private var pending = WriterQueue.makeBuffer()
    private var spare: ByteBuffer? = WriterQueue.makeBuffer()

    /// Queue buffers leave checksums to the writer thread (see ``ByteBuffer/defersChecksums``).
    private static func makeBuffer() -> ByteBuffer {
        let buffer = ByteBuffer(capacity: 1 << 20)
        buffer.defersChecksums = true
        return buffer
    }
    /// Monotonic time at which `pending` last became non-empty.
    private var pendingSince: UInt64 = 0
    private var inFlightBytes = 0
    /// Bytes ever accepted, and bytes ever handed to write(2) (or dropped after a failure).
    private var submittedBytes: UInt64 = 0
    private var writtenBytes: UInt64 = 0
    private var writerIdle = false
    private var flushRequested = false
    /// Lossless submitters waiting for room: the writer does not wait for its interval while there are any.
    private var roomWaiters = 0
    private var closing = false
    private var writerExited = false
    private var failure: TraceFileError?

    /// `pending` plus the batch being written, readable without the lock.
    let queuedBytes = Atomic<Int>(0)
    let acceptedRecords = Atomic<UInt64>(0)
    let rejectedRecords = Atomic<UInt64>(0)
    let bytesWritten = Atomic<UInt64>(0)

    init(path: String, fd: Int32, options: Options) {
        self.path = path
        self.fd = fd
        self.options = options
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(writerWake, &attributes)
        pthread_cond_init(progress, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(progress)
        pthread_cond_destroy(writerWake)
        pthread_mutex_destroy(mutex)
        progress.deallocate()
        writerWake.deallocate()
        mutex.deallocate()
    }

    // MARK: submitting

    /// Encodes one record into the queue with `encode`, which returns its size, or nil when it cannot be
    /// encoded. Refuses it when the queue would go over budget, unless `waitForRoom`, which waits.
    /// A record always fits into an empty queue, so a single large record cannot wait forever.
    @inline(__always)
    func enqueue(waitForRoom: Bool, _ encode: (ByteBuffer) -> Int?) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while true {
            guard !closing, failure == nil else { return reject(1) }
            let before = pending.count
            guard let size = encode(pending) else { return reject(1) }
            if !fitsBudget(size, pendingBefore: before) {
                pending.truncate(to: before)
                guard waitForRoom else { return reject(1) }
                waitForProgress()
                continue
            }
            accepted(size, records: 1, pendingBefore: before)
            return true
        }
    }

    /// Queues a batch's encoded records (`records` of them in `buffer`), all or none, under the same
    /// budget rule. (Taking the batch's buffer over instead of copying it measured no faster.)
    func enqueue(batch buffer: ByteBuffer, records: Int, waitForRoom: Bool) -> Bool {
        let size = buffer.count
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while true {
            guard !closing, failure == nil else { return reject(records) }
            let before = pending.count
            if !fitsBudget(size, pendingBefore: before) {
                guard waitForRoom else { return reject(records) }
                waitForProgress()
                continue
            }
            pending.append(bytes: buffer.bytes)
            accepted(size, records: records, pendingBefore: before)
            return true
        }
    }

    /// Whether `size` more bytes stay within the budget. Anything fits into an empty queue, so a record or
    /// batch larger than the budget cannot wait forever. Called with the lock held.
    private func fitsBudget(_ size: Int, pendingBefore before: Int) -> Bool {
        let queuedBefore = before + inFlightBytes
        return queuedBefore == 0 || queuedBefore + size <= options.budgetBytes
    }

    /// Sleeps until the writer finishes a batch (lossless submitters waiting for room). Lock held.
    private func waitForProgress() {
        roomWaiters += 1
        pthread_cond_signal(writerWake)
        pthread_cond_wait(progress, mutex)
        roomWaiters -= 1
    }

    /// Counts what was just queued and wakes the writer when it has to act. Called with the lock held.
    private func accepted(_ size: Int, records: Int, pendingBefore before: Int) {
        submittedBytes &+= UInt64(size)
        queuedBytes.store(pending.count + inFlightBytes, ordering: .relaxed)
        acceptedRecords.add(UInt64(records), ordering: .relaxed)
        if before == 0 {
            pendingSince = TraceClock.monotonicNanoseconds()
            if writerIdle {
                writerIdle = false
                pthread_cond_signal(writerWake)
            }
        } else if before < options.flushThresholdBytes && pending.count >= options.flushThresholdBytes {
            pthread_cond_signal(writerWake)
        }
    }

    private func reject(_ records: Int) -> Bool {
        rejectedRecords.add(UInt64(records), ordering: .relaxed)
        return false
    }

    // MARK: flushing and closing

    /// Waits until everything accepted so far has been handed to write(2).
    func flush() throws(TraceFileError) {
        pthread_mutex_lock(mutex)
        let target = submittedBytes
        flushRequested = true
        pthread_cond_signal(writerWake)
        while writtenBytes < target && !writerExited {
            pthread_cond_wait(progress, mutex)
        }
        let failure = self.failure
        pthread_mutex_unlock(mutex)
        if let failure { throw failure }
    }

    /// Makes the writer loop write what is pending and return. Later submits are refused.
    func beginClosing() {
        pthread_mutex_lock(mutex)
        closing = true
        pthread_cond_signal(writerWake)
        pthread_mutex_unlock(mutex)
    }

    var firstFailure: TraceFileError? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return failure
    }

    // MARK: the writer thread

    /// The writer thread's body: batches of pending records go out at least every flush interval, at once
    /// when the threshold is crossed or a flush or close asks. Returns after closing with nothing pending.
    func runWriterLoop() {
        pthread_mutex_lock(mutex)
        while true {
            if pending.count == 0 {
                if closing { break }
                flushRequested = false  // nothing left to flush; batch the next records again
                writerIdle = true
                pthread_cond_wait(writerWake, mutex)
                writerIdle = false
                continue
            }
            if !closing && !flushRequested && roomWaiters == 0 && pending.count < options.flushThresholdBytes {
                let deadline = pendingSince &+ options.flushIntervalNanoseconds
                if TraceClock.monotonicNanoseconds() < deadline {
                    var until = timespec(
                        tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
                    pthread_cond_timedwait(writerWake, mutex, &until)
                    continue
                }
            }
            let batch = pending
            pending = spare ?? WriterQueue.makeBuffer()
            spare = nil
            inFlightBytes = batch.count
            flushRequested = false
            let alreadyFailed = failure != nil
            pthread_mutex_unlock(mutex)

            // Outside the lock: submitters keep filling the new `pending` meanwhile.
            // The checksums are computed here, on this thread, rather than by every relay thread as it submits.
            batch.fillRecordChecksums()
            let error = alreadyFailed ? nil : writeAll(batch.bytes)
            if error == nil && !alreadyFailed { bytesWritten.add(UInt64(batch.count), ordering: .relaxed) }

            pthread_mutex_lock(mutex)
            if let error, failure == nil { failure = error }
            writtenBytes &+= UInt64(batch.count)
            inFlightBytes = 0
            batch.removeAll(keepingAtMost: 8 << 20)  // give back memory after a burst
            spare = batch
            queuedBytes.store(pending.count, ordering: .relaxed)
            pthread_cond_broadcast(progress)
        }
        writerExited = true
        pthread_cond_broadcast(progress)
        pthread_mutex_unlock(mutex)
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) -> TraceFileError? {
        guard var next = bytes.baseAddress else { return nil }
        var remaining = bytes.count
        while remaining > 0 {
            let written = Glibc.write(fd, next, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                return .system(path: path, operation: "write", errno: errno)
            }
            next += written
            remaining -= written
        }
        return nil
    }
}
