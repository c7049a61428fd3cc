import Glibc
import IPCWire
import Synchronization

/// Writes a trace file. Relay threads submit records; a dedicated thread writes them in large batches
/// with write(2), in submission order, so submitters never wait on the disk.
///
/// Durability: everything handed to write(2) is in the page cache and survives the death of this process
/// (even SIGKILL); batches go out at least every ``Options/flushIntervalNanoseconds`` or
/// ``Options/flushThresholdBytes``. There is no fsync: a power loss can lose the last seconds.
public final class TraceWriter: Sendable {
    public struct Options: Sendable {
        /// Queued bytes (encoded, not yet written) beyond which `submit` refuses records.
        public var queueBudgetBytes: Int
        /// Pending bytes that make the writer thread write at once.
        public var flushThresholdBytes: Int
        /// Longest time a record waits in the queue before the writer thread writes it.
        public var flushIntervalNanoseconds: UInt64

        public init(
            queueBudgetBytes: Int = 64 << 20, flushThresholdBytes: Int = 256 << 10,
            flushIntervalNanoseconds: UInt64 = 20_000_000
        ) {
            self.queueBudgetBytes = queueBudgetBytes
            self.flushThresholdBytes = flushThresholdBytes
            self.flushIntervalNanoseconds = flushIntervalNanoseconds
        }
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

    private let fd: Int32
    private let queue: WriterQueue
    private let thread: WriterThread
    private let closed = Atomic<Bool>(false)

    /// Creates the file with mode 0600 (replacing an existing regular file, so that a reader of the old
    /// one is not disturbed), writes the file header and `header` synchronously, and starts the writer thread.
    public init(path: String, header: TraceHeader, options: Options = Options()) throws(TraceFileError) {
        self.path = path
        self.header = header
        self.options = options
        snapLength = Int(header.snapLength)

        let start = ByteBuffer()
        TraceFileLayout.fileHeaderBytes().withUnsafeBytes { start.append(bytes: $0) }
        guard start.appendRecord(.header(header)) != nil else {
            let body = ByteBuffer()
            body.appendHeaderBody(header)
            throw .recordTooLarge(path: path, kind: .header, bodyLength: body.count)
        }

        fd = try Self.createFile(path)
        do {
            try Self.writeSynchronously(fd: fd, start.bytes, path: path)
        } catch {
            Glibc.close(fd)
            throw error
        }
        queue = WriterQueue(path: path, fd: fd, options: .init(
            budgetBytes: options.queueBudgetBytes, flushThresholdBytes: options.flushThresholdBytes,
            flushIntervalNanoseconds: options.flushIntervalNanoseconds))
        queue.bytesWritten.add(UInt64(start.count), ordering: .relaxed)
        let queue = self.queue
        do {
            thread = try WriterThread(path: path) { queue.runWriterLoop() }
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    deinit {
        if !closed.load(ordering: .acquiring) { try? close() }
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

    /// Blocks until every record submitted before the call has been handed to write(2).
    /// Throws the first write failure, if any.
    public func flush() throws(TraceFileError) {
        try queue.flush()
    }

    /// Writes everything queued, stops the writer thread and closes the file. Later submits return false.
    /// Calling it again does nothing. Throws the first write or close failure, if any.
    public func close() throws(TraceFileError) {
        guard closed.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            return
        }
        queue.beginClosing()
        thread.join()
        let closeResult = Glibc.close(fd)
        let closeErrno = errno
        if let failure = queue.firstFailure { throw failure }
        if closeResult != 0 { throw .system(path: path, operation: "close", errno: closeErrno) }
    }

    // MARK: creating the file

    private static func createFile(_ path: String) throws(TraceFileError) -> Int32 {
        // A reader may be mapping an earlier trace at this path (a viewer following the last run):
        // truncating it in place would pull its pages away. A regular file is replaced instead — unlinked,
        // then created anew (O_EXCL, so nothing can slip in between) — and that reader keeps the old file.
        // Anything else (a symlink, a FIFO) goes through the open below as before.
        var flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NONBLOCK
        var existing = stat()
        if lstat(path, &existing) == 0, existing.st_mode & S_IFMT == S_IFREG, unlink(path) == 0 {
            flags |= O_EXCL
        }
        // O_NONBLOCK only so that opening a FIFO cannot hang; it is refused just below.
        let fd = open(path, flags, 0o600)
        guard fd >= 0 else { throw .system(path: path, operation: "open", errno: errno) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let error = errno
            Glibc.close(fd)
            throw .system(path: path, operation: "fstat", errno: error)
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            Glibc.close(fd)
            throw .notARegularFile(path: path)
        }
        // The mode given to open applies only to a new file; an existing one keeps its mode otherwise.
        guard fchmod(fd, 0o600) == 0, fcntl(fd, F_SETFL, 0) == 0 else {
            let error = errno
            Glibc.close(fd)
            throw .system(path: path, operation: "fchmod/fcntl", errno: error)
        }
        return fd
    }

    private static func writeSynchronously(fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(TraceFileError) {
        guard var next = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let written = write(fd, next, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                throw .system(path: path, operation: "write", errno: errno)
            }
            next += written
            remaining -= written
        }
    }
}
