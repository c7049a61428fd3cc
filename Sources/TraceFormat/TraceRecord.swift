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
        case .framesDelivered(let r): r.time
        }
    }

    /// The channel the record is about; nil for the header and end records.
    public var channel: UInt32? {
        switch self {
        case .header, .end: nil
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
        case .framesDelivered(let r): r.channel
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

    public init(
        time: UInt64, channel: UInt32, direction: Direction, frameIndex: UInt64, streamOffset: UInt64, count: UInt32
    ) {
        self.time = time
        self.channel = channel
        self.direction = direction
        self.frameIndex = frameIndex
        self.streamOffset = streamOffset
        self.count = count
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
        /// The trace writer's queue was over budget.
        public static let writerBehind = "writer behind"
        /// Payload bytes beyond the snap length.
        public static let snapLength = "snaplen"
    }

    public var time: UInt64
    public var channel: UInt32
    public var direction: Direction
    public var framesAffected: UInt64
    public var bytesNotCaptured: UInt64
    public var reason: String

    public init(
        time: UInt64, channel: UInt32, direction: Direction, framesAffected: UInt64, bytesNotCaptured: UInt64,
        reason: String
    ) {
        self.time = time
        self.channel = channel
        self.direction = direction
        self.framesAffected = framesAffected
        self.bytesNotCaptured = bytesNotCaptured
        self.reason = reason
    }
}

// MARK: - 9 end

/// Totals over the whole recording.
public struct TraceSummary: Sendable, Equatable {
    public var channels: UInt64
    public var frames: UInt64
    public var bytes: UInt64
    public var fds: UInt64
    public var violations: UInt64

    public init(channels: UInt64 = 0, frames: UInt64 = 0, bytes: UInt64 = 0, fds: UInt64 = 0, violations: UInt64 = 0) {
        self.channels = channels
        self.frames = frames
        self.bytes = bytes
        self.fds = fds
        self.violations = violations
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
/// another process, libipc-wire §6). Channels found when their transport was created (preload) get their
/// link to the carrying frame this way; followed transfers carry it in channel-opened.
public struct ChannelTransferredRecord: Sendable, Equatable {
    public var time: UInt64
    /// The channel whose end travelled.
    public var channel: UInt32
    /// The frame that carried it.
    public var carriedBy: TransferOrigin

    public init(time: UInt64, channel: UInt32, carriedBy: TransferOrigin) {
        self.time = time
        self.channel = channel
        self.carriedBy = carriedBy
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

// MARK: - 18 framesDelivered (1.1)

/// Frames `firstFrameIndex...lastFrameIndex` of one direction had their last byte written to the receiver's
/// socket by `time` (docs/trace-format.md §5.15). The ranges of one direction follow each other without gaps.
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
