import IPCWire
import TraceAnalysis
import TraceFormat

/// Writes one trace record as an export event object (docs/export.md lists the fields per kind).
public struct EventJSON {
    public var includePayload: Bool
    /// The sender and receiver objects already written, per channel side: most events repeat them.
    private let sides = SideObjectCache()
    /// The message name and kind members per (magic, id), already written.
    private let messages = MessageMembersCache()

    public init(includePayload: Bool) { self.includePayload = includePayload }

    public func write(_ record: TraceRecord, offset: Int, context: ExportContext, into out: JSONBuffer) {
        // Payload frames, most of a trace, are taken apart once (each of TraceRecord's accessors copies the
        // record's arrays); every other kind goes through the accessors.
        if case .payloadFrame(let frame) = record {
            common(.payloadFrame, time: frame.time, channel: frame.channel, direction: frame.direction,
                   offset: offset, context: context, into: out)
            payloadFields(of: frame, envelope: frame.capturedPayload.withUnsafeBytes { MessageEnvelope(payload: $0) },
                          capturedSize: frame.capturedPayload.count, offset: offset, context: context, into: out)
        } else {
            common(record.kind, time: record.time, channel: record.channel, direction: record.direction,
                   offset: offset, context: context, into: out)
            fields(of: record, offset: offset, context: context, into: out)
        }
        out.endObject()
    }

    /// Whether a payload frame read in place (captured bytes and fds not copied) is written as its decoded
    /// record would be: when neither its fds nor its payload bytes are written.
    public func canWrite(_ fields: PayloadFrameFields) -> Bool { fields.attachedFDCount == 0 && !includePayload }

    /// A payload frame read in place, for which ``canWrite(_:)`` holds: the same bytes as ``write(_:offset:context:into:)``
    /// of its decoded record.
    public func write(_ fields: PayloadFrameFields, offset: Int, context: ExportContext, into out: JSONBuffer) {
        precondition(canWrite(fields), "a frame with fds or a payload to write is written from its decoded record")
        let frame = fields.frame
        common(.payloadFrame, time: frame.time, channel: frame.channel, direction: frame.direction,
               offset: offset, context: context, into: out)
        payloadFields(of: frame, envelope: fields.envelope, capturedSize: fields.capturedSize, offset: offset, context: context, into: out)
        out.endObject()
    }

    /// The members every event has (docs/export.md): kind, times, and channel, direction and sides when
    /// the record has them.
    private func common(_ kind: TraceRecordKind, time: UInt64, channel: UInt32?, direction: Direction?,
                        offset: Int, context: ExportContext, into out: JSONBuffer) {
        out.beginObject()
        out.key("kind"); out.string(Self.name(of: kind))
        out.key("time_ns"); out.uint(time)
        out.key("t"); out.seconds(nanoseconds: Int64(bitPattern: time &- context.firstTime))
        if let channel { out.key("channel"); out.uint(UInt64(channel)) }
        if let direction, let channel {
            out.key("dir"); out.string(direction == .aToB ? "a>b" as StaticString : "b>a")
            let senderSide = direction == .aToB ? 0 : 1
            side("sender", channel: channel, side: senderSide, offset: offset, context: context, into: out)
            side("receiver", channel: channel, side: 1 - senderSide, offset: offset, context: context, into: out)
        }
    }

    /// ``TraceRecordKind``'s description as a static string (no String built per event); a test pins that
    /// they are the same.
    static func name(of kind: TraceRecordKind) -> StaticString {
        switch kind {
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

    private func side(_ name: StaticString, channel: UInt32, side: Int, offset: Int, context: ExportContext, into out: JSONBuffer) {
        guard let identity = context.names.identity(channel: channel, side: side, at: offset) else { return }
        guard identity.pid >= 0 || !identity.endpoint.isEmpty || !identity.process.isEmpty else { return }
        out.key(name)
        if sides.withObject(channel: channel, side: side, identity: identity, { out.value(rendered: $0) }) { return }
        let start = out.count
        Self.sideObject(identity, into: out)
        sides.store(channel: channel, side: side, identity: identity, rendered: out, from: start)
    }

    static func sideObject(_ identity: SideIdentity, into out: JSONBuffer) {
        out.beginObject()
        if !identity.endpoint.isEmpty { out.key("endpoint"); out.string(bytes: identity.endpoint) }
        if identity.pid >= 0 { out.key("pid"); out.int(Int64(identity.pid)) }
        if !identity.process.isEmpty { out.key("process"); out.string(bytes: identity.process) }
        out.endObject()
    }

    /// `"message":NAME,"sync":KIND` when the schemas name the message; returns its kind.
    private func messageMembers(magic: UInt32, id: Int32, context: ExportContext, into out: JSONBuffer) -> MessageKind? {
        if let kind = messages.withEntry(magic: magic, id: id, { kind, rendered in
            out.members(rendered: rendered)
            return kind
        }) { return kind }
        let message = context.names.message(magic: magic, id: id)
        let start = out.count
        if let message {
            out.key("message"); out.string(bytes: message.name)
            out.key("sync"); out.string(message.kind.rawValue)
        }
        messages.store(magic: magic, id: id, kind: message?.kind, rendered: out, from: start)
        return message?.kind
    }

    private func fds(_ fds: [AttachedFD], into out: JSONBuffer) {
        out.key("fds")
        out.beginArray()
        for fd in fds {
            out.beginObject()
            out.key("kind"); out.string(fd.kind.description)
            out.key("inode"); out.uint(fd.inode)
            out.key("size"); out.uint(fd.size)
            if fd.interposed { out.key("interposed"); out.bool(true) }
            out.endObject()
        }
        out.endArray()
    }

    /// `envelope` and `capturedSize` are the captured bytes' (which `frame` may leave out: then so do its fds).
    private func payloadFields(of frame: PayloadFrameRecord, envelope: MessageEnvelope?, capturedSize: Int,
                               offset: Int, context: ExportContext, into out: JSONBuffer) {
        out.key("frame_index"); out.uint(frame.frameIndex)
        out.key("stream_offset"); out.uint(frame.streamOffset)
        out.key("payload_size"); out.uint(UInt64(frame.header.payloadSize))
        out.key("captured_size"); out.uint(UInt64(capturedSize))
        out.key("fd_count"); out.uint(UInt64(frame.header.fdCount))
        if !frame.fds.isEmpty { fds(frame.fds, into: out) }
        if let envelope {
            out.key("magic"); out.uint(UInt64(envelope.magic))
            out.key("message_id"); out.int(Int64(envelope.messageID))
            let kind = messageMembers(magic: envelope.magic, id: envelope.messageID, context: context, into: out)
            // Only requests and responses are paired (TraceFilterContext's pass): no lookup for the rest.
            if let kind, kind != .async, let latency = context.names.latency(at: offset) { out.key("latency_ns"); out.int(latency) }
        }
        if let delivered = context.deliveredTime(channel: frame.channel, direction: frame.direction, frameIndex: frame.frameIndex) {
            out.key("delivered_ns"); out.uint(delivered)
        }
        if includePayload { out.key("payload"); out.base64(frame.capturedPayload) }
    }

    private func fields(of record: TraceRecord, offset: Int, context: ExportContext, into out: JSONBuffer) {
        switch record {
        case .header:
            break
        case .payloadFrame(let frame):
            payloadFields(of: frame, envelope: frame.capturedPayload.withUnsafeBytes { MessageEnvelope(payload: $0) },
                          capturedSize: frame.capturedPayload.count, offset: offset, context: context, into: out)
        case .acknowledgement(let ack):
            out.key("frame_index"); out.uint(ack.frameIndex)
            out.key("stream_offset"); out.uint(ack.streamOffset)
            out.key("fd_count"); out.uint(UInt64(ack.count))
            if let size = ack.payloadSize { out.key("payload_size"); out.uint(UInt64(size)) }
            if let delivered = context.deliveredTime(channel: ack.channel, direction: ack.direction, frameIndex: ack.frameIndex) {
                out.key("delivered_ns"); out.uint(delivered)
            }
        case .unknownFrame(let frame):
            out.key("frame_index"); out.uint(frame.frameIndex)
            out.key("stream_offset"); out.uint(frame.streamOffset)
            out.key("frame_type"); out.uint(UInt64(frame.header.rawType))
            out.key("payload_size"); out.uint(UInt64(frame.header.payloadSize))
            out.key("fd_count"); out.uint(UInt64(frame.header.fdCount))
        case .eof(let eof):
            out.key("eof"); out.beginObject()
            out.key("kind"); out.string(eof.kind.description)
            out.key("errno"); out.int(Int64(eof.errorNumber))
            if let cause = eof.likelyCause { out.key("likely_cause"); out.string(cause) }
            if let frame = eof.likelyCauseFrameIndex { out.key("likely_cause_frame_index"); out.uint(frame) }
            out.endObject()
        case .queueSample(let sample):
            out.key("queue"); out.beginObject()
            func field(_ name: StaticString, _ value: UInt64, _ bit: QueueSampleRecord.Fields) {
                if !sample.notMeasured.contains(bit) { out.key(name); out.uint(value) }
            }
            field("proxy_buffered_bytes", sample.proxyBufferedBytes, .proxyBufferedBytes)
            field("receiver_unread_bytes", sample.receiverUnreadBytes, .receiverUnreadBytes)
            field("unacknowledged_fds", sample.unacknowledgedFDs, .unacknowledgedFDs)
            field("pending_sync_requests", sample.pendingSyncRequests, .pendingSyncRequests)
            field("receiver_unprocessed_bytes", sample.receiverUnprocessedBytes, .receiverUnprocessedBytes)
            field("receiver_unmatched_fds", sample.receiverUnmatchedFDs, .receiverUnmatchedFDs)
            out.key("receiver_unread_is_exact"); out.bool(sample.receiverUnreadIsExact)
            out.endObject()
        case .violation(let violation):
            if let frame = violation.frameIndex { out.key("frame_index"); out.uint(frame) }
            out.key("violation"); out.beginObject()
            out.key("kind"); out.string(violation.kindName)
            out.key("severity"); out.string(violation.severity.rawValue)
            out.key("limit"); out.uint(violation.limit)
            out.key("observed"); out.uint(violation.observed)
            out.key("stream_offset"); out.uint(violation.streamOffset)
            out.key("continuation"); out.string(violation.continuation.rawValue)
            out.endObject()
        case .captureLoss(let loss):
            out.key("capture_loss"); out.beginObject()
            out.key("frames_affected"); out.uint(loss.framesAffected)
            out.key("bytes_not_captured"); out.uint(loss.bytesNotCaptured)
            out.key("reason"); out.string(loss.reason)
            if let range = loss.frameRange {
                out.key("first_frame_index"); out.uint(range.lowerBound)
                out.key("last_frame_index"); out.uint(range.upperBound)
            }
            out.endObject()
        case .end(let end):
            out.key("end"); out.beginObject()
            out.key("clean_stop"); out.bool(end.cleanStop)
            out.key("stop_reason"); out.string(end.stopReason.description)
            out.key("frames"); out.uint(end.summary.frames)
            out.key("violations"); out.uint(end.summary.violations)
            out.endObject()
        case .channelOpened(let opened):
            out.key("discovery"); out.string(opened.discovery.description)
            endpoints(opened.endpointA, opened.endpointB, into: out)
            if let origin = opened.transferredBy { transfer(origin, into: out) }
        case .channelClosed:
            break
        case .endpointResolved(let resolved):
            out.key("endpoint"); out.beginObject()
            out.key("side"); out.string(resolved.side == .a ? "a" : "b")
            if !resolved.endpoint.name.isEmpty { out.key("name"); out.string(resolved.endpoint.name) }
            if resolved.endpoint.pid >= 0 { out.key("pid"); out.int(Int64(resolved.endpoint.pid)) }
            out.endObject()
        case .endpoint(let endpoint):
            out.key("endpoint"); out.beginObject()
            out.key("side"); out.string(endpoint.side == .a ? "a" : "b")
            if !endpoint.endpointName.isEmpty { out.key("name"); out.string(endpoint.endpointName) }
            if endpoint.pid >= 0 { out.key("pid"); out.int(Int64(endpoint.pid)) }
            out.key("basis"); out.string(endpoint.basis.description)
            out.key("after_transfer"); out.bool(endpoint.afterTransfer)
            out.endObject()
        case .channelTransferred(let transferred):
            transfer(transferred.carriedBy, into: out)
        case .lateFDs(let late):
            out.key("frame_index"); out.uint(late.frameIndex)
            fds(late.fds, into: out)
        case .channelClassified(let classified):
            out.key("protocol"); out.string(classified.channelProtocol.description)
            out.key("reason"); out.string(classified.reason)
        case .process(let process):
            out.key("process"); out.beginObject()
            out.key("pid"); out.int(Int64(process.pid))
            out.key("ppid"); out.int(Int64(process.parentPID))
            out.key("exe"); out.string(process.executable)
            out.key("argv"); out.beginArray()
            for argument in process.arguments { out.string(argument) }
            out.endArray()
            out.endObject()
        case .framesDelivered(let delivered):
            out.key("first_frame_index"); out.uint(delivered.firstFrameIndex)
            out.key("last_frame_index"); out.uint(delivered.lastFrameIndex)
        }
    }

    private func endpoints(_ a: ChannelEndpoint, _ b: ChannelEndpoint, into out: JSONBuffer) {
        for (name, endpoint) in [("a", a), ("b", b)] {
            if name == "a" { out.key("a") } else { out.key("b") }
            out.beginObject()
            out.key("name"); out.string(endpoint.name)
            if endpoint.pid >= 0 { out.key("pid"); out.int(Int64(endpoint.pid)) }
            if !endpoint.command.isEmpty { out.key("command"); out.string(endpoint.command) }
            out.endObject()
        }
    }

    private func transfer(_ origin: TransferOrigin, into out: JSONBuffer) {
        out.key("transfer"); out.beginObject()
        out.key("parent_channel"); out.uint(UInt64(origin.parentChannel))
        out.key("dir"); out.string(origin.direction == .aToB ? "a>b" : "b>a")
        out.key("frame_index"); out.uint(origin.frameIndex)
        out.endObject()
    }
}

/// The JSON object of each channel side's identity as last written, so an event whose side is the same as
/// the previous event's copies its bytes instead of writing them again. An entry is used only when the
/// identity is equal field by field (the same bytes by construction).
final class SideObjectCache {
    private struct Entry {
        var offset: Int
        var pid: Int32
        var endpoint: [UInt8]
        var process: [UInt8]
        var rendered: [UInt8]
    }

    /// Indexed by `channel << 1 | side`; channels numbered beyond this are written each time.
    private static let channelLimit: UInt32 = 1 << 16
    private var entries: [Entry] = []

    /// Calls `body` with the cached object's bytes when there is one for this identity; false otherwise.
    func withObject(channel: UInt32, side: Int, identity: SideIdentity, _ body: (UnsafeRawBufferPointer) -> Void) -> Bool {
        let slot = Int(channel) << 1 | side
        guard channel < Self.channelLimit, slot < entries.count else { return false }
        return entries.withUnsafeBufferPointer { entries in
            // The timeline entry's offset first: a different entry almost always differs there.
            guard entries[slot].offset == identity.offset, entries[slot].pid == identity.pid,
                  !entries[slot].rendered.isEmpty,
                  entries[slot].endpoint == identity.endpoint, entries[slot].process == identity.process
            else { return false }
            entries[slot].rendered.withUnsafeBytes(body)
            return true
        }
    }

    /// Keeps the object `out` holds from `start` on.
    func store(channel: UInt32, side: Int, identity: SideIdentity, rendered out: JSONBuffer, from start: Int) {
        guard channel < Self.channelLimit else { return }
        let slot = Int(channel) << 1 | side
        if slot >= entries.count {
            entries += Array(repeating: Entry(offset: -1, pid: -1, endpoint: [], process: [], rendered: []), count: slot + 1 - entries.count)
        }
        let bytes = out.withBytes { Array($0[start...]) }
        entries[slot] = Entry(offset: identity.offset, pid: identity.pid, endpoint: identity.endpoint, process: identity.process, rendered: bytes)
    }
}

/// The `"message":…,"sync":…` members of each (magic, id) as last written, in a small direct-mapped table
/// (no hashing of the key beyond a multiply), with the message's kind. An entry is used only when its
/// magic and id are the key's, and it holds exactly what the names table said for them.
final class MessageMembersCache {
    struct Entry {
        var magic: UInt32
        var id: Int32
        var filled = false
        var kind: MessageKind?
        var rendered: [UInt8] = []
    }

    private static let slots = 1024
    private var entries = Array(repeating: Entry(magic: 0, id: 0), count: slots)

    private static func slot(_ magic: UInt32, _ id: Int32) -> Int {
        Int(truncatingIfNeeded: ((UInt64(magic) << 32 | UInt64(UInt32(bitPattern: id))) &* 0x9E37_79B9_7F4A_7C15) >> 54)
    }

    /// The cached entry for (magic, id), or nil.
    func withEntry<R>(magic: UInt32, id: Int32, _ body: (MessageKind?, UnsafeRawBufferPointer) -> R) -> R? {
        let slot = Self.slot(magic, id)
        return entries.withUnsafeBufferPointer { entries in
            guard entries[slot].filled, entries[slot].magic == magic, entries[slot].id == id else { return nil }
            return entries[slot].rendered.withUnsafeBytes { body(entries[slot].kind, $0) }
        }
    }

    func store(magic: UInt32, id: Int32, kind: MessageKind?, rendered out: JSONBuffer, from start: Int) {
        let bytes = out.withBytes { Array($0[start...]) }
        entries[Self.slot(magic, id)] = Entry(magic: magic, id: id, filled: true, kind: kind, rendered: bytes)
    }
}
