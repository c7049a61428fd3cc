import Glibc
import IPCTransport
import IPCWire
import TraceFormat

/// Identifies a relayed channel within one recording session.
public typealias ChannelID = UInt32

/// What the relay learned about one fd it forwarded (it forwards the fd itself, unchanged).
public struct RelayedFD: Equatable, Sendable {
    public var kind: DescriptorKind
    public var inode: UInt64
    /// Size of a regular file or memfd; 0 otherwise.
    public var size: Int64
    /// Whether ipcscope replaced it with an interposed end (a followed transport).
    public var interposed: Bool

    public init(kind: DescriptorKind, inode: UInt64, size: Int64, interposed: Bool = false) {
        self.kind = kind
        self.inode = inode
        self.size = size
        self.interposed = interposed
    }

    /// An fd the relay could not describe (fstat failed) or whose description it had to drop.
    public static let unknown = RelayedFD(kind: .other(mode: 0), inode: 0, size: 0)
}

/// Queue depths of one direction at one instant (docs/protocol.md §2 names the receiver-side ones).
public struct QueueDepths: Equatable, Sendable {
    /// Bytes the proxy holds that it has read and not yet written on.
    public var proxyBufferedBytes: UInt64 = 0
    /// Kernel memory of data written to the receiver and not yet read (SIOCOUTQ on the proxy's socket).
    /// It counts socket buffer memory, not payload bytes: an estimate that over-counts small writes.
    public var unreadByReceiverEstimate: UInt64 = 0
    /// Fds sent in this direction and not yet acknowledged by the receiver.
    public var unacknowledgedFDs: UInt64 = 0
    /// Sync requests sent in this direction still waiting for their response (needs schemas).
    public var pendingSyncRequests: UInt64 = 0
    /// Bytes the receiving LibIPC side buffers unparsed, and fds it holds unmatched (parser's model).
    public var receiverUnprocessedBytes: UInt64 = 0
    public var receiverUnmatchedFDs: UInt64 = 0
    /// The fields that were not measured, so their 0 means nothing: the receiver's unread bytes when the
    /// kernel would not tell, the parsed ones on a channel that is not LibIPC, pending sync requests unless
    /// schemas told the kind of every message.
    public var notMeasured: QueueSampleRecord.Fields = []

    public init() {}
}

/// Payload and acknowledgement frames `first...last` of a direction (by frame index) had their last byte
/// written to the receiver's socket: the write that covered it returned (docs/trace-format.md §5.18).
public struct FramesDelivered: Equatable, Sendable {
    public var first: UInt64
    public var last: UInt64

    public init(first: UInt64, last: UInt64) {
        self.first = first
        self.last = last
    }
}

/// How a direction ended.
public struct EndOfStream: Equatable, Sendable {
    public enum Kind: String, Sendable {
        /// The sender closed its end (recv returned 0).
        case peerClosed = "peer-closed"
        /// The connection was reset (ECONNRESET).
        case reset
        /// The sender handed its transport to another process (release-for-transfer), so no EOF is due.
        case handoffAfterTransfer = "handoff"
        /// ipcscope stopped recording (SIGINT/SIGTERM) and closed its ends.
        case ipcscopeStopped = "ipcscope-stopped"
        /// A read or write failed with another error.
        case error

        /// How a direction whose read or write failed with `errno` ended: ECONNRESET and EPIPE are the
        /// other side gone (reset), any other errno an error (docs/trace-format.md §5.5).
        public static func failedCall(errno: Int32) -> Kind {
            errno == ECONNRESET || errno == EPIPE ? .reset : .error
        }
    }

    public var kind: Kind
    public var errno: Int32
    /// A violation the closing side received shortly before, which probably made it disconnect.
    public var likelyCause: Violation?
    /// Bytes of an incomplete frame left in the stream when it ended.
    public var incompleteFrameBytes: UInt64

    public init(kind: Kind, errno: Int32 = 0, likelyCause: Violation? = nil, incompleteFrameBytes: UInt64 = 0) {
        self.kind = kind
        self.errno = errno
        self.likelyCause = likelyCause
        self.incompleteFrameBytes = incompleteFrameBytes
    }
}

/// Which side of a channel: A faces endpoint A (the source of `aToB`), B faces endpoint B.
public enum ChannelSide: UInt8, Sendable {
    case a = 0
    case b = 1

    /// The side that sends in `direction`.
    public static func sender(of direction: Direction) -> ChannelSide { direction == .aToB ? .a : .b }
    /// The side that receives in `direction`.
    public static func receiver(of direction: Direction) -> ChannelSide { direction == .aToB ? .b : .a }
}

/// Something learnt about who one side of a channel is; nil fields are not known from this source.
public struct EndpointIdentity: Equatable, Sendable {
    public var side: ChannelSide
    /// The LibIPC endpoint that side implements (from decoded messages).
    public var endpointName: String?
    /// A process holding that side's socket.
    public var pid: Int32?
    public var command: String?
    /// `pid` was looked up when that side sent (else before it had sent anything).
    public var bySending: Bool
    /// The side's socket travelled in a frame since it was last identified: `pid` is its new holder.
    public var afterTransfer: Bool

    public init(side: ChannelSide, endpointName: String? = nil, pid: Int32? = nil, command: String? = nil,
                bySending: Bool = false, afterTransfer: Bool = false) {
        self.side = side
        self.endpointName = endpointName
        self.pid = pid
        self.command = command
        self.bySending = bySending
        self.afterTransfer = afterTransfer
    }
}

/// The kernel would not let the relay pass a writer's credentials on (docs/recording.md): receivers with
/// SO_PASSCRED saw ipcscope's pid, uid and gid on that direction's reads instead — from this chunk on
/// for a refusal, for that writer's remaining chunks when it had exited.
public struct CredentialsNotPreserved: Equatable, Sendable {
    /// EPERM: ipcscope may not claim another process's pid or ids (it needs CAP_SYS_ADMIN, CAP_SETUID and
    /// CAP_SETGID, i.e. root); ESRCH: the writer had exited (and been reaped) before its bytes were
    /// forwarded; EINVAL: ids not mapped in ipcscope's user namespace.
    public var errno: Int32
    /// The writer's credentials that could not be passed on.
    public var writer: Credentials

    public init(errno: Int32, writer: Credentials) {
        self.errno = errno
        self.writer = writer
    }

    /// Whether the whole direction is affected (not only an exited writer's last chunks).
    public var isRefusal: Bool { errno != ESRCH }
}

/// What a relay reports, on its own thread, in stream order.
public enum RelayEvent {
    /// `frame.capturedPayload` is borrowed: valid only during the sink call.
    case payload(PayloadFrameEvent, fds: [RelayedFD])
    case acknowledgement(AcknowledgementEvent)
    /// A frame of an unknown type (its header; its payload was skipped).
    case unknownFrame(UnknownFrameEvent)
    /// Fds that came after the last byte of payload frame `frameIndex` (its record listed those before).
    case lateFDs(frameIndex: UInt64, fds: [RelayedFD])
    case violation(Violation)
    /// May come from the sampler's thread, in time order per direction.
    case queueDepths(QueueDepths)
    /// After the frames' records, once their bytes are in the receiver's socket.
    case framesDelivered(FramesDelivered)
    case endOfStream(EndOfStream)
    /// May come from a helper thread, out of stream order.
    case endpointIdentified(EndpointIdentity)
    /// Totals of the payload frames of one chunk, once per chunk (cheaper than counting per frame); `fds`
    /// counts the fds that arrived, late ones included, not the headers' claims.
    case chunkTotals(frames: UInt64, bytes: UInt64, fds: UInt64)
    /// At most once per direction for a refusal and once for exited writers.
    case credentialsNotPreserved(CredentialsNotPreserved)
}

/// Receives relay events. Called on relay threads before the chunk they describe is forwarded, so it
/// must be quick and must not block (a recording sink degrades capture instead; a lossless one may wait).
public protocol RelayEventSink: Sendable {
    func record(channel: ChannelID, direction: Direction, time: UInt64, _ event: RelayEvent)
    /// The recorder a direction's relay thread reports its events through. A sink may batch there;
    /// by default each event goes straight to ``record(channel:direction:time:_:)``.
    func directionRecorder(channel: ChannelID, direction: Direction) -> any DirectionEventRecorder
    /// The channel's protocol was decided (once per channel, from any thread; the relays publish the
    /// decision only after this returns).
    func channelClassified(_ channel: ChannelID, time: UInt64, _ classification: ChannelClassification)
}

extension RelayEventSink {
    public func channelClassified(_ channel: ChannelID, time: UInt64, _ classification: ChannelClassification) {}

    public func directionRecorder(channel: ChannelID, direction: Direction) -> any DirectionEventRecorder {
        PassThroughDirectionRecorder(sink: self, channel: channel, direction: direction)
    }
}

/// Takes one direction's events, on that direction's relay thread only, so it may keep unsynchronised
/// state such as a batch of records. The relay calls ``flush()`` after each chunk's events, before it
/// forwards the chunk, and after any event it reports between chunks.
public protocol DirectionEventRecorder: AnyObject {
    func record(time: UInt64, _ event: RelayEvent)
    /// Publishes everything recorded since the last flush.
    func flush()
}

/// The default recorder: no batching.
final class PassThroughDirectionRecorder<Sink: RelayEventSink>: DirectionEventRecorder {
    let sink: Sink
    let channel: ChannelID
    let direction: Direction

    init(sink: Sink, channel: ChannelID, direction: Direction) {
        self.sink = sink
        self.channel = channel
        self.direction = direction
    }

    func record(time: UInt64, _ event: RelayEvent) {
        sink.record(channel: channel, direction: direction, time: time, event)
    }

    func flush() {}
}

/// Follows transports that travel as attachments (docs/protocol.md §6): a socket that is not already relayed is
/// replaced by an interposed end, so the transferred transport becomes a recorded channel of its own.
public protocol TransferFollower: Sendable {
    /// Whether `inode` is a program's end of a channel already relayed (it travels as is).
    func isRelayed(inode: UInt64) -> Bool
    /// Starts relaying `socket` (borrowed: the follower relays its own copy, the caller still closes it)
    /// and returns the end to forward in its place, owned by the caller; nil leaves the socket to be
    /// forwarded unchanged. `handedOver` are the payloads of frames the socket's previous owner had read
    /// from it, sent along in the carrying frame.
    func follow(socket: Int32, from channel: ChannelID, direction: Direction, frameIndex: UInt64?,
                handedOver: [[UInt8]]) -> OwnedFD?
    /// A program's end of a relayed channel (`inode`) travelled in frame `frameIndex` of `channel`.
    func noteCarried(inode: UInt64, by channel: ChannelID, direction: Direction, frameIndex: UInt64)
}
