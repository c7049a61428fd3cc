import IPCWire

/// The kind byte of a record (docs/trace-format.md §4). Values are never reused.
public enum TraceRecordKind: UInt8, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    case header = 1
    case channelOpened = 2
    case payloadFrame = 3
    case acknowledgement = 4
    case eof = 5
    case queueSample = 6
    case violation = 7
    case captureLoss = 8
    case end = 9
    case channelClosed = 10
    case endpointResolved = 11
    case channelTransferred = 12
    case lateFDs = 13
    case channelClassified = 14
    case process = 15
    case endpoint = 16
    case unknownFrame = 17
    case framesDelivered = 18

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The name used in reports and JSON.
    public var description: String {
        switch self {
        case .header: "header"
        case .channelOpened: "channel-opened"
        case .payloadFrame: "payload-frame"
        case .acknowledgement: "acknowledgement"
        case .eof: "eof"
        case .queueSample: "queue-sample"
        case .violation: "violation"
        case .captureLoss: "capture-loss"
        case .end: "end"
        case .channelClosed: "channel-closed"
        case .endpointResolved: "endpoint-resolved"
        case .channelTransferred: "channel-transferred"
        case .lateFDs: "late-fds"
        case .channelClassified: "channel-classified"
        case .process: "process"
        case .endpoint: "endpoint"
        case .unknownFrame: "unknown-frame"
        case .framesDelivered: "frames-delivered"
        }
    }
}

/// One record of a trace file. Every time is u64 nanoseconds of CLOCK_MONOTONIC; the header's
/// ``TraceHeader/monotonicAnchorNanoseconds`` and ``TraceHeader/createdWallClockNanoseconds`` convert them.
public enum TraceRecord: Sendable, Equatable {
    case header(TraceHeader)
    case channelOpened(ChannelOpenedRecord)
    case payloadFrame(PayloadFrameRecord)
    case acknowledgement(AcknowledgementRecord)
    case eof(EOFRecord)
    case queueSample(QueueSampleRecord)
    case violation(ViolationRecord)
    case captureLoss(CaptureLossRecord)
    case end(EndRecord)
    case channelClosed(ChannelClosedRecord)
    case endpointResolved(EndpointResolvedRecord)
    case channelTransferred(ChannelTransferredRecord)
    case lateFDs(LateFDsRecord)
    case channelClassified(ChannelClassifiedRecord)
    case process(ProcessRecord)
    case endpoint(EndpointRecord)
    case unknownFrame(UnknownFrameRecord)
    case framesDelivered(FramesDeliveredRecord)

    public var kind: TraceRecordKind {
        switch self {
        case .header: .header
        case .channelOpened: .channelOpened
        case .payloadFrame: .payloadFrame
        case .acknowledgement: .acknowledgement
        case .eof: .eof
        case .queueSample: .queueSample
        case .violation: .violation
        case .captureLoss: .captureLoss
        case .end: .end
        case .channelClosed: .channelClosed
        case .endpointResolved: .endpointResolved
        case .channelTransferred: .channelTransferred
        case .lateFDs: .lateFDs
        case .channelClassified: .channelClassified
        case .process: .process
        case .endpoint: .endpoint
        case .unknownFrame: .unknownFrame
        case .framesDelivered: .framesDelivered
        }
    }

    /// Monotonic time of the record; for the header, its monotonic anchor.
    public var time: UInt64 {
        switch self {
        case .header(let r): r.monotonicAnchorNanoseconds
        case .channelOpened(let r): r.time
        case .payloadFrame(let r): r.time
        case .acknowledgement(let r): r.time
        case .eof(let r): r.time
        case .queueSample(let r): r.time
        case .violation(let r): r.time
        case .captureLoss(let r): r.time
        case .end(let r): r.time
        case .channelClosed(let r): r.time
        case .endpointResolved(let r): r.time
        case .channelTransferred(let r): r.time
        case .lateFDs(let r): r.time
        case .channelClassified(let r): r.time
        case .process(let r): r.time
        case .endpoint(let r): r.time
        case .unknownFrame(let r): r.time
        case .framesDelivered(let r): r.time
        }
    }

    /// The channel the record is about; nil for the header and end records.
    public var channel: UInt32? {
        switch self {
        case .header, .end, .process: nil
        case .channelOpened(let r): r.channel
        case .payloadFrame(let r): r.channel
        case .acknowledgement(let r): r.channel
        case .eof(let r): r.channel
        case .queueSample(let r): r.channel
        case .violation(let r): r.channel
        case .captureLoss(let r): r.channel
        case .channelClosed(let r): r.channel
        case .endpointResolved(let r): r.channel
        case .channelTransferred(let r): r.channel
        case .lateFDs(let r): r.channel
        case .channelClassified(let r): r.channel
        case .endpoint(let r): r.channel
        case .unknownFrame(let r): r.channel
        case .framesDelivered(let r): r.channel
        }
    }

    /// The direction the record is about; nil for records of a whole channel, a process or the trace.
    public var direction: Direction? {
        switch self {
        case .payloadFrame(let r): r.direction
        case .acknowledgement(let r): r.direction
        case .eof(let r): r.direction
        case .queueSample(let r): r.direction
        case .violation(let r): r.direction
        case .captureLoss(let r): r.direction
        case .lateFDs(let r): r.direction
        case .unknownFrame(let r): r.direction
        case .framesDelivered(let r): r.direction
        default: nil
        }
    }
}

// MARK: - 1 header

/// The first record of every trace: what was recorded, when, where, and under which limits.
public struct TraceHeader: Sendable, Equatable {
    /// A limit in force while recording, by its LibIPC name (for example `MAX_MESSAGE_PAYLOAD_SIZE`).
    public struct Limit: Sendable, Equatable, Hashable {
        public var name: String
        public var value: UInt64
        public init(name: String, value: UInt64) {
            self.name = name
            self.value = value
        }
    }

    /// An `.ipc` endpoint definition the recorder used, kept so that the trace decodes on its own.
    public struct EmbeddedSchema: Sendable, Equatable, Hashable {
        public var path: String
        public var text: String
        public init(path: String, text: String) {
            self.path = path
            self.text = text
        }
    }

    public var formatVersion: TraceFormatVersion
    /// Wall-clock time (ns since the Unix epoch, CLOCK_REALTIME) at the monotonic instant below.
    public var createdWallClockNanoseconds: UInt64
    /// The CLOCK_MONOTONIC instant at which the wall clock read ``createdWallClockNanoseconds``.
    public var monotonicAnchorNanoseconds: UInt64
    public var hostName: String
    public var ipcscopeVersion: String
    public var commandLine: [String]
    public var limits: [Limit]
    /// Payload bytes captured per frame at most; longer payloads keep only their first `snapLength` bytes.
    /// Since 1.1 a frame keeps at least its envelope whatever this says: see ``captureLength``.
    public var snapLength: UInt32

    /// Payload bytes a frame's record holds at most: the snap length, but never less than the envelope
    /// (magic and message id, 8 bytes), so every payload frame stays identifiable. The one place the
    /// recorder's capture limit comes from.
    public var captureLength: Int { max(Int(snapLength), MessageEnvelope.size) }
    public var schemas: [EmbeddedSchema]

    public init(
        formatVersion: TraceFormatVersion = TraceFileLayout.currentVersion,
        createdWallClockNanoseconds: UInt64, monotonicAnchorNanoseconds: UInt64,
        hostName: String, ipcscopeVersion: String, commandLine: [String],
        limits: [Limit] = TraceHeader.libIPCLimits, snapLength: UInt32, schemas: [EmbeddedSchema] = []
    ) {
        self.formatVersion = formatVersion
        self.createdWallClockNanoseconds = createdWallClockNanoseconds
        self.monotonicAnchorNanoseconds = monotonicAnchorNanoseconds
        self.hostName = hostName
        self.ipcscopeVersion = ipcscopeVersion
        self.commandLine = commandLine
        self.limits = limits
        self.snapLength = snapLength
        self.schemas = schemas
    }

    /// Wall-clock ns since the epoch of a monotonic time of this trace.
    public func wallClockNanoseconds(ofMonotonic time: UInt64) -> Int64 {
        let delta = Int64(truncatingIfNeeded: time &- monotonicAnchorNanoseconds)
        return Int64(truncatingIfNeeded: createdWallClockNanoseconds) &+ delta
    }

    /// IPCWire's ``Limits`` under their LibIPC names.
    public static let libIPCLimits: [Limit] = [
        Limit(name: "MAX_MESSAGE_PAYLOAD_SIZE", value: Limits.maxMessagePayloadSize),
        Limit(name: "MAX_MESSAGE_FD_COUNT", value: Limits.maxMessageFDCount),
        Limit(name: "MAX_TRANSFER_FDS", value: Limits.maxTransferFDs),
        Limit(name: "MAX_UNPROCESSED_BUFFER_SIZE", value: Limits.maxUnprocessedBufferSize),
        Limit(name: "MAX_UNPROCESSED_FDS", value: Limits.maxUnprocessedFDs),
        Limit(name: "MAX_DECODED_SIZE", value: Limits.maxDecodedSize),
        Limit(name: "SOCKET_BUFFER_SIZE", value: UInt64(Limits.socketBufferSize)),
    ]
}

// MARK: - 2 channelOpened

/// One side of a channel as the recorder saw it.
public struct ChannelEndpoint: Sendable, Equatable {
    public var name: String
    /// -1 when unknown.
    public var pid: Int32
    public var command: String

    public init(name: String, pid: Int32 = -1, command: String = "") {
        self.name = name
        self.pid = pid
        self.command = command
    }
}

/// Where a transferred channel came from: the frame that carried its socket.
public struct TransferOrigin: Sendable, Equatable {
    public var parentChannel: UInt32
    public var direction: Direction
    public var frameIndex: UInt64

    public init(parentChannel: UInt32, direction: Direction, frameIndex: UInt64) {
        self.parentChannel = parentChannel
        self.direction = direction
        self.frameIndex = frameIndex
    }
}

public struct ChannelOpenedRecord: Sendable, Equatable {
    public var time: UInt64
    public var channel: UInt32
    public var endpointA: ChannelEndpoint
    public var endpointB: ChannelEndpoint
    public var discovery: ChannelDiscovery
    /// For ``ChannelDiscovery/transfer``: the frame that carried the channel, when known.
    public var transferredBy: TransferOrigin?

    public init(
        time: UInt64, channel: UInt32, endpointA: ChannelEndpoint, endpointB: ChannelEndpoint,
        discovery: ChannelDiscovery, transferredBy: TransferOrigin? = nil
    ) {
        self.time = time
        self.channel = channel
        self.endpointA = endpointA
        self.endpointB = endpointB
        self.discovery = discovery
        self.transferredBy = transferredBy
    }
}

// MARK: - 3 payloadFrame

/// An fd attached to a payload frame, described (the fd itself is not recorded).
public struct AttachedFD: Sendable, Equatable, Hashable {
    public var kind: FDKind
    public var inode: UInt64
    /// File size for regular files and memfds; 0 otherwise.
    public var size: UInt64
    /// True when ipcscope replaced the fd with one of its own (for example a proxied socket).
    public var interposed: Bool

    public init(kind: FDKind, inode: UInt64 = 0, size: UInt64 = 0, interposed: Bool = false) {
        self.kind = kind
        self.inode = inode
        self.size = size
        self.interposed = interposed
    }
}

/// A payload frame read in place (``TraceReader/payloadFrameFields(at:)``): `frame` has every fixed field and
/// its `capturedPayload` and `fds` left empty; what the captured bytes and fd list are is summed up here.
public struct PayloadFrameFields: Sendable {
    public var frame: PayloadFrameRecord
    /// The first 8 captured bytes, when at least 8 were captured.
    public var envelope: MessageEnvelope?
    /// How many payload bytes the record holds (`capturedPayload.count` of the decoded record).
    public var capturedSize: Int
    /// How many fds the record's list describes (`fds.count` of the decoded record).
    public var attachedFDCount: Int
}

public struct PayloadFrameRecord: Sendable, Equatable {
    public var time: UInt64
    public var channel: UInt32
    public var direction: Direction
    /// Index of the frame (payload and ack frames counted together) in its direction.
    public var frameIndex: UInt64
    /// Byte offset of the frame header in its direction's stream.
    public var streamOffset: UInt64
    /// The frame header as sent; `header.payloadSize` is the true payload length.
    public var header: FrameHeader
    /// The first bytes of the payload, at most the trace's snap length.
    public var capturedPayload: [UInt8]
    public var fds: [AttachedFD]

    public init(
        time: UInt64, channel: UInt32, direction: Direction, frameIndex: UInt64, streamOffset: UInt64,
        header: FrameHeader, capturedPayload: [UInt8], fds: [AttachedFD] = []
    ) {
        self.time = time
        self.channel = channel
        self.direction = direction
        self.frameIndex = frameIndex
        self.streamOffset = streamOffset
        self.header = header
        self.capturedPayload = capturedPayload
        self.fds = fds
    }

    /// True when every payload byte was captured.
    public var isPayloadComplete: Bool { UInt64(capturedPayload.count) >= UInt64(header.payloadSize) }
}

// MARK: - 4 acknowledgement

public struct AcknowledgementRecord: Sendable, Equatable {
    public var time: UInt64
    public var channel: UInt32
    public var direction: Direction
    public var frameIndex: UInt64
    public var streamOffset: UInt64
    /// Fds acknowledged (the ack frame's `fd_count`).
    public var count: UInt32
    /// (1.1) The ack frame's `payload_size` as sent: 0 in a valid ack (anything else is an
    /// `ack-with-payload` violation, and those bytes were skipped). Nil in traces written before 1.1.
    public var payloadSize: UInt32?

    public init(
        time: UInt64, channel: UInt32, direction: Direction, frameIndex: UInt64, streamOffset: UInt64, count: UInt32,
        payloadSize: UInt32? = 0
    ) {
        self.time = time
        self.channel = channel
        self.direction = direction
        self.frameIndex = frameIndex
        self.streamOffset = streamOffset
        self.count = count
        self.payloadSize = payloadSize
    }
}

// MARK: - 5 eof

/// The end of one direction of a channel.
public struct EOFRecord: Sendable, Equatable {
    public var time: UInt64
    public var channel: UInt32
    public var direction: Direction
    public var kind: EOFKind
    /// errno of the failing call for ``EOFKind/reset`` and ``EOFKind/error``; 0 otherwise.
    public var errorNumber: Int32
    /// The ``Violation/Kind`` raw value that probably made the receiver disconnect, when there is one.
    public var likelyCause: String?
    /// The frame that likely cause concerned.
    public var likelyCauseFrameIndex: UInt64?

    public init(
        time: UInt64, channel: UInt32, direction: Direction, kind: EOFKind, errorNumber: Int32 = 0,
        likelyCause: String? = nil, likelyCauseFrameIndex: UInt64? = nil
    ) {
        self.time = time
        self.channel = channel
        self.direction = direction
        self.kind = kind
        self.errorNumber = errorNumber
        self.likelyCause = likelyCause
        self.likelyCauseFrameIndex = likelyCauseFrameIndex
    }
}

// MARK: - 6 queueSample

/// Queue depths of one direction at one instant. A field named in ``notMeasured`` is 0 because it was not
/// measured, not because it was 0 (1.1; a 1.0 sample measured every field).
public struct QueueSampleRecord: Sendable, Equatable {
    /// The fields of a sample that were not measured: bits 1–6 of the record's flags byte.
    public struct Fields: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue & Self.all.rawValue }

        public static let proxyBufferedBytes = Fields(bits: 1 << 1)
        public static let receiverUnreadBytes = Fields(bits: 1 << 2)
        public static let unacknowledgedFDs = Fields(bits: 1 << 3)
        public static let pendingSyncRequests = Fields(bits: 1 << 4)
        public static let receiverUnprocessedBytes = Fields(bits: 1 << 5)
        public static let receiverUnmatchedFDs = Fields(bits: 1 << 6)
        public static let all = Fields(bits: 0b0111_1110)

        private init(bits: UInt8) { rawValue = bits }
    }

    public var time: UInt64
    public var channel: UInt32
    public var direction: Direction
    /// Bytes read from the sender that the proxy has not yet written to the receiver.
    public var proxyBufferedBytes: UInt64
    /// Bytes written to the receiver's socket that it has not read yet.
    public var receiverUnreadBytes: UInt64
    /// True when ``receiverUnreadBytes`` is exact; false when it is a SIOCOUTQ kernel-memory estimate.
    public var receiverUnreadIsExact: Bool
    /// Fds sent in this direction that the receiver has not acknowledged.
    public var unacknowledgedFDs: UInt64
    /// Synchronous requests in this direction still waiting for their response.
    public var pendingSyncRequests: UInt64
    /// Bytes the receiving LibIPC side holds unparsed (its `MAX_UNPROCESSED_BUFFER_SIZE` counter), modelled.
    public var receiverUnprocessedBytes: UInt64
    /// Fds the receiving side holds unmatched (its `MAX_UNPROCESSED_FDS` counter), modelled.
    public var receiverUnmatchedFDs: UInt64
    /// The fields that were not measured (written as 0).
    public var notMeasured: Fields

    public init(
        time: UInt64, channel: UInt32, direction: Direction, proxyBufferedBytes: UInt64 = 0,
        receiverUnreadBytes: UInt64 = 0, receiverUnreadIsExact: Bool = true, unacknowledgedFDs: UInt64 = 0,
        pendingSyncRequests: UInt64 = 0, receiverUnprocessedBytes: UInt64 = 0, receiverUnmatchedFDs: UInt64 = 0,
        notMeasured: Fields = []
    ) {
        self.time = time
        self.channel = channel
        self.direction = direction
        self.proxyBufferedBytes = proxyBufferedBytes
        self.receiverUnreadBytes = receiverUnreadBytes
        self.receiverUnreadIsExact = receiverUnreadIsExact
        self.unacknowledgedFDs = unacknowledgedFDs
        self.pendingSyncRequests = pendingSyncRequests
        self.receiverUnprocessedBytes = receiverUnprocessedBytes
        self.receiverUnmatchedFDs = receiverUnmatchedFDs
        self.notMeasured = notMeasured
    }

    /// The flags byte: bit 0 receiver unread bytes is exact, bits 1–6 ``notMeasured``.
    public var flags: UInt8 { (receiverUnreadIsExact ? 1 : 0) | notMeasured.rawValue }
}

// MARK: - 7 violation

/// An IPCWire ``Violation`` as recorded. The kind is kept as its string so kinds added later survive
/// an older reader; ``violation`` gives the typed value when the kind is known.
public struct ViolationRecord: Sendable, Equatable {
    public var time: UInt64
    public var channel: UInt32
    public var direction: Direction
    /// ``Violation/Kind`` raw value.
    public var kindName: String
    public var severity: Violation.Severity
    public var limit: UInt64
    public var observed: UInt64
    public var streamOffset: UInt64
    public var frameIndex: UInt64?
    public var continuation: Violation.Continuation

    public init(time: UInt64, channel: UInt32, direction: Direction, violation: Violation) {
        self.init(
            time: time, channel: channel, direction: direction, kindName: violation.kind.rawValue,
            severity: violation.severity, limit: violation.limit, observed: violation.observed,
            streamOffset: violation.streamOffset, frameIndex: violation.frameIndex,
            continuation: violation.continuation)
    }

    public init(
        time: UInt64, channel: UInt32, direction: Direction, kindName: String, severity: Violation.Severity,
        limit: UInt64, observed: UInt64, streamOffset: UInt64, frameIndex: UInt64?,
        continuation: Violation.Continuation
    ) {
        self.time = time
        self.channel = channel
        self.direction = direction
        self.kindName = kindName
        self.severity = severity
        self.limit = limit
        self.observed = observed
        self.streamOffset = streamOffset
        self.frameIndex = frameIndex
        self.continuation = continuation
    }

    /// The kind, when this build knows it.
    public var kind: Violation.Kind? { Violation.Kind(rawValue: kindName) }

    /// The typed violation, when this build knows its kind.
    public var violation: Violation? {
        guard let kind else { return nil }
        return Violation(
            kind: kind, severity: severity, limit: limit, observed: observed, streamOffset: streamOffset,
            frameIndex: frameIndex, continuation: continuation)
    }
}

// MARK: - 8 captureLoss

/// Frames or bytes that passed through the proxy but are not (fully) in the trace.
public struct CaptureLossRecord: Sendable, Equatable {
    /// Reasons the recorder uses; any string is allowed.
    public enum Reason {
        /// The trace writer's queue was over half its budget: the frames' records are in the trace, their
        /// payloads cut to the envelope (the first 8 bytes).
        public static let writerBehind = "writer behind"
        /// The trace writer's queue was over budget and refused a whole batch: the records counted here are
        /// not in the trace at all (1.1; before 1.1 this was also counted as `writer behind`).
        public static let recordsDropped = "records dropped"
        /// Payload bytes beyond the snap length.
        public static let snapLength = "snaplen"
    }

    /// (1.1) Records other than frames that were lost with them (a dropped batch).
    public struct OtherRecordsLost: Sendable, Equatable {
        public var queueSamples: UInt64
        public var lateFDs: UInt64
        /// Frames-delivered records: a reader sees the gap they leave in a direction's delivered ranges.
        public var framesDelivered: UInt64

        public init(queueSamples: UInt64 = 0, lateFDs: UInt64 = 0, framesDelivered: UInt64 = 0) {
            self.queueSamples = queueSamples
            self.lateFDs = lateFDs
            self.framesDelivered = framesDelivered
        }
    }

    public var time: UInt64
    public var channel: UInt32
    public var direction: Direction
    /// Frames (payload, acknowledgement and unknown-type) whose records are missing or cut.
    public var framesAffected: UInt64
    public var bytesNotCaptured: UInt64
    public var reason: String
    /// (1.1) The lowest and highest frame index of the frames affected; every frame affected lies in it
    /// (frames in it that have a record of their own were not lost). Nil when no frame was affected, and in
    /// traces written before 1.1.
    public var frameRange: ClosedRange<UInt64>?
    /// (1.1) Of ``framesAffected``, how many were acknowledgement frames and unknown-type frames.
    public var acknowledgementFrames: UInt64
    public var unknownTypeFrames: UInt64
    /// (1.1) Other records lost with the frames.
    public var otherRecords: OtherRecordsLost

    public init(
        time: UInt64, channel: UInt32, direction: Direction, framesAffected: UInt64, bytesNotCaptured: UInt64,
        reason: String, frameRange: ClosedRange<UInt64>? = nil, acknowledgementFrames: UInt64 = 0,
        unknownTypeFrames: UInt64 = 0, otherRecords: OtherRecordsLost = .init()
    ) {
        self.time = time
        self.channel = channel
        self.direction = direction
        self.framesAffected = framesAffected
        self.bytesNotCaptured = bytesNotCaptured
        self.reason = reason
        self.frameRange = frameRange
        self.acknowledgementFrames = acknowledgementFrames
        self.unknownTypeFrames = unknownTypeFrames
        self.otherRecords = otherRecords
    }

    /// Payload frames among the frames affected.
    public var payloadFrames: UInt64 { framesAffected &- acknowledgementFrames &- unknownTypeFrames }
}

// MARK: - 9 end

/// Totals over the whole recording: what passed through, including anything lost to capture loss or
/// after a write error.
public struct TraceSummary: Sendable, Equatable {
    public var channels: UInt64
    /// Payload frames (type 0) only.
    public var frames: UInt64
    /// Bytes of those payload frames on the wire: their payloads plus 12 header bytes each.
    public var bytes: UInt64
    /// Fds that arrived for payload frames (listed in payload-frame and late-fds records).
    public var fds: UInt64
    /// Violation records of severity `violation` only (a rule broken).
    public var violations: UInt64
    /// (1.1) Acknowledgement frames, unknown-type frames, and violation records of severity `warning`
    /// (a value near its limit, not over it). Nil in traces written before 1.1.
    public var acknowledgementFrames: UInt64?
    public var unknownTypeFrames: UInt64?
    public var warnings: UInt64?

    public init(
        channels: UInt64 = 0, frames: UInt64 = 0, bytes: UInt64 = 0, fds: UInt64 = 0, violations: UInt64 = 0,
        acknowledgementFrames: UInt64? = nil, unknownTypeFrames: UInt64? = nil, warnings: UInt64? = nil
    ) {
        self.channels = channels
        self.frames = frames
        self.bytes = bytes
        self.fds = fds
        self.violations = violations
        self.acknowledgementFrames = acknowledgementFrames
        self.unknownTypeFrames = unknownTypeFrames
        self.warnings = warnings
    }
}

/// The last record of a trace whose recorder stopped (rather than being killed).
public struct EndRecord: Sendable, Equatable {
    public var time: UInt64
    public var summary: TraceSummary
    public var cleanStop: Bool
    /// (1.1) Whether every record was written, or writing stopped at an error. `.complete` in 1.0 files.
    public var stopReason: StopReason
    /// (1.1) For a write error: the errno, the file offset where writing stopped (where this record
    /// starts: the records before it are whole) and what failed ("write", "fallocate", …). 0 and empty otherwise.
    public var errorNumber: Int32
    public var stopOffset: UInt64
    public var failedOperation: String

    public init(
        time: UInt64, summary: TraceSummary, cleanStop: Bool, stopReason: StopReason = .complete,
        errorNumber: Int32 = 0, stopOffset: UInt64 = 0, failedOperation: String = ""
    ) {
        self.time = time
        self.summary = summary
        self.cleanStop = cleanStop
        self.stopReason = stopReason
        self.errorNumber = errorNumber
        self.stopOffset = stopOffset
        self.failedOperation = failedOperation
    }

    /// This record as the writer completes it after `failure`: it says why the trace ends early.
    public func stopped(by failure: TraceWriteFailure) -> EndRecord {
        var end = self
        end.stopReason = .writeError
        end.errorNumber = failure.errno
        end.stopOffset = failure.offset
        end.failedOperation = failure.operation
        return end
    }
}

// MARK: - 10 channelClosed

/// What one direction of a channel carried through the proxy, parsed or not.
public struct DirectionTraffic: Sendable, Equatable {
    public var bytes: UInt64
    /// Reads the proxy made (each forwarded as it came).
    public var reads: UInt64
    public var fds: UInt64

    public init(bytes: UInt64 = 0, reads: UInt64 = 0, fds: UInt64 = 0) {
        self.bytes = bytes
        self.reads = reads
        self.fds = fds
    }
}

/// Everything a channel relayed, in both directions (1.1).
public struct ChannelTraffic: Sendable, Equatable {
    public var aToB: DirectionTraffic
    public var bToA: DirectionTraffic

    public init(aToB: DirectionTraffic = .init(), bToA: DirectionTraffic = .init()) {
        self.aToB = aToB
        self.bToA = bToA
    }

    public var bytes: UInt64 { aToB.bytes &+ bToA.bytes }
    public var fds: UInt64 { aToB.fds &+ bToA.fds }
}

public struct ChannelClosedRecord: Sendable, Equatable {
    public var time: UInt64
    public var channel: UInt32
    /// What the channel relayed; nil in traces written before 1.1.
    public var traffic: ChannelTraffic?

    public init(time: UInt64, channel: UInt32, traffic: ChannelTraffic? = nil) {
        self.time = time
        self.channel = channel
        self.traffic = traffic
    }
}

// MARK: - 11 endpointResolved

/// Who one side of a channel turned out to be, learnt after the channel opened: the process holding that
/// side's socket when the channel first carried traffic, or the endpoint its messages belong to (from the
/// schemas). Replaces the endpoint given by channel-opened (or an earlier endpoint-resolved) for that side.
public struct EndpointResolvedRecord: Sendable, Equatable {
    public enum Side: UInt8, Sendable {
        case a = 0
        case b = 1
    }

    public var time: UInt64
    public var channel: UInt32
    public var side: Side
    public var endpoint: ChannelEndpoint

    public init(time: UInt64, channel: UInt32, side: Side, endpoint: ChannelEndpoint) {
        self.time = time
        self.channel = channel
        self.side = side
        self.endpoint = endpoint
    }
}

// MARK: - 12 channelTransferred

/// One end of an already recorded channel travelled as an attachment of a frame (a transport handed to
/// another process, docs/protocol.md §6). Channels found when their transport was created (preload) get their
/// link to the carrying frame this way; followed transfers carry it in channel-opened.
public struct ChannelTransferredRecord: Sendable, Equatable {
    /// (1.1) The channel was found by this hand-over (a followed transfer): the recorder relays its streams
    /// from the moment it adopted the transport, not from their start.
    public struct Adoption: Sendable, Equatable {
        /// Frames the previous owner had read, recovered from the carrying message: the first
        /// `recoveredFrames` payload frames of `recoveredDirection` (indices 0 to count − 1). Frame indices and
        /// stream offsets of the channel count from the first frame the trace knows of each direction.
        public var recoveredFrames: UInt32
        public var recoveredDirection: Direction

        public init(recoveredFrames: UInt32 = 0, recoveredDirection: Direction = .aToB) {
            self.recoveredFrames = recoveredFrames
            self.recoveredDirection = recoveredDirection
        }
    }

    public var time: UInt64
    /// The channel whose end travelled.
    public var channel: UInt32
    /// The frame that carried it.
    public var carriedBy: TransferOrigin
    /// Nil when the channel was relayed before it travelled (and in 1.0 traces).
    public var adoption: Adoption?

    public init(time: UInt64, channel: UInt32, carriedBy: TransferOrigin, adoption: Adoption? = nil) {
        self.time = time
        self.channel = channel
        self.carriedBy = carriedBy
        self.adoption = adoption
    }
}

// MARK: - 13 lateFDs (1.1)

/// Fds that arrived after the last byte of the payload frame they belong to (FIFO plus count matching, as
/// the receiving LibIPC side assigns them). The frame's own record lists only the fds that had arrived by
/// then; these complete it.
public struct LateFDsRecord: Sendable, Equatable {
    public var time: UInt64
    public var channel: UInt32
    public var direction: Direction
    /// The payload frame the fds belong to.
    public var frameIndex: UInt64
    public var fds: [AttachedFD]

    public init(time: UInt64, channel: UInt32, direction: Direction, frameIndex: UInt64, fds: [AttachedFD]) {
        self.time = time
        self.channel = channel
        self.direction = direction
        self.frameIndex = frameIndex
        self.fds = fds
    }
}

// MARK: - 14 channelClassified

/// What a channel carries, decided once: from where it was found (a LibIPC helper socket, a transport
/// sent in a LibIPC frame, a socket path the user named) or from its first frame header. A channel that is
/// not LibIPC is relayed and counted but not parsed: it has no frame, ack or violation records (1.1).
public struct ChannelClassifiedRecord: Sendable, Equatable {
    public var time: UInt64
    public var channel: UInt32
    public var channelProtocol: ChannelProtocol
    /// The direction whose first bytes decided; nil when the traffic did not (known from discovery,
    /// carried in a LibIPC frame, or the channel ended undetermined).
    public var decidedBy: Direction?
    /// Why, in a few words.
    public var reason: String
    /// The first bytes of the deciding direction that were examined (at most one frame header, 12).
    public var evidence: [UInt8]

    public init(
        time: UInt64, channel: UInt32, channelProtocol: ChannelProtocol, decidedBy: Direction? = nil,
        reason: String, evidence: [UInt8] = []
    ) {
        self.time = time
        self.channel = channel
        self.channelProtocol = channelProtocol
        self.decidedBy = decidedBy
        self.reason = reason
        self.evidence = evidence
    }
}

// MARK: - 15 process (1.1)

/// A process the recorder saw: written the first time a pid is seen (before any record that names it), and
/// again when the pid is seen with another start time (the pid was reused). `pid` and `startTime` together
/// name one process for the host's uptime.
public struct ProcessRecord: Sendable, Equatable {
    public struct Flags: OptionSet, Sendable, Equatable {
        public var rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// The command line was longer than the recorder reads (4 KiB): `arguments` is cut.
        public static let commandLineTruncated = Flags(rawValue: 1)
        /// The process had exited (or /proc would not say) when it was looked up: fields may be empty.
        public static let detailsMissing = Flags(rawValue: 2)
    }

    public var time: UInt64
    public var pid: Int32
    /// -1 when unknown.
    public var parentPID: Int32
    /// Nanoseconds since boot, on the kernel's boot clock (CLOCK_BOOTTIME): /proc/PID/stat `starttime`
    /// × 10⁹ / CLK_TCK, so at clock-tick resolution (10 ms at 100 Hz). 0 when unknown.
    public var startTime: UInt64
    /// The boot clock read together with `time`: the process started `bootClockAtTime − startTime`
    /// nanoseconds before `time` (on the trace's monotonic clock, which stops during suspend, the start
    /// may be earlier than that).
    public var bootClockAtTime: UInt64
    public var flags: Flags
    /// readlink of /proc/PID/exe; empty when unknown.
    public var executable: String
    /// /proc/PID/cmdline split at its NULs.
    public var arguments: [String]

    public init(
        time: UInt64, pid: Int32, parentPID: Int32 = -1, startTime: UInt64 = 0, bootClockAtTime: UInt64 = 0,
        flags: Flags = [], executable: String = "", arguments: [String] = []
    ) {
        self.time = time
        self.pid = pid
        self.parentPID = parentPID
        self.startTime = startTime
        self.bootClockAtTime = bootClockAtTime
        self.flags = flags
        self.executable = executable
        self.arguments = arguments
    }

    /// The start time converted to the trace's monotonic clock (exact unless the host was suspended in
    /// between); nil when the start time is unknown.
    public var startMonotonic: Int64? {
        guard startTime > 0, bootClockAtTime >= startTime else { return nil }
        return Int64(bitPattern: time) &- Int64(bitPattern: bootClockAtTime - startTime)
    }

    /// The arguments joined by spaces, for display.
    public var commandLine: String { arguments.joined(separator: " ") }
}

// MARK: - 16 endpoint (1.1)

/// Who one side of a channel is now: the process holding that side's socket (pid and start time, which
/// name a process record) and, when the schemas tell, the LibIPC endpoint that side implements. Each
/// record replaces the previous one for that side; a side whose socket travelled to another process gets
/// a new one (`afterTransfer`).
public struct EndpointRecord: Sendable, Equatable {
    /// How the process was found.
    public struct Basis: RawRepresentable, Sendable, Equatable, Hashable, CustomStringConvertible {
        public var rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// Not known yet.
        public static let unknown = Basis(rawValue: 0)
        /// The process that made or connected the socket (the preload library's request, SO_PEERCRED).
        public static let creator = Basis(rawValue: 1)
        /// A process holding the program's socket, looked up before that side sent anything.
        public static let holder = Basis(rawValue: 2)
        /// The process holding the program's socket when that side sent (the surest).
        public static let sender = Basis(rawValue: 3)

        public var description: String {
            switch rawValue {
            case 0: "unknown"
            case 1: "creator"
            case 2: "holder"
            case 3: "sender"
            default: "basis-\(rawValue)"
            }
        }
    }

    public var time: UInt64
    public var channel: UInt32
    public var side: EndpointResolvedRecord.Side
    /// -1 when unknown.
    public var pid: Int32
    /// The process's start time as in its process record; 0 when unknown.
    public var processStartTime: UInt64
    public var basis: Basis
    /// The side's socket travelled in a frame (channel-transferred) since the previous record.
    public var afterTransfer: Bool
    /// The LibIPC endpoint the side implements (from decoded messages); empty when unknown.
    public var endpointName: String

    public init(
        time: UInt64, channel: UInt32, side: EndpointResolvedRecord.Side, pid: Int32 = -1,
        processStartTime: UInt64 = 0, basis: Basis = .unknown, afterTransfer: Bool = false, endpointName: String = ""
    ) {
        self.time = time
        self.channel = channel
        self.side = side
        self.pid = pid
        self.processStartTime = processStartTime
        self.basis = basis
        self.afterTransfer = afterTransfer
        self.endpointName = endpointName
    }
}

// MARK: - 17 unknownFrame (1.1)

/// A frame whose header `type` is neither 0 (payload) nor 1 (acknowledgement). The receiving LibIPC side
/// disconnects; the recorder skips `payload_size` bytes and assumes the next frame starts there (its
/// `unknown-frame-type` violation says `resync-assumed`).
public struct UnknownFrameRecord: Sendable, Equatable {
    public var time: UInt64
    public var channel: UInt32
    public var direction: Direction
    public var frameIndex: UInt64
    public var streamOffset: UInt64
    /// The header as sent: its type byte, payload size and fd count.
    public var header: FrameHeader

    public init(time: UInt64, channel: UInt32, direction: Direction, frameIndex: UInt64, streamOffset: UInt64,
                header: FrameHeader) {
        self.time = time
        self.channel = channel
        self.direction = direction
        self.frameIndex = frameIndex
        self.streamOffset = streamOffset
        self.header = header
    }
}

// MARK: - 18 framesDelivered (1.1)

/// Frames `firstFrameIndex...lastFrameIndex` of one direction had their last byte written to the receiver's
/// socket by `time` (docs/trace-format.md §5.18). The ranges of one direction follow each other without gaps.
public struct FramesDeliveredRecord: Sendable, Equatable {
    /// When the write that put the last byte of frame `lastFrameIndex` into the receiver's socket returned.
    public var time: UInt64
    public var channel: UInt32
    public var direction: Direction
    public var firstFrameIndex: UInt64
    public var lastFrameIndex: UInt64

    public init(time: UInt64, channel: UInt32, direction: Direction, firstFrameIndex: UInt64, lastFrameIndex: UInt64) {
        self.time = time
        self.channel = channel
        self.direction = direction
        self.firstFrameIndex = firstFrameIndex
        self.lastFrameIndex = lastFrameIndex
    }

    /// Whether the record covers frame `index`.
    public func covers(_ index: UInt64) -> Bool { firstFrameIndex <= index && index <= lastFrameIndex }
}
