import IPCWire

/// Decodes record bodies (docs/trace-format.md §4). Bytes after the fields this version knows are
/// ignored: later minor versions only append fields.
enum RecordBodyDecoder {
    /// The record of a known `kind`; nil for a kind this version does not know.
    static func decode(kind: UInt8, body: UnsafeRawBufferPointer) throws(BodyDecodingError) -> TraceRecord? {
        guard let known = TraceRecordKind(rawValue: kind) else { return nil }
        var r = BodyReader(body)
        switch known {
        case .header: return .header(try header(&r))
        case .channelOpened: return .channelOpened(try channelOpened(&r))
        case .payloadFrame: return .payloadFrame(try payloadFrame(&r))
        case .acknowledgement:
            var ack = AcknowledgementRecord(
                time: try r.u64("time"), channel: try r.u32("channel"), direction: try direction(&r),
                frameIndex: try r.u64("frame index"), streamOffset: try r.u64("stream offset"),
                count: try r.u32("count"), payloadSize: nil)
            if r.remaining > 0 { ack.payloadSize = try r.u32("payload size") }  // 1.1
            return .acknowledgement(ack)
        case .eof: return .eof(try eof(&r))
        case .queueSample: return .queueSample(try queueSample(&r))
        case .violation: return .violation(try violation(&r))
        case .captureLoss:
            var loss = CaptureLossRecord(
                time: try r.u64("time"), channel: try r.u32("channel"), direction: try direction(&r),
                framesAffected: try r.u64("frames affected"), bytesNotCaptured: try r.u64("bytes not captured"),
                reason: try r.string("reason"))
            if r.remaining > 0 {  // 1.1: which frames, and what else was lost with them
                let hasRange = try r.bool("frame range flag")
                let first = try r.u64("first frame index")
                let last = try r.u64("last frame index")
                if hasRange {
                    guard first <= last else { throw BodyDecodingError("frame range \(first)…\(last) is reversed") }
                    loss.frameRange = first...last
                }
                loss.acknowledgementFrames = try r.u64("acknowledgement frames")
                loss.unknownTypeFrames = try r.u64("unknown-type frames")
                loss.otherRecords = CaptureLossRecord.OtherRecordsLost(
                    queueSamples: try r.u64("queue samples lost"), lateFDs: try r.u64("late-fds records lost"),
                    framesDelivered: try r.u64("frames-delivered records lost"))
            }
            return .captureLoss(loss)
        case .end:
            let time = try r.u64("time")
            let summary = TraceSummary(
                channels: try r.u64("channels"), frames: try r.u64("frames"), bytes: try r.u64("bytes"),
                fds: try r.u64("fds"), violations: try r.u64("violations"))
            let flags = try r.u8("flags")
            var end = EndRecord(time: time, summary: summary, cleanStop: flags & 1 != 0)
            if r.remaining > 0 {  // 1.1: why writing stopped; a 1.0 body ends here
                end.stopReason = StopReason(rawValue: try r.u8("stop reason"))
                end.errorNumber = try r.i32("stop errno")
                end.stopOffset = try r.u64("stop offset")
                end.failedOperation = try r.string("failed operation")
            }
            if r.remaining > 0 {  // 1.1, later: the frames and warnings the 1.0 fields leave out
                end.summary.acknowledgementFrames = try r.u64("acknowledgement frames")
                end.summary.unknownTypeFrames = try r.u64("unknown-type frames")
                end.summary.warnings = try r.u64("warnings")
            }
            return .end(end)
        case .channelClosed:
            let time = try r.u64("time")
            let channel = try r.u32("channel")
            // 1.1 appended the relayed traffic; a 1.0 body ends before it.
            var traffic: ChannelTraffic?
            if r.remaining > 0 {
                traffic = ChannelTraffic(aToB: try directionTraffic(&r), bToA: try directionTraffic(&r))
            }
            return .channelClosed(ChannelClosedRecord(time: time, channel: channel, traffic: traffic))
        case .endpointResolved:
            let time = try r.u64("time")
            let channel = try r.u32("channel")
            let rawSide = try r.u8("side")
            guard let side = EndpointResolvedRecord.Side(rawValue: rawSide) else {
                throw BodyDecodingError("side \(rawSide) is not 0 or 1")
            }
            let endpoint = ChannelEndpoint(name: try r.string("endpoint name"), pid: try r.i32("endpoint pid"),
                                           command: try r.string("endpoint command"))
            return .endpointResolved(EndpointResolvedRecord(time: time, channel: channel, side: side, endpoint: endpoint))
        case .channelTransferred:
            let time = try r.u64("time")
            let channel = try r.u32("channel")
            let parent = try r.u32("carrying channel")
            let origin = TransferOrigin(parentChannel: parent, direction: try direction(&r), frameIndex: try r.u64("carrying frame index"))
            var adoption: ChannelTransferredRecord.Adoption?
            if r.remaining > 0 {  // 1.1: whether the channel was adopted here; a 1.0 body ends before it
                let adopted = try r.bool("adopted")
                let recovered = try r.u32("recovered frames")
                let recoveredDirection = try direction(&r)
                if adopted { adoption = .init(recoveredFrames: recovered, recoveredDirection: recoveredDirection) }
            }
            return .channelTransferred(ChannelTransferredRecord(time: time, channel: channel, carriedBy: origin, adoption: adoption))
        case .process:
            let time = try r.u64("time")
            let pid = try r.i32("pid")
            let parent = try r.i32("parent pid")
            let start = try r.u64("start time")
            let boot = try r.u64("boot clock")
            let flags = ProcessRecord.Flags(rawValue: try r.u8("process flags"))
            let executable = try r.string("executable")
            let count = try r.count("arguments", minimumElementSize: 4)
            var arguments: [String] = []
            arguments.reserveCapacity(count)
            for _ in 0..<count { arguments.append(try r.string("argument")) }
            return .process(ProcessRecord(
                time: time, pid: pid, parentPID: parent, startTime: start, bootClockAtTime: boot, flags: flags,
                executable: executable, arguments: arguments))
        case .endpoint:
            let time = try r.u64("time")
            let channel = try r.u32("channel")
            let rawSide = try r.u8("side")
            guard let side = EndpointResolvedRecord.Side(rawValue: rawSide) else {
                throw BodyDecodingError("side \(rawSide) is not 0 or 1")
            }
            return .endpoint(EndpointRecord(
                time: time, channel: channel, side: side, pid: try r.i32("pid"),
                processStartTime: try r.u64("process start time"),
                basis: EndpointRecord.Basis(rawValue: try r.u8("basis")), afterTransfer: try r.bool("after transfer"),
                endpointName: try r.string("endpoint name")))
        case .lateFDs:
            return .lateFDs(LateFDsRecord(
                time: try r.u64("time"), channel: try r.u32("channel"), direction: try direction(&r),
                frameIndex: try r.u64("frame index"), fds: try attachedFDs(&r)))
        case .unknownFrame:
            return .unknownFrame(UnknownFrameRecord(
                time: try r.u64("time"), channel: try r.u32("channel"), direction: try direction(&r),
                frameIndex: try r.u64("frame index"), streamOffset: try r.u64("stream offset"),
                header: FrameHeader(rawType: try r.u8("frame type"), payloadSize: try r.u32("payload size"),
                                    fdCount: try r.u32("fd count"))))
        case .framesDelivered:
            let record = FramesDeliveredRecord(
                time: try r.u64("time"), channel: try r.u32("channel"), direction: try direction(&r),
                firstFrameIndex: try r.u64("first frame index"), lastFrameIndex: try r.u64("last frame index"))
            guard record.firstFrameIndex <= record.lastFrameIndex else {
                throw BodyDecodingError("first frame index \(record.firstFrameIndex) is after the last, \(record.lastFrameIndex)")
            }
            return .framesDelivered(record)
        case .channelClassified:
            let time = try r.u64("time")
            let channel = try r.u32("channel")
            let channelProtocol = ChannelProtocol(rawValue: try r.u8("protocol"))
            let decided = try r.bool("deciding direction flag")
            let rawDirection = try r.u8("deciding direction")
            var decidedBy: Direction?
            if decided {
                guard let direction = Direction(rawValue: rawDirection) else {
                    throw BodyDecodingError("deciding direction \(rawDirection) is not 0 or 1")
                }
                decidedBy = direction
            }
            let reason = try r.string("reason")
            let evidence = Array(try r.blob("evidence"))
            return .channelClassified(ChannelClassifiedRecord(
                time: time, channel: channel, channelProtocol: channelProtocol, decidedBy: decidedBy, reason: reason,
                evidence: evidence))
        }
    }

    private static func directionTraffic(_ r: inout BodyReader) throws(BodyDecodingError) -> DirectionTraffic {
        DirectionTraffic(bytes: try r.u64("relayed bytes"), reads: try r.u64("relayed reads"), fds: try r.u64("relayed fds"))
    }

    /// Only the time, which starts every body (the monotonic anchor for the header).
    static func time(body: UnsafeRawBufferPointer) -> UInt64? {
        guard body.count >= 8 else { return nil }
        return UInt64(littleEndian: body.loadUnaligned(as: UInt64.self))
    }

    private static func direction(_ r: inout BodyReader) throws(BodyDecodingError) -> Direction {
        let raw = try r.u8("direction")
        guard let direction = Direction(rawValue: raw) else { throw BodyDecodingError("direction \(raw) is not 0 or 1") }
        return direction
    }

    private static func header(_ r: inout BodyReader) throws(BodyDecodingError) -> TraceHeader {
        let anchor = try r.u64("monotonic anchor")
        let wall = try r.u64("created wall clock")
        let version = TraceFormatVersion(major: try r.u16("format major"), minor: try r.u16("format minor"))
        let host = try r.string("host name")
        let ipcscopeVersion = try r.string("ipcscope version")
        var commandLine: [String] = []
        let argumentCount = try r.count("command line", minimumElementSize: 4)
        commandLine.reserveCapacity(argumentCount)
        for _ in 0..<argumentCount { commandLine.append(try r.string("command line argument")) }
        var limits: [TraceHeader.Limit] = []
        let limitCount = try r.count("limits", minimumElementSize: 12)
        limits.reserveCapacity(limitCount)
        for _ in 0..<limitCount {
            limits.append(TraceHeader.Limit(name: try r.string("limit name"), value: try r.u64("limit value")))
        }
        let snapLength = try r.u32("snap length")
        var schemas: [TraceHeader.EmbeddedSchema] = []
        let schemaCount = try r.count("schemas", minimumElementSize: 8)
        schemas.reserveCapacity(schemaCount)
        for _ in 0..<schemaCount {
            schemas.append(TraceHeader.EmbeddedSchema(path: try r.string("schema path"), text: try r.string("schema text")))
        }
        return TraceHeader(
            formatVersion: version, createdWallClockNanoseconds: wall, monotonicAnchorNanoseconds: anchor,
            hostName: host, ipcscopeVersion: ipcscopeVersion, commandLine: commandLine, limits: limits,
            snapLength: snapLength, schemas: schemas)
    }

    private static func channelOpened(_ r: inout BodyReader) throws(BodyDecodingError) -> ChannelOpenedRecord {
        let time = try r.u64("time")
        let channel = try r.u32("channel")
        let nameA = try r.string("endpoint A name")
        let nameB = try r.string("endpoint B name")
        let endpointA = ChannelEndpoint(name: nameA, pid: try r.i32("endpoint A pid"), command: try r.string("endpoint A command"))
        let endpointB = ChannelEndpoint(name: nameB, pid: try r.i32("endpoint B pid"), command: try r.string("endpoint B command"))
        let discovery = ChannelDiscovery(rawValue: try r.u8("discovery"))
        let hasOrigin = try r.bool("transfer origin flag")
        let parent = try r.u32("transfer parent channel")
        let rawDirection = try r.u8("transfer direction")
        let frameIndex = try r.u64("transfer frame index")
        var origin: TransferOrigin?
        if hasOrigin {
            guard let direction = Direction(rawValue: rawDirection) else {
                throw BodyDecodingError("transfer direction \(rawDirection) is not 0 or 1")
            }
            origin = TransferOrigin(parentChannel: parent, direction: direction, frameIndex: frameIndex)
        }
        return ChannelOpenedRecord(
            time: time, channel: channel, endpointA: endpointA, endpointB: endpointB, discovery: discovery,
            transferredBy: origin)
    }

    private static func payloadFrame(_ r: inout BodyReader) throws(BodyDecodingError) -> PayloadFrameRecord {
        let time = try r.u64("time")
        let channel = try r.u32("channel")
        let direction = try direction(&r)
        let frameIndex = try r.u64("frame index")
        let streamOffset = try r.u64("stream offset")
        let header = FrameHeader(
            rawType: try r.u8("frame type"), payloadSize: try r.u32("payload size"), fdCount: try r.u32("fd count"))
        let captured = Array(try r.blob("captured payload"))
        let fds = try attachedFDs(&r)
        return PayloadFrameRecord(
            time: time, channel: channel, direction: direction, frameIndex: frameIndex, streamOffset: streamOffset,
            header: header, capturedPayload: captured, fds: fds)
    }

    /// A payload frame's fields without copying its captured bytes or fd list (``PayloadFrameFields``). Accepts exactly the bodies
    /// ``payloadFrame(_:)`` decodes (the same reads and checks, skipping instead of copying).
    static func payloadFrameFields(body: UnsafeRawBufferPointer) throws(BodyDecodingError) -> PayloadFrameFields {
        var r = BodyReader(body)
        let time = try r.u64("time")
        let channel = try r.u32("channel")
        let direction = try direction(&r)
        let frameIndex = try r.u64("frame index")
        let streamOffset = try r.u64("stream offset")
        let header = FrameHeader(
            rawType: try r.u8("frame type"), payloadSize: try r.u32("payload size"), fdCount: try r.u32("fd count"))
        let captured = try r.blob("captured payload")
        let fdCount = Int(try r.u32("attached fd count"))
        let entrySize = Int(try r.u16("attached fd entry size"))
        guard entrySize >= PayloadFrameLayout.fdEntrySize else {
            throw BodyDecodingError("attached fd entry size \(entrySize) is below \(PayloadFrameLayout.fdEntrySize)")
        }
        guard fdCount <= r.remaining / entrySize else {
            throw BodyDecodingError("\(fdCount) attached fds of \(entrySize) bytes do not fit in \(r.remaining) bytes")
        }
        let frame = PayloadFrameRecord(
            time: time, channel: channel, direction: direction, frameIndex: frameIndex, streamOffset: streamOffset,
            header: header, capturedPayload: [], fds: [])
        return PayloadFrameFields(frame: frame, envelope: MessageEnvelope(payload: captured), capturedSize: captured.count, attachedFDCount: fdCount)
    }

    /// An fd list: count, entry size, entries (payload-frame and late-fds records).
    private static func attachedFDs(_ r: inout BodyReader) throws(BodyDecodingError) -> [AttachedFD] {
        let fdCount = Int(try r.u32("attached fd count"))
        let entrySize = Int(try r.u16("attached fd entry size"))
        // Entries may grow in later versions; this one needs the first 18 bytes of each.
        guard entrySize >= PayloadFrameLayout.fdEntrySize else {
            throw BodyDecodingError("attached fd entry size \(entrySize) is below \(PayloadFrameLayout.fdEntrySize)")
        }
        guard fdCount <= r.remaining / entrySize else {
            throw BodyDecodingError("\(fdCount) attached fds of \(entrySize) bytes do not fit in \(r.remaining) bytes")
        }
        var fds: [AttachedFD] = []
        fds.reserveCapacity(fdCount)
        for _ in 0..<fdCount {
            let kind = FDKind(rawValue: try r.u8("fd kind"))
            let flags = try r.u8("fd flags")
            let inode = try r.u64("fd inode")
            let size = try r.u64("fd size")
            try r.skip(entrySize - PayloadFrameLayout.fdEntrySize, "fd entry")
            fds.append(AttachedFD(kind: kind, inode: inode, size: size, interposed: flags & 1 != 0))
        }
        return fds
    }

    private static func eof(_ r: inout BodyReader) throws(BodyDecodingError) -> EOFRecord {
        let time = try r.u64("time")
        let channel = try r.u32("channel")
        let direction = try direction(&r)
        let kind = EOFKind(rawValue: try r.u8("eof kind"))
        let errorNumber = try r.i32("errno")
        let hasCause = try r.bool("likely cause flag")
        let cause = try r.string("likely cause")
        let hasFrame = try r.bool("likely cause frame flag")
        let frame = try r.u64("likely cause frame index")
        return EOFRecord(
            time: time, channel: channel, direction: direction, kind: kind, errorNumber: errorNumber,
            likelyCause: hasCause ? cause : nil, likelyCauseFrameIndex: hasFrame ? frame : nil)
    }

    private static func queueSample(_ r: inout BodyReader) throws(BodyDecodingError) -> QueueSampleRecord {
        let time = try r.u64("time")
        let channel = try r.u32("channel")
        let direction = try direction(&r)
        let proxyBuffered = try r.u64("proxy buffered bytes")
        let unread = try r.u64("receiver unread bytes")
        let flags = try r.u8("queue flags")
        return QueueSampleRecord(
            time: time, channel: channel, direction: direction, proxyBufferedBytes: proxyBuffered,
            receiverUnreadBytes: unread, receiverUnreadIsExact: flags & 1 != 0,
            unacknowledgedFDs: try r.u64("unacknowledged fds"), pendingSyncRequests: try r.u64("pending sync requests"),
            receiverUnprocessedBytes: try r.u64("receiver unprocessed bytes"),
            receiverUnmatchedFDs: try r.u64("receiver unmatched fds"),
            // 1.1: bits 1–6 name the fields not measured; a 1.0 writer left them 0 (all measured).
            notMeasured: QueueSampleRecord.Fields(rawValue: flags))
    }

    private static func violation(_ r: inout BodyReader) throws(BodyDecodingError) -> ViolationRecord {
        let time = try r.u64("time")
        let channel = try r.u32("channel")
        let direction = try direction(&r)
        let kindName = try r.string("violation kind")
        let severityName = try r.string("severity")
        let limit = try r.u64("limit")
        let observed = try r.u64("observed")
        let streamOffset = try r.u64("stream offset")
        let hasFrame = try r.bool("frame index flag")
        let frame = try r.u64("frame index")
        let continuationName = try r.string("continuation")
        // Unknown severities and continuations read as the cautious choice: a real violation whose
        // frame boundary is a guess.
        return ViolationRecord(
            time: time, channel: channel, direction: direction, kindName: kindName,
            severity: Violation.Severity(rawValue: severityName) ?? .violation, limit: limit, observed: observed,
            streamOffset: streamOffset, frameIndex: hasFrame ? frame : nil,
            continuation: Violation.Continuation(rawValue: continuationName) ?? .resyncAssumed)
    }
}
