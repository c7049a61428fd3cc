/// Which frames of one direction are in the receiver's socket: the relay notes where each frame completed in
/// the current chunk ends, and tells the tracker how much of the chunk its writes have put in the socket.
///
/// A frame is delivered when the write covering its last byte returned. The chunk's fds go with the write
/// that starts at the first byte of the frame claiming them, so the fds a frame's record lists are in the
/// socket by then too. Frames are reported as consecutive ranges of frame indexes, each frame once.
struct FrameDeliveryTracker {
    private struct FrameEnd {
        var index: UInt64
        /// Stream offset just past the frame's last byte.
        var end: UInt64
    }

    /// Frames completed in the current chunk, in stream order (capacity kept from chunk to chunk).
    private var ends: [FrameEnd] = []
    /// How many of `ends` were reported delivered.
    private var reported = 0
    /// The first frame index not reported yet: frames of unknown type, which have no record, fall inside
    /// the next range, as their bytes are written before the next frame's.
    private var nextFrame: UInt64 = 0
    private var chunkStart: UInt64 = 0
    private var chunkLength = 0

    /// A chunk of `length` bytes starting at `streamOffset` of the parsed stream was read.
    mutating func beginChunk(at streamOffset: UInt64, length: Int) {
        if !ends.isEmpty { ends.removeAll(keepingCapacity: true) }
        reported = 0
        chunkStart = streamOffset
        chunkLength = length
    }

    /// Frame `index` was completed by this chunk; its last byte is at `end - 1` in the stream.
    mutating func frameCompleted(index: UInt64, end: UInt64) {
        ends.append(FrameEnd(index: index, end: end))
    }

    /// The parser started over (the channel is not LibIPC): its frame indexes do too.
    mutating func restart() {
        self = FrameDeliveryTracker()
    }

    /// The first `written` bytes of the chunk are in the receiver's socket: the frames this newly delivers.
    mutating func written(_ written: Int) -> FramesDelivered? {
        var delivered = reported
        if written >= chunkLength {
            delivered = ends.count
        } else {
            let through = chunkStart &+ UInt64(max(0, written))
            while delivered < ends.count, ends[delivered].end <= through { delivered += 1 }
        }
        guard delivered > reported else { return nil }
        let last = ends[delivered - 1].index
        let range = FramesDelivered(first: min(nextFrame, last), last: last)
        reported = delivered
        nextFrame = last &+ 1
        return range
    }
}
