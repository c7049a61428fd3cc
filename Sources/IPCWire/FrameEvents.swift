/// A payload frame whose bytes are complete (docs/protocol.md §1.2, §1.4).
///
/// `capturedPayload` borrows the parser's or the caller's memory and is valid only inside the event
/// callback; copy it (`Array(event.capturedPayload)`) to keep it.
public struct PayloadFrameEvent {
    public var header: FrameHeader
    /// Index of the frame among all frames of this direction, from 0.
    public var frameIndex: UInt64
    /// Stream offset of the frame's first header byte.
    public var streamOffset: UInt64
    /// The first `min(payloadSize, captureLimit)` payload bytes.
    public var capturedPayload: UnsafeRawBufferPointer
    /// Positions in this direction's fd FIFO of the fds that belong to this frame: FIFO plus count
    /// matching means frame k owns the fds after those owned by frames 0..<k.
    public var fdSequence: Range<UInt64>
    /// Whether every fd of the frame had arrived when its last byte did. When false the receiving LibIPC
    /// side stalls on this frame until the missing fds arrive.
    public var fdsArrived: Bool
    /// The positions of ``fdSequence`` whose fds had arrived when the frame's last byte did; the rest, if
    /// they ever come, are reported by ``FrameEvent/lateFDs(_:)``.
    public var arrivedFDSequence: Range<UInt64> = 0..<0

    public var payloadLength: Int { Int(header.payloadSize) }
    public var isTruncated: Bool { capturedPayload.count < payloadLength }
}

/// A file-descriptor acknowledgement frame (type 1, §1.5).
public struct AcknowledgementEvent: Equatable, Sendable {
    public var header: FrameHeader
    public var frameIndex: UInt64
    public var streamOffset: UInt64
    /// How many fds the peer acknowledges.
    public var count: UInt32 { header.fdCount }
}

/// Fds that arrived after the last byte of the frame they belong to (by FIFO plus count matching, as the
/// receiving LibIPC side assigns them), in a later chunk.
public struct LateFDsEvent: Equatable, Sendable {
    /// The frame the fds were matched to.
    public var frameIndex: UInt64
    /// Stream offset of that frame's header.
    public var streamOffset: UInt64
    /// Their positions in the direction's fd FIFO: a part of the frame's ``PayloadFrameEvent/fdSequence``.
    public var fdSequence: Range<UInt64>
}

/// A frame whose header `type` is neither payload nor acknowledgement (after its `unknown-frame-type`
/// violation). Its `payload_size` bytes are skipped: where the next frame starts is an assumption.
public struct UnknownFrameEvent: Equatable, Sendable {
    public var header: FrameHeader
    public var frameIndex: UInt64
    public var streamOffset: UInt64
}

/// What the frame parser reports, in stream order.
public enum FrameEvent {
    case payload(PayloadFrameEvent)
    case acknowledgement(AcknowledgementEvent)
    /// Reported when its header is complete, right after its violation.
    case unknownFrame(UnknownFrameEvent)
    /// Reported at the start of the chunk that brought the fds, before that chunk's frames.
    case lateFDs(LateFDsEvent)
    case violation(Violation)
}
