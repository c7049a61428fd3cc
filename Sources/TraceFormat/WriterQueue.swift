import Glibc
import SystemSupport
import Synchronization

/// The writer's queue and the loop of its thread: submitters encode records into `pending` under the
/// lock; the thread swaps `pending` for an empty buffer and writes it with write(2) outside the lock.
///
/// A pthread mutex with two condition variables rather than `Synchronization.Mutex`: the writer thread,
/// `flush()` and lossless submitters must sleep until woken, and `Mutex` has no condition variable.
/// After the first write error nothing more is written (but the end record, by `writeEndRecord`):
/// submits are refused at once, also lossless ones, so nobody waits for a writer that cannot write.
///
/// `@unchecked Sendable`: the `var`s below are read and written only with `mutex` held, except those
/// marked as the writer thread's, which `close` reads only after joining that thread.
final class WriterQueue: @unchecked Sendable {
    struct Options {
        var budgetBytes: Int
        var flushThresholdBytes: Int
        var flushIntervalNanoseconds: UInt64
        var reserveBytes: Int
        /// write(2), or a test's stand-in that fails on cue.
        var write: @Sendable (Int32, UnsafeRawPointer, Int) -> Int
        /// Told about the first write failure, once, on the writer thread, as soon as it happens.
        var onFailure: (@Sendable (TraceWriteFailure) -> Void)?
    }

    let path: String
    private let fd: Int32
    private let options: Options

    // The writer thread's (see above).
    /// Bytes of the file that hold whole records.
    private var fileEnd: UInt64
    private var reserve: EndRecordReserve
    /// False when a cut record could not be truncated away: an end record would not be readable after it.
    private var endRecordFits = true

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
    private var failure: TraceWriteFailure?

    /// `pending` plus the batch being written, readable without the lock.
    let queuedBytes = Atomic<Int>(0)
    let acceptedRecords = Atomic<UInt64>(0)
    let rejectedRecords = Atomic<UInt64>(0)
    let bytesWritten = Atomic<UInt64>(0)
    /// Set once the first write failed (readable without the lock).
    let hasFailed = Atomic<Bool>(false)

    /// `fileEnd` bytes are already in the file (written synchronously before the thread starts).
    init(path: String, fd: Int32, fileEnd: UInt64, options: Options) {
        self.path = path
        self.fd = fd
        self.options = options
        self.fileEnd = fileEnd
        reserve = EndRecordReserve(fd: fd, bytes: options.reserveBytes, fileEnd: fileEnd)
        bytesWritten.store(fileEnd, ordering: .relaxed)
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

    /// Reserves the space for the end record behind what is in the file already; before the thread starts.
    func reserveInitialSpace() -> TraceWriteFailure? {
        guard let refusal = reserve.makeRoom(for: 0, at: fileEnd) else { return nil }
        return TraceWriteFailure(path: path, operation: refusal.operation, errno: refusal.errno, offset: fileEnd)
    }

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
        if let failure { throw .writeStopped(failure) }
    }

    /// Makes the writer loop write what is pending and return. Later submits are refused.
    func beginClosing() {
        pthread_mutex_lock(mutex)
        closing = true
        pthread_cond_signal(writerWake)
        pthread_mutex_unlock(mutex)
    }

    var firstFailure: TraceWriteFailure? {
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

            // Outside the lock: submitters keep filling the new `pending` meanwhile. After a failure what was
            // queued is dropped. The checksums are computed here, on this thread, rather than by every relay
            // thread as it submits.
            var newFailure: TraceWriteFailure?
            if !alreadyFailed {
                batch.fillRecordChecksums()
                newFailure = write(batch.bytes)
                bytesWritten.store(fileEnd, ordering: .relaxed)
            }

            pthread_mutex_lock(mutex)
            if let newFailure {
                failure = newFailure
                hasFailed.store(true, ordering: .releasing)
                if let onFailure = options.onFailure {
                    // Told at once, but only after waiting submitters can see the failure (broadcast below).
                    pthread_cond_broadcast(progress)
                    pthread_mutex_unlock(mutex)
                    onFailure(newFailure)
                    pthread_mutex_lock(mutex)
                }
            }
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

    /// Writes a batch of whole records at `fileEnd`, all of it or — on an error — as many whole records as
    /// reached the file, with a cut record truncated away. Writer thread only.
    private func write(_ bytes: UnsafeRawBufferPointer) -> TraceWriteFailure? {
        guard bytes.baseAddress != nil else { return nil }
        if let refusal = reserve.makeRoom(for: bytes.count, at: fileEnd) {
            return TraceWriteFailure(path: path, operation: refusal.operation, errno: refusal.errno, offset: fileEnd)
        }
        do throws(IncompleteWrite) {
            // No progress on a regular file is an I/O error (EIO), not a reason to spin.
            try writeAll(bytes, "write") { rest, _ in options.write(fd, rest.baseAddress!, rest.count) }
        } catch {
            return stopAfterPartialWrite(bytes, written: error.written, errno: error.error.errno)
        }
        fileEnd += UInt64(bytes.count)
        return nil
    }

    /// Keeps the whole records of a batch that failed after `written` bytes and cuts the rest, so that the
    /// file ends on a record boundary where the end record can go.
    private func stopAfterPartialWrite(_ bytes: UnsafeRawBufferPointer, written: Int, errno error: Int32) -> TraceWriteFailure {
        let whole = RecordBoundaries.wholeRecordsLength(in: bytes, upTo: written)
        if whole < written {
            // Shrinks the file by less than one record, and only bytes no reader can use: a record is
            // readable only once all of it is there.
            if ftruncate(fd, off_t(fileEnd + UInt64(whole))) != 0 { endRecordFits = false }
        }
        fileEnd += UInt64(whole)
        return TraceWriteFailure(path: path, operation: "write", errno: error, offset: fileEnd)
    }

    // MARK: after the writer thread ended

    /// Writes `end` — completed with why writing stopped — at the end of the whole records, into the space
    /// reserved for it. Only after a failure, and only once the writer thread has been joined. Returns
    /// whether it is in the file.
    func writeEndRecord(_ end: EndRecord, after failure: TraceWriteFailure) -> Bool {
        guard endRecordFits, let bytes = TraceRecord.end(end.stopped(by: failure)).encoded() else { return false }
        let fileEnd = self.fileEnd
        let complete = bytes.withUnsafeBytes { buffer in
            do throws(IncompleteWrite) {
                try writeAll(buffer, "pwrite") { rest, before in
                    pwrite(fd, rest.baseAddress!, rest.count, off_t(fileEnd) + off_t(before))
                }
                return true
            } catch {
                return false
            }
        }
        guard complete else {
            // Cut it away rather than leave a tail that reads like a killed recorder's; if even that
            // fails, the tail is what a reader sees — the error was told already.
            _ = ftruncate(fd, off_t(fileEnd))
            return false
        }
        self.fileEnd += UInt64(bytes.count)
        bytesWritten.store(fileEnd, ordering: .relaxed)
        return true
    }

    /// Gives back the disk space reserved past the end. Once the writer thread has been joined.
    func releaseReserve() {
        reserve.release(after: fileEnd)
    }
}
