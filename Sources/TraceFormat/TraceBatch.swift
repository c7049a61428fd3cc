import IPCWire

/// Records encoded by one thread and handed to a ``TraceWriter`` together with
/// ``TraceWriter/submit(_:waitForRoom:)``.
///
/// A relay records every frame of a chunk into its own batch and submits the batch once: one lock and a
/// few atomics per chunk instead of per frame, which is most of the recording cost on small frames.
/// Records keep their order within the batch; a batch lands in the file as one contiguous run.
///
/// Not thread-safe: a batch belongs to the thread that fills it.
public final class TraceBatch {
    /// Captured payload bytes per frame at most: the writer's snap length.
    public let snapLength: Int
    let buffer: ByteBuffer
    // Unchecked exclusivity as in ByteBuffer: updated per frame, and a batch belongs to one thread.
    /// Records in the batch.
    @exclusivity(unchecked) public private(set) var recordCount = 0
    /// The true payload bytes of the batch's frames (what a refused batch loses).
    @exclusivity(unchecked) public private(set) var payloadBytes: UInt64 = 0

    /// Memory kept between batches; a burst beyond it is given back when the batch is emptied.
    static let retainedCapacity = 1 << 20

    init(snapLength: Int) {
        self.snapLength = snapLength
        buffer = ByteBuffer()
        buffer.defersChecksums = true  // the writer thread checksums whole batches
    }

    public var isEmpty: Bool { recordCount == 0 }

    /// Encoded bytes in the batch.
    public var byteCount: Int { buffer.count }

    /// Appends a payload-frame record encoded straight from the borrowed capture, cut to the snap length.
    /// Returns false (appending nothing) when the record could not be encoded.
    @discardableResult
    public func appendPayloadFrame(
        time: UInt64, channel: UInt32, direction: Direction, frameIndex: UInt64, streamOffset: UInt64,
        header: FrameHeader, payload: UnsafeRawBufferPointer, fds: [AttachedFD]
    ) -> Bool {
        let size = buffer.appendPayloadFrameRecord(
            time: time, channel: channel, direction: direction, frameIndex: frameIndex,
            streamOffset: streamOffset, header: header, payload: payload,
            payloadTail: UnsafeRawBufferPointer(start: nil, count: 0), snapLength: snapLength, fds: fds)
        guard size != nil else { return false }
        recordCount += 1
        payloadBytes &+= UInt64(header.payloadSize)
        return true
    }

    /// Appends any record but a header (a file has exactly one). Returns false when it was not appended.
    @discardableResult
    public func append(_ record: TraceRecord) -> Bool {
        if case .header = record { return false }
        guard buffer.appendRecord(record, snapLength: snapLength) != nil else { return false }
        recordCount += 1
        if case .payloadFrame(let frame) = record {
            payloadBytes &+= UInt64(frame.header.payloadSize)
        }
        return true
    }

    /// Empties the batch, keeping its memory unless a burst made it large.
    public func removeAll() {
        buffer.removeAll(keepingAtMost: Self.retainedCapacity)
        recordCount = 0
        payloadBytes = 0
    }
}
