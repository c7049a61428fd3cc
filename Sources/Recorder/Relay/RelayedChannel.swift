import Glibc
import IPCTransport
import IPCWire
import Synchronization
import TraceFormat

/// One recorded channel: the proxy's end facing endpoint A, the end facing endpoint B, and a relay
/// thread per direction. It owns both fds and closes them when both directions have ended.
///
/// A program's full close reaches the other program at once (``ChannelHangUps``): the relay reading from
/// the closed program notices it, also while it is blocked writing.
public final class RelayedChannel: Sendable {
    public let id: ChannelID
    /// The proxy's ends: closed once, when both directions have ended (or when the channel goes away
    /// without having started). The relay threads borrow their numbers, which stay valid until then.
    private let endA: SharedFD
    private let endB: SharedFD
    private let shared: ChannelShared
    private let threads = Mutex<[OSThread]>([])
    private let finishedDirections = Atomic<Int>(0)
    private let onClosed: @Sendable (ChannelID, ChannelTraffic) -> Void

    public struct Options: Sendable {
        public var captureLimit = 4096
        public var bufferSize = 256 * 1024
        public var inspector: (any MessageInspector)?
        public var follower: (any TransferFollower)?
        /// Inodes of the sockets the programs hold for each side, when known: their holders are looked up
        /// when the channel first carries traffic.
        public var programSideInodes: [ChannelSide: UInt64] = [:]
        /// Whether the channel is known to carry LibIPC or its traffic decides. Relayed channels are LibIPC
        /// unless told otherwise; the recording session classifies preload channels by their traffic.
        public var classification = ClassificationMode.known(reason: "relayed as LibIPC")
        /// Per direction, the frames already recorded before relaying began (recovered from a transfer):
        /// its frame indices and stream offsets continue after them.
        public var recordedBefore: [Direction: (frames: UInt64, bytes: UInt64)] = [:]
        /// SO_SNDBUF for a proxy end once its direction carries large frames (the kernel caps it at
        /// net.core.wmem_max and doubles it); nil leaves the ends as they are. A recording asks for
        /// ``deepSendQueue``.
        public var sendBufferSize: Int32?

        public init(captureLimit: Int = 4096, inspector: (any MessageInspector)? = nil) {
            self.captureLimit = captureLimit
            self.inspector = inspector
        }
    }

    /// The send queue a recording gives a proxy end whose direction carries large frames: deep enough that
    /// the relay writes a whole 256 KiB read without sleeping halfway, which halves its wake-ups on large
    /// payloads. Streams of small frames keep the default, which relays them faster (docs/benchmarks.md).
    /// Bytes and order are unchanged; what waits there is measured (queue-sample receiver unread bytes).
    public static let deepSendQueue: Int32 = 1 << 20

    /// Starts relaying between `endA` and `endB` (both owned from now on). `onClosed` runs on a relay
    /// thread once both directions have ended and the fds are closed, with what the channel relayed.
    public init(
        id: ChannelID, endA ownedA: consuming OwnedFD, endB ownedB: consuming OwnedFD, options: Options,
        sink: any RelayEventSink, onClosed: @escaping @Sendable (ChannelID, ChannelTraffic) -> Void = { _, _ in }
    ) throws(SystemError) {
        let endA = ownedA.rawValue
        let endB = ownedB.rawValue
        self.id = id
        self.endA = SharedFD(ownedA)
        self.endB = SharedFD(ownedB)
        self.onClosed = onClosed
        shared = ChannelShared(
            id: id, inspector: options.inspector, follower: options.follower,
            programSideInodes: options.programSideInodes,
            classification: ChannelClassificationState(channel: id, mode: options.classification, sink: sink))
        if case .known(let reason) = options.classification {
            shared.decideProtocol(ChannelClassification(.libIPC, reason: reason), time: TraceClock.monotonicNanoseconds())
        }
        for fd in [endA, endB] {
            // The relay threads block in recvmsg/sendmsg; whatever the program asked for is on its own ends.
            try Descriptor.setNonBlocking(fd, false)
            try Descriptor.setCloseOnExec(fd)
            // Each read then comes with its writer's credentials, which the relay passes on (docs/recording.md).
            // Both ends are connected by now, so this causes no autobind.
            do { try SocketOptions.setPassCredentials(fd, true) } catch {
                // Then the relay forwards with ipcscope's own credentials, as it always did: no reason to
                // refuse the channel.
            }
        }
        let hangUps = ChannelHangUps(endA: endA, endB: endB)
        var configuration = DirectionRelay.Configuration()
        configuration.bufferSize = options.bufferSize
        configuration.deepSendQueue = options.sendBufferSize
        configuration.parser = FrameStreamParser.Configuration(captureLimit: options.captureLimit)
        var started: [OSThread] = []
        for direction in Direction.allCases {
            var relayConfiguration = configuration
            relayConfiguration.firstFrameIndex = options.recordedBefore[direction]?.frames ?? 0
            relayConfiguration.firstStreamOffset = options.recordedBefore[direction]?.bytes ?? 0
            let directionConfiguration = relayConfiguration
            let (source, destination) = direction == .aToB ? (endA, endB) : (endB, endA)
            let shared = shared
            let thread = try OSThread(name: "relay-\(id)-\(direction == .aToB ? "ab" : "ba")") { [self] in
                var relay = DirectionRelay(source: source, destination: destination, direction: direction,
                                           channel: shared, hangUps: hangUps, sink: sink,
                                           configuration: directionConfiguration)
                relay.run()
                directionFinished()
            }
            started.append(thread)
        }
        threads.withLock { $0 = started }
    }

    private func directionFinished() {
        if finishedDirections.add(1, ordering: .acquiringAndReleasing).newValue == 2 {
            shared.decideAtClose(time: TraceClock.monotonicNanoseconds())
            // A socket's close has nothing to report; `stop()` can no longer reach these numbers.
            endA.drop()
            endB.drop()
            onClosed(id, shared.relayedTraffic.totals)
        }
    }

    /// What the channel carries; nil while its traffic has not told yet.
    public var channelProtocol: ChannelProtocol? { shared.classification.current }

    /// One end of this channel travelled in a frame of a LibIPC channel, so it is a LibIPC transport
    /// (decides the channel unless its traffic already did).
    public func noteCarriedInLibIPCFrame() {
        shared.noteCarriedInLibIPCFrame(time: TraceClock.monotonicNanoseconds())
    }

    /// The program's socket of `side` travelled in a frame: its next holder is looked up when it next sends.
    public func noteSideTravelled(_ side: ChannelSide) {
        shared.noteSideTravelled(side)
    }

    /// Ends both directions now (recording stops): their EOFs are recorded as `ipcscopeStopped`.
    public func stop() {
        shared.stopping.store(true, ordering: .relaxed)
        // Under the ends' locks: a channel that has just closed them is left alone, never a reused number.
        _ = endA.withOpenFD { shutdown($0, Int32(SHUT_RDWR)) }
        _ = endB.withOpenFD { shutdown($0, Int32(SHUT_RDWR)) }
    }

    /// Waits for both relay threads.
    public func join() {
        for thread in threads.withLock({ $0 }) { thread.join() }
    }
}
