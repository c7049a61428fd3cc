import IPCWire
import TraceAnalysis
import TraceFormat

/// Writes one trace record as an export event object (docs/export.md lists the fields per kind).
public struct EventJSON {
    public var includePayload: Bool

    public init(includePayload: Bool) { self.includePayload = includePayload }

    public func write(_ record: TraceRecord, offset: Int, context: ExportContext, into out: JSONBuffer) {
        out.beginObject()
        out.key("kind"); out.string(record.kind.description)
        out.key("time_ns"); out.uint(record.time)
        out.key("t"); out.seconds(nanoseconds: Int64(bitPattern: record.time &- context.firstTime))
        if let channel = record.channel { out.key("channel"); out.uint(UInt64(channel)) }
        if let direction = record.direction, let channel = record.channel {
            out.key("dir"); out.string(direction == .aToB ? "a>b" : "b>a")
            let senderSide = direction == .aToB ? 0 : 1
            side("sender", channel: channel, side: senderSide, offset: offset, context: context, into: out)
            side("receiver", channel: channel, side: 1 - senderSide, offset: offset, context: context, into: out)
        }
        fields(of: record, offset: offset, context: context, into: out)
        out.endObject()
    }


    private func side(_ name: StaticString, channel: UInt32, side: Int, offset: Int, context: ExportContext, into out: JSONBuffer) {
        guard let identity = context.names.identity(channel: channel, side: side, at: offset) else { return }
        guard identity.pid >= 0 || !identity.endpoint.isEmpty || !identity.process.isEmpty else { return }
        out.key(name)
        out.beginObject()
        if !identity.endpoint.isEmpty { out.key("endpoint"); out.string(bytes: identity.endpoint) }
        if identity.pid >= 0 { out.key("pid"); out.int(Int64(identity.pid)) }
        if !identity.process.isEmpty { out.key("process"); out.string(bytes: identity.process) }
        out.endObject()
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

    private func fields(of record: TraceRecord, offset: Int, context: ExportContext, into out: JSONBuffer) {
        switch record {
        case .header:
            break
        case .payloadFrame(let frame):
            out.key("frame_index"); out.uint(frame.frameIndex)
            out.key("stream_offset"); out.uint(frame.streamOffset)
            out.key("payload_size"); out.uint(UInt64(frame.header.payloadSize))
            out.key("captured_size"); out.uint(UInt64(frame.capturedPayload.count))
            out.key("fd_count"); out.uint(UInt64(frame.header.fdCount))
            if !frame.fds.isEmpty { fds(frame.fds, into: out) }
            if let envelope = frame.capturedPayload.withUnsafeBytes({ MessageEnvelope(payload: $0) }) {
                out.key("magic"); out.uint(UInt64(envelope.magic))
                out.key("message_id"); out.int(Int64(envelope.messageID))
                if let message = context.names.message(magic: envelope.magic, id: envelope.messageID) {
                    out.key("message"); out.string(bytes: message.name)
                    out.key("sync"); out.string(message.kind.rawValue)
                }
            }
            if let latency = context.names.latency(at: offset) { out.key("latency_ns"); out.int(latency) }
            if let delivered = context.deliveredTime(channel: frame.channel, direction: frame.direction, frameIndex: frame.frameIndex) {
                out.key("delivered_ns"); out.uint(delivered)
            }
            if includePayload { out.key("payload"); out.base64(frame.capturedPayload) }
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
