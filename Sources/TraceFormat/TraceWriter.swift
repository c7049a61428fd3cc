import Glibc
import IPCWire
import Synchronization
import SystemSupport

/// Writes a trace file. Relay threads submit records; a dedicated thread writes them in large batches
/// with write(2), in submission order, so submitters never wait on the disk.
///
/// Durability: everything handed to write(2) is in the page cache and survives the death of this process
/// (even SIGKILL); batches go out at least every ``Options/flushIntervalNanoseconds`` or
/// ``Options/flushThresholdBytes``. There is no fsync: a power loss can lose the last seconds.
///
/// Failures: the first write error (a full disk, EIO, the file size limit) stops writing for good — it is
/// reported at once through ``Options/onWriteFailure``, later submits are refused without waiting, and
/// `close(ending:)` still writes the end record, saying why the trace ends early, into disk space kept
/// reserved for it (``EndRecordReserve``).
///
/// The file is created under a temporary name in the output's directory and renamed to `path` by
/// ``publish()`` (at once unless ``Options/publishesAtOnce`` is false), so that a recording that fails to
/// start leaves whatever was at `path` untouched.
public final class TraceWriter: Sendable {
    public struct Options: Sendable {
        /// Queued bytes (encoded, not yet written) beyond which `submit` refuses records.
        public var queueBudgetBytes: Int
        /// Pending bytes that make the writer thread write at once.
        public var flushThresholdBytes: Int
        /// Longest time a record waits in the queue before the writer thread writes it.
        public var flushIntervalNanoseconds: UInt64
        /// What an existing file at the path may be for the trace to replace it.
        public var existingOutput: ExistingOutput = .replaceOnlyTraces
        /// Whether the file appears at its path when the writer is created, or only at ``publish()``.
        public var publishesAtOnce = true
        /// Told about the first write failure, once, as soon as it happens (on the writer thread).
        public var onWriteFailure: (@Sendable (TraceWriteFailure) -> Void)?
        /// Disk space kept free past the last record for the end record.
        public var endRecordReserveBytes = EndRecordReserve.defaultBytes
        /// Stands in for write(2) in tests that make it fail.
        var writeFunction: @Sendable (Int32, UnsafeRawPointer, Int) -> Int = { Glibc.write($0, $1, $2) }

        public init(
            queueBudgetBytes: Int = 64 << 20, flushThresholdBytes: Int = 256 << 10,
            flushIntervalNanoseconds: UInt64 = 20_000_000
        ) {
            self.queueBudgetBytes = queueBudgetBytes
            self.flushThresholdBytes = flushThresholdBytes
            self.flushIntervalNanoseconds = flushIntervalNanoseconds
        }
    }

    /// What may be at the output path for a new trace to replace it. A directory, a device, a FIFO or a
    /// socket is never replaced, and a symlink never followed nor replaced.
    public enum ExistingOutput: Sendable, Equatable {
        /// Nothing, an empty file, or an ipcscope trace (a file that starts with the trace magic).
        case replaceOnlyTraces
        /// Any regular file.
        case replaceAnyFile
    }

    /// Counters, readable at any time.
    public struct Statistics: Sendable, Equatable {
        public var acceptedRecords: UInt64
        public var rejectedRecords: UInt64
        public var bytesWritten: UInt64
    }

    public let path: String
    public let header: TraceHeader
    public let options: Options
    /// Captured payload bytes per frame at most (the header's snap length).
    public let snapLength: Int

    private let file: TraceOutputFile
    /// The trace file's fd, owned here; the queue and its thread borrow the number until `close`.
    private let descriptor: SharedFD
    private let queue: WriterQueue
    private let thread: OSThread
    private let closed = Atomic<Bool>(false)
    private let publication = Mutex<Publication>(.staged)

    private enum Publication {
        /// Under the temporary name; closing removes it.
        case staged
        case published
        /// Renaming failed: the trace stays under the temporary name, and is kept.
        case keptAtTemporaryPath
    }

    /// Checks what is at `path` (``Options/existingOutput``), creates the file with mode 0600 under a
    /// temporary name, writes the file header and `header` synchronously, reserves the end record's
    /// space, puts the file at `path` (unless ``Options/publishesAtOnce`` is false) and starts the writer
    /// thread. Throws, leaving `path` as it was, when any of it fails.
    public init(path: String, header: TraceHeader, options: Options = Options()) throws(TraceFileError) {
        self.path = path
        self.header = header
        self.options = options
        snapLength = header.captureLength

        let start = ByteBuffer()
        TraceFileLayout.fileHeaderBytes().withUnsafeBytes { start.append(bytes: $0) }
        guard start.appendRecord(.header(header)) != nil else {
            let body = ByteBuffer()
            body.appendHeaderBody(header)
            throw .recordTooLarge(path: path, kind: .header, bodyLength: body.count)
        }

        let file = try TraceOutputFile.create(path: path, policy: options.existingOutput)
        self.file = file
        let descriptor = file.descriptor
        self.descriptor = descriptor
        /// Undoes the creation: the output path was never touched. (A failed close of a file about to be
        /// unlinked loses nothing: the error that stopped the start is the one to tell.)
        func abandon(_ error: TraceFileError) -> TraceFileError {
            do { try descriptor.close() } catch { /* see above */ }
            unlink(file.temporaryPath)
            return error
        }
        do {
            try Self.writeSynchronously(fd: file.fd, start.bytes, path: path, write: options.writeFunction)
        } catch {
            throw abandon(error)
        }
        queue = WriterQueue(path: path, fd: file.fd, fileEnd: UInt64(start.count), options: .init(
            budgetBytes: options.queueBudgetBytes, flushThresholdBytes: options.flushThresholdBytes,
            flushIntervalNanoseconds: options.flushIntervalNanoseconds, reserveBytes: options.endRecordReserveBytes,
            write: options.writeFunction, onFailure: options.onWriteFailure))
        // No room even for the end record: refuse to start rather than record nothing.
        if let failure = queue.reserveInitialSpace() { throw abandon(.writeStopped(failure)) }
        if options.publishesAtOnce {
            do {
                try file.publish(policy: options.existingOutput)
            } catch {
                throw abandon(error)
            }
            publication.withLock { $0 = .published }
        }
        let queue = self.queue
        do {
            thread = try OSThread(name: "trace-writer") { queue.runWriterLoop() }
        } catch {
            let error = TraceFileError.system(path: path, operation: "pthread_create (writer thread)", errno: error.errno)
            // Published already (publishesAtOnce): the file holds a header and nothing else, like a
            // recording killed at once; it is not removed, as it replaced what was there.
            do { try descriptor.close() } catch { /* the thread failure is what is told */ }
            if case .staged = publication.withLock({ $0 }) { unlink(file.temporaryPath) }
            throw error
        }
    }

    deinit {
        if !closed.load(ordering: .acquiring) {
            do { try close() } catch { /* nobody left to tell; a user of the writer closes it */ }
        }
    }

    // MARK: publishing

    /// Where the file is now: `path` once published, the temporary name before (or when renaming failed).
    public var currentPath: String {
        publication.withLock { state in
            if case .published = state { return path }
            return file.temporaryPath
        }
    }

    public var isPublished: Bool {
        publication.withLock { state in
            if case .published = state { return true }
            return false
        }
    }

    /// Puts the trace at `path`, replacing what is there (checked again against ``Options/existingOutput``).
    /// Call it once the recording has started. When it throws, the recording goes on under the temporary
    /// name (``currentPath``) and the file is kept there. Does nothing when already published.
    public func publish() throws(TraceFileError) {
        let result: Result<Void, TraceFileError> = publication.withLock { state in
            guard case .staged = state else { return .success(()) }
            do throws(TraceFileError) {
                try file.publish(policy: options.existingOutput)
                state = .published
                return .success(())
            } catch {
                state = .keptAtTemporaryPath
                return .failure(error)
            }
        }
        try result.get()
    }

    // MARK: submitting

    /// Queues `record`. Returns false, and does not queue it, when the queue is over budget (unless
    /// `waitForRoom`, which blocks until there is room: lossless mode), when the record is larger than
    /// a record may be, after a write failure, or after `close()`. Payload captures are cut to the snap length.
    /// A header record is refused too: the file has exactly one, written by `init`.
    @discardableResult
    public func submit(_ record: TraceRecord, waitForRoom: Bool = false) -> Bool {
        if case .header = record { return false }
        let snapLength = self.snapLength
        return queue.enqueue(waitForRoom: waitForRoom) { $0.appendRecord(record, snapLength: snapLength) }
    }

    /// Queues a payload-frame record encoded straight from the captured bytes, without an intermediate
    /// array. The captured payload is `payload` followed by `payloadTail` (for a ring buffer that
    /// wrapped), cut to the snap length; `header.payloadSize` stays the true length.
    @discardableResult
    public func submitPayloadFrame(
        time: UInt64, channel: UInt32, direction: Direction, frameIndex: UInt64, streamOffset: UInt64,
        header: FrameHeader, payload: UnsafeRawBufferPointer,
        payloadTail: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
        fds: [AttachedFD] = [], waitForRoom: Bool = false
    ) -> Bool {
        let snapLength = self.snapLength
        return queue.enqueue(waitForRoom: waitForRoom) { buffer in
            buffer.appendPayloadFrameRecord(
                time: time, channel: channel, direction: direction, frameIndex: frameIndex,
                streamOffset: streamOffset, header: header, payload: payload, payloadTail: payloadTail,
                snapLength: snapLength, fds: fds)
        }
    }

    /// An empty batch for one thread to fill and hand to ``submit(_:waitForRoom:)``.
    public func makeBatch() -> TraceBatch {
        TraceBatch(snapLength: snapLength)
    }

    /// Queues every record of `batch`, in order and contiguous in the file, or none of them: the same
    /// budget rule as for one record applies to the whole batch. The batch is empty afterwards either way.
    @discardableResult
    public func submit(_ batch: TraceBatch, waitForRoom: Bool = false) -> Bool {
        defer { batch.removeAll() }
        guard !batch.isEmpty else { return true }
        return queue.enqueue(batch: batch.buffer, records: batch.recordCount, waitForRoom: waitForRoom)
    }

    /// Encoded bytes queued and not yet written; a recorder degrades capture as this nears the budget.
    public var queuedBytes: Int { queue.queuedBytes.load(ordering: .relaxed) }

    public var statistics: Statistics {
        Statistics(
            acceptedRecords: queue.acceptedRecords.load(ordering: .relaxed),
            rejectedRecords: queue.rejectedRecords.load(ordering: .relaxed),
            bytesWritten: queue.bytesWritten.load(ordering: .relaxed))
    }

    // MARK: flushing and closing

    /// Set once a write failed: the writer writes nothing more (but the end record at `close`).
    public var hasFailed: Bool { queue.hasFailed.load(ordering: .acquiring) }

    /// The first write failure, if any.
    public var writeFailure: TraceWriteFailure? { queue.firstFailure }

    /// Blocks until every record submitted before the call has been handed to write(2).
    /// Throws the first write failure, if any.
    public func flush() throws(TraceFileError) {
        try queue.flush()
    }

    /// Writes everything queued and `end` last, stops the writer thread and closes the file. Later submits
    /// return false. After a write failure, `end` is still written — completed with the failure (stop reason,
    /// errno, offset) — where the whole records end. A writer never published is removed instead (its
    /// recording did not start). Calling it again does nothing. Throws the first write or close failure.
    public func close(ending end: EndRecord? = nil) throws(TraceFileError) {
        guard closed.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            return
        }
        if let end {
            let snapLength = self.snapLength
            _ = queue.enqueue(waitForRoom: true) { $0.appendRecord(.end(end), snapLength: snapLength) }
        }
        queue.beginClosing()
        thread.join()
        let failure = queue.firstFailure
        if let failure, let end { _ = queue.writeEndRecord(end, after: failure) }
        queue.releaseReserve()
        var closeFailure: SystemError?
        do { try descriptor.close() } catch { closeFailure = error }
        if case .staged = publication.withLock({ $0 }) { try file.discard() }
        if let failure { throw .writeStopped(failure) }
        if let closeFailure { throw .system(path: path, operation: "close", errno: closeFailure.errno) }
    }

    // MARK: the start of the file

    private static func writeSynchronously(
        fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String, write: (Int32, UnsafeRawPointer, Int) -> Int
    ) throws(TraceFileError) {
        do throws(SystemError) {
            try writeAll(bytes, "write") { rest in write(fd, rest.baseAddress!, rest.count) }
        } catch {
            throw .system(path: path, operation: error.operation, errno: error.errno)
        }
    }
}
