import Glibc
import IPCTransport
import IPCWire
import Synchronization
import TraceFormat

/// One recording: a trace file and every channel relayed into it, from whichever mechanism found them
/// (a listening socket path, a taken-over helper socket, the preload library, a followed transfer).
public final class RecordingSession: Sendable {
    public struct Options: Sendable {
        /// Wait for the disk instead of dropping payload capture when the writer falls behind.
        public var lossless = false
        /// Schemas used to classify sync requests (and embedded in the trace for the viewer).
        public var schemas: SchemaSet?
        public var writerOptions = TraceWriter.Options()
        /// Interpose transports that travel as attachments, so they become channels of their own.
        public var followTransfers = true

        public init() {}
    }

    public let tracePath: String
    private let writer: TraceWriter
    private let sink: TraceSink
    private let options: Options
    private let channels = Mutex<[ChannelID: RelayedChannel]>([:])
    /// Inodes of the ends programs hold of relayed channels, so such an end travelling as an attachment is
    /// recognised as already relayed (and not interposed a second time).
    private let programSideInodes = Mutex<[UInt64: ProgramSide]>([:])

    /// A program's end of a relayed channel, and which side it is when known.
    private struct ProgramSide {
        var channel: ChannelID
        var side: ChannelSide?
    }
    /// Channels that ended before `openChannel` registered them (a peer that hangs up at once).
    private let endedBeforeRegistration = Mutex<Set<ChannelID>>([])
    private let nextChannel = Atomic<UInt32>(1)
    private let stopped = Atomic<Bool>(false)
    private let closeError = Mutex<TraceFileError?>(nil)

    /// Creates the trace (see ``TraceWriter/init(path:header:options:)``: with `writerOptions.publishesAtOnce`
    /// false it appears at `tracePath` only at ``publishTrace()``, and a session stopped before that leaves
    /// nothing behind).
    public init(tracePath: String, header: TraceHeader, options: Options) throws(TraceFileError) {
        self.tracePath = tracePath
        self.options = options
        writer = try TraceWriter(path: tracePath, header: header, options: options.writerOptions)
        sink = TraceSink(writer: writer, lossless: options.lossless)
    }

    /// Starts relaying between `endA` (facing endpoint A) and `endB` (facing B); both fds are owned by the
    /// session from now on, also when this throws (they are closed then).
    @discardableResult
    public func openChannel(
        endA: consuming OwnedFD, endB: consuming OwnedFD, endpointA: ChannelEndpoint, endpointB: ChannelEndpoint,
        discovery: ChannelDiscovery, transferredBy: TransferOrigin? = nil, programSideInodes inodes: [UInt64] = [],
        programSideInodesBySide: [ChannelSide: UInt64] = [:], handedOver: [[UInt8]] = []
    ) throws(SystemError) -> ChannelID {
        guard !stopped.load(ordering: .acquiring) else {
            // `endA` and `endB` are dropped, so closed.
            throw SystemError(errno: ESHUTDOWN, operation: "open channel after the recording stopped")
        }
        let id = nextChannel.add(1, ordering: .relaxed).oldValue
        // The processes channel-opened names are in the trace before it.
        let starts = [endpointA.pid, endpointB.pid].map { sink.identities.see(pid: $0) }
        let time = TraceClock.monotonicNanoseconds()
        writer.submit(.channelOpened(ChannelOpenedRecord(
            time: time, channel: id, endpointA: endpointA, endpointB: endpointB,
            discovery: discovery, transferredBy: transferredBy)), waitForRoom: true)
        if let transferredBy {
            // Every hand-over has its channel-transferred record, whether the channel was found by it or before.
            writer.submit(.channelTransferred(ChannelTransferredRecord(
                time: time, channel: id, carriedBy: transferredBy,
                adoption: .init(recoveredFrames: UInt32(clamping: handedOver.count), recoveredDirection: .aToB))),
                waitForRoom: true)
        }
        let recovered = recordHandedOver(handedOver, channel: id, time: time)
        sink.statistics.channels.add(1, ordering: .relaxed)
        sink.identities.channelOpened(id, pids: [endpointA.pid, endpointB.pid], starts: starts, time: time)
        // The programs' ends: as given, else the peers of ours (so every side's holder can be looked up, and
        // such an end travelling in a frame is known as relayed).
        var bySide = programSideInodesBySide
        for (side, end) in [(ChannelSide.a, endA.rawValue), (.b, endB.rawValue)] where bySide[side] == nil {
            if let inode = SocketHolders.peerInode(of: end) { bySide[side] = inode }
        }
        programSideInodes.withLock { known in
            for inode in inodes { known[inode] = ProgramSide(channel: id, side: nil) }
            for (side, inode) in bySide { known[inode] = ProgramSide(channel: id, side: side) }
        }
        var relayOptions = RelayedChannel.Options(captureLimit: writer.header.captureLength)
        if options.followTransfers { relayOptions.follower = SessionTransferFollower(session: self) }
        relayOptions.programSideInodes = bySide
        relayOptions.sendBufferSize = RelayedChannel.deepSendQueue
        if recovered.frames > 0 { relayOptions.recordedBefore = [.aToB: recovered] }
        relayOptions.inspector = options.schemas.map { SchemaInspector(schemas: $0) }
        relayOptions.classification = classificationMode(discovery)
        // The channel owns both ends from here, and closes them if it cannot start.
        let channel = try RelayedChannel(
            id: id, endA: endA, endB: endB, options: relayOptions, sink: sink,
            onClosed: { [weak self] id, traffic in self?.channelClosed(id, traffic: traffic) })
        endedBeforeRegistration.withLock { ended in
            if ended.remove(id) == nil { channels.withLock { $0[id] = channel } }
        }
        return id
    }

    /// Records the frames a transport's previous owner had read before handing it over (their payloads came
    /// along in the carrying frame) as the first A→B frames of its channel: A faces the transport's peer,
    /// which sent them. Returns how many frames and stream bytes they make, where the relay goes on counting.
    private func recordHandedOver(_ payloads: [[UInt8]], channel: ChannelID, time: UInt64) -> (frames: UInt64, bytes: UInt64) {
        var offset: UInt64 = 0
        let batch = writer.makeBatch()
        for (index, payload) in payloads.enumerated() {
            let size = UInt32(clamping: payload.count)
            payload.withUnsafeBytes { bytes in
                _ = batch.appendPayloadFrame(
                    time: time, channel: channel, direction: .aToB, frameIndex: UInt64(index), streamOffset: offset,
                    header: .payload(size: Int(size), fdCount: 0), payload: bytes, fds: [])
            }
            offset += UInt64(FrameHeader.size) + UInt64(size)
        }
        guard !payloads.isEmpty else { return (0, 0) }
        writer.submit(batch, waitForRoom: true)
        sink.statistics.frames.add(UInt64(payloads.count), ordering: .relaxed)
        sink.statistics.bytes.add(offset, ordering: .relaxed)
        return (UInt64(payloads.count), offset)
    }

    /// The preload library hands over every AF_UNIX stream socketpair (and interposed connect), whatever
    /// it carries, so those channels are classified by their traffic. The others are found where only
    /// LibIPC is expected.
    private func classificationMode(_ discovery: ChannelDiscovery) -> ClassificationMode {
        switch discovery {
        case .preload: .byTraffic
        case .takeover: .known(reason: "a LibIPC helper's SOCKET_TAKEOVER socket")
        case .transfer: .known(reason: "a transport sent in a LibIPC frame")
        case .listen: .known(reason: "a client of the socket path given to --listen")
        default: .known(reason: "found by \(discovery)")
        }
    }

    private func channelClosed(_ id: ChannelID, traffic: ChannelTraffic) {
        writer.submit(.channelClosed(ChannelClosedRecord(time: TraceClock.monotonicNanoseconds(), channel: id,
                                                         traffic: traffic)),
                      waitForRoom: true)
        programSideInodes.withLock { known in known = known.filter { $0.value.channel != id } }
        sink.channelClosed(id)
        // Both relay threads are ending on their own; nothing is left to stop or join.
        endedBeforeRegistration.withLock { ended in
            if channels.withLock({ $0.removeValue(forKey: id) }) == nil { ended.insert(id) }
        }
    }

    func isProgramSide(inode: UInt64) -> Bool {
        programSideInodes.withLock { $0[inode] != nil }
    }

    /// Links the channel whose program end `inode` is to the frame that carried that end.
    func noteCarried(inode: UInt64, by carrier: ChannelID, direction: Direction, frameIndex: UInt64) {
        guard let programSide = programSideInodes.withLock({ $0[inode] }), programSide.channel != carrier else { return }
        let channel = programSide.channel
        let relayed = channels.withLock { $0[channel] }
        // The carrier parses frames, so it is LibIPC: what travels in its frames is a LibIPC transport.
        relayed?.noteCarriedInLibIPCFrame()
        // That side now belongs to whoever receives it: looked up again when it next sends.
        if let side = programSide.side { relayed?.noteSideTravelled(side) }
        let time = TraceClock.monotonicNanoseconds()
        writer.submit(.channelTransferred(ChannelTransferredRecord(
            time: time, channel: channel,
            carriedBy: TransferOrigin(parentChannel: carrier, direction: direction, frameIndex: frameIndex))),
            waitForRoom: true)
        // Named after the record of its hand-over, so a reader meets the transfer first.
        if let side = programSide.side {
            sink.identities.sideTravelled(channel, side, carrier: carrier, direction: direction, time: time)
        }
    }

    /// Relays a transport that travelled in frame `frameIndex` of `parent`: a copy of `socket` (borrowed:
    /// the relay that received it still closes it) keeps facing its peer, and the returned end is forwarded
    /// in its place. Nil when it cannot be relayed: then `socket` is forwarded as it came, untouched.
    func followTransfer(
        socket: Int32, parent: ChannelID, direction: Direction, frameIndex: UInt64?, handedOver: [[UInt8]] = []
    ) -> OwnedFD? {
        // Failures here cost only the recording of this transport, never its delivery: not reported.
        let pair: SocketPair
        do { pair = try SocketPair.make() } catch { return nil }
        guard let programSide = try? Descriptor.info(pair.first.rawValue).inode else { return nil }
        let ours: OwnedFD
        do { ours = try Descriptor.duplicate(socket) } catch { return nil }
        let origin = frameIndex.map { TransferOrigin(parentChannel: parent, direction: direction, frameIndex: $0) }
        let programEnd = pair.first
        do {
            try openChannel(
                endA: ours, endB: pair.second,
                endpointA: ChannelEndpoint(name: "peer of a transport sent on channel \(parent)"),
                endpointB: ChannelEndpoint(name: "receiver of channel \(parent)'s transport"),
                discovery: .transfer, transferredBy: origin, programSideInodes: [programSide],
                programSideInodesBySide: [.b: programSide], handedOver: frameIndex == nil ? [] : handedOver)
        } catch {
            return nil  // `programEnd` is dropped, so closed; `ours` and the pair's other end went with the call
        }
        return programEnd
    }

    /// Channels still relaying.
    public var openChannelCount: Int {
        channels.withLock { $0.count }
    }

    /// Ends every channel (their open directions get `ipcscopeStopped` EOFs), writes the end record and
    /// closes the trace. Returns the totals. Safe to call more than once.
    @discardableResult
    public func stop(cleanStop: Bool = true) -> TraceSummary {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return sink.statistics.summary }
        let all = channels.withLock { Array($0.values) }
        for channel in all { channel.stop() }
        for channel in all { channel.join() }
        return finish(cleanStop: cleanStop)
    }

    /// Waits until every channel has ended by itself, then closes the trace like `stop`.
    @discardableResult
    public func finishWhenChannelsEnd() -> TraceSummary {
        for channel in channels.withLock({ Array($0.values) }) { channel.join() }
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return sink.statistics.summary }
        return finish(cleanStop: true)
    }

    private func finish(cleanStop: Bool) -> TraceSummary {
        let now = TraceClock.monotonicNanoseconds()
        sink.flushLosses(time: now)
        let summary = sink.statistics.summary
        do {
            try writer.close(ending: EndRecord(time: now, summary: summary, cleanStop: cleanStop))
        } catch {
            closeError.withLock { $0 = error }
        }
        return summary
    }

    // MARK: the trace file

    /// Puts the trace at its path once the recording has started (see ``TraceWriter/publish()``).
    public func publishTrace() throws(TraceFileError) {
        try writer.publish()
    }

    /// Where the trace is now (its temporary name until published, or when publishing failed).
    public var currentTracePath: String { writer.currentPath }

    /// The first write failure: set as soon as the writer stopped writing.
    public var traceWriteFailure: TraceWriteFailure? { writer.writeFailure }

    /// Why the trace is not complete, once the session has stopped: the first write failure, or the error
    /// closing the file. Nil when every record was written.
    public var traceError: TraceFileError? { closeError.withLock { $0 } }

    /// Frames that lost capture because the writer fell behind: recorded with the payload cut to its
    /// envelope, and not recorded at all (their batch was refused).
    public var lostCapture: LostCapture {
        LostCapture(payloadsCut: sink.statistics.framesWithCutPayload.load(ordering: .relaxed),
                    recordsDropped: sink.statistics.frameRecordsDropped.load(ordering: .relaxed))
    }

    public var summary: TraceSummary { sink.statistics.summary }

    /// Directions whose receivers saw ipcscope's credentials instead of the writer's in SCM_CREDENTIALS:
    /// `refused` because the kernel would not let ipcscope claim them (not root), `exitedWriters` for the
    /// last bytes of writers that had exited before those were forwarded (docs/recording.md).
    public var credentialsNotPreserved: (refused: UInt64, exitedWriters: UInt64) {
        (sink.statistics.credentialsRefused.load(ordering: .relaxed),
         sink.statistics.credentialsOfExitedWriters.load(ordering: .relaxed))
    }

    /// Channels classified as not LibIPC: relayed and counted, not parsed.
    public var notLibIPCChannelCount: UInt64 {
        sink.statistics.notLibIPCChannels.load(ordering: .relaxed)
    }
}

/// Frames whose capture a slow disk cost (docs/trace-format.md §5.8, reasons `writer behind` and
/// `records dropped`).
public struct LostCapture: Sendable, Equatable {
    public var payloadsCut: UInt64
    public var recordsDropped: UInt64

    public init(payloadsCut: UInt64 = 0, recordsDropped: UInt64 = 0) {
        self.payloadsCut = payloadsCut
        self.recordsDropped = recordsDropped
    }
}

/// The session as the relays' transfer follower (a small value, so relays hold no strong cycle).
struct SessionTransferFollower: TransferFollower {
    weak var session: RecordingSession?

    func isRelayed(inode: UInt64) -> Bool {
        session?.isProgramSide(inode: inode) ?? true
    }

    func follow(socket: Int32, from channel: ChannelID, direction: Direction, frameIndex: UInt64?,
                handedOver: [[UInt8]]) -> OwnedFD? {
        session?.followTransfer(socket: socket, parent: channel, direction: direction, frameIndex: frameIndex,
                                handedOver: handedOver)
    }

    func noteCarried(inode: UInt64, by channel: ChannelID, direction: Direction, frameIndex: UInt64) {
        session?.noteCarried(inode: inode, by: channel, direction: direction, frameIndex: frameIndex)
    }
}
