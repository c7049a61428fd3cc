import IPCWire
import TraceAnalysis
import TraceFormat

/// The Chrome Trace Event Format (the JSON object form, `{"traceEvents": [...]}`) that Perfetto UI and
/// chrome://tracing load. A Chrome process per endpoint of a process (numbered from 1 as first seen; the
/// real pid is in its name), a thread per channel; a slice per answered sync
/// request (request to response), instant events for other frames, EOFs and violations, a flow from each
/// payload frame's send to its delivery, counters for queue depths. Times are µs from the first event.
struct ChromeTraceWriter {
    var exporter: TraceExporter

    private struct ProcessKey: Hashable {
        var pid: Int32?
        var endpoint: [UInt8]
        /// For a side with neither pid nor endpoint name: its channel and side, so it is a process of its own.
        var unknownSide: UInt32?
    }

    private struct Track: Hashable {
        var pid: Int64
        var tid: Int64
    }

    func write(_ out: JSONBuffer, _ output: ExportOutput) throws(ExportError) {
        let context = exporter.context
        var named = Set<Track>()
        out.beginObject()
        out.key("displayTimeUnit"); out.string("ns")
        out.key("traceEvents"); out.beginArray()

        /// A Chrome process per endpoint of an ipcscope process (pid and endpoint name), numbered as first seen.
        var processes: [ProcessKey: Int64] = [:]
        func track(channel: UInt32, side: Int, offset: Int, into out: JSONBuffer) -> Track {
            let identity = context.names.identity(channel: channel, side: side, at: offset)
            let pid = identity.map { $0.pid >= 0 ? $0.pid : nil } ?? nil
            let key = ProcessKey(pid: pid, endpoint: identity?.endpoint ?? [], unknownSide: pid == nil && (identity?.endpoint.isEmpty ?? true) ? channel << 1 | UInt32(side) : nil)
            let chromePID: Int64
            if let known = processes[key] {
                chromePID = known
            } else {
                chromePID = Int64(processes.count + 1)
                processes[key] = chromePID
                var name = key.endpoint.isEmpty ? "" : String(decoding: key.endpoint, as: UTF8.self)
                if let identity, !identity.process.isEmpty {
                    name += (name.isEmpty ? "" : " ") + "(" + String(decoding: identity.process, as: UTF8.self) + (pid.map { " pid \($0)" } ?? "") + ")"
                } else if let pid {
                    name += (name.isEmpty ? "" : " ") + "(pid \(pid))"
                }
                if name.isEmpty { name = "channel \(channel) side \(side == 0 ? "a" : "b")" }
                metadata("process_name", pid: chromePID, tid: nil, name: name, into: out)
            }
            let result = Track(pid: chromePID, tid: Int64(channel))
            if named.insert(result).inserted {
                metadata("thread_name", pid: chromePID, tid: Int64(channel), name: "channel \(channel)", into: out)
            }
            return result
        }

        var flowID: UInt64 = 0
        try exporter.forEachSelectedEvent { (number, record, offset) throws(ExportError) in
            guard let channel = record.channel, let direction = record.direction else { return }
            let senderSide = direction == .aToB ? 0 : 1
            let sender = track(channel: channel, side: senderSide, offset: offset, into: out)
            let receiver = track(channel: channel, side: 1 - senderSide, offset: offset, into: out)
            let ts = Int64(bitPattern: record.time &- context.firstTime)
            switch record {
            case .payloadFrame(let frame):
                var name = "frame"
                var kind: MessageKind?
                if let envelope = frame.capturedPayload.withUnsafeBytes({ MessageEnvelope(payload: $0) }) {
                    if let message = context.names.message(magic: envelope.magic, id: envelope.messageID) {
                        name = String(decoding: message.name, as: UTF8.self)
                        kind = message.kind
                    } else {
                        name = "\(envelope.magic):\(envelope.messageID)"
                    }
                }
                let latency = context.names.latency(at: offset)
                if kind == .request, let latency, latency >= 0 {
                    event("X", name: name, category: "sync", track: sender, ts: ts, into: out) { out in
                        out.key("dur"); out.microseconds(nanoseconds: latency)
                        out.key("args"); out.beginObject()
                        out.key("payload_size"); out.uint(UInt64(frame.header.payloadSize))
                        out.key("latency_ns"); out.int(latency)
                        out.endObject()
                    }
                } else {
                    event("i", name: name, category: kind?.rawValue ?? "frame", track: sender, ts: ts, into: out) { out in
                        out.key("s"); out.string("t")
                        out.key("args"); out.beginObject()
                        out.key("payload_size"); out.uint(UInt64(frame.header.payloadSize))
                        out.key("fd_count"); out.uint(UInt64(frame.header.fdCount))
                        if let latency { out.key("latency_ns"); out.int(latency) }
                        out.endObject()
                    }
                }
                // The flow: from the send to the delivery (or, not known, to the same instant at the receiver).
                flowID += 1
                let delivered = context.deliveredTime(channel: channel, direction: direction, frameIndex: frame.frameIndex)
                let arrival = delivered.map { Int64(bitPattern: $0 &- context.firstTime) } ?? ts
                event("s", name: name, category: "flow", track: sender, ts: ts, into: out) { out in
                    out.key("id"); out.uint(flowID)
                }
                event("f", name: name, category: "flow", track: receiver, ts: max(arrival, ts), into: out) { out in
                    out.key("id"); out.uint(flowID)
                    out.key("bp"); out.string("e")
                }
            case .violation(let violation):
                event("i", name: "violation: " + violation.kindName, category: "violation", track: sender, ts: ts, into: out) { out in
                    out.key("s"); out.string("p")
                    out.key("args"); out.beginObject()
                    out.key("severity"); out.string(violation.severity.rawValue)
                    out.key("limit"); out.uint(violation.limit)
                    out.key("observed"); out.uint(violation.observed)
                    out.endObject()
                }
            case .eof(let eof):
                event("i", name: "eof: " + eof.kind.description, category: "eof", track: sender, ts: ts, into: out) { out in
                    out.key("s"); out.string("t")
                }
            case .queueSample(let sample):
                let name = "queue channel \(channel) " + (direction == .aToB ? "a>b" : "b>a")
                event("C", name: name, category: "queue", track: receiver, ts: ts, into: out) { out in
                    out.key("args"); out.beginObject()
                    if !sample.notMeasured.contains(.proxyBufferedBytes) { out.key("proxy_buffered_bytes"); out.uint(sample.proxyBufferedBytes) }
                    if !sample.notMeasured.contains(.receiverUnreadBytes) { out.key("receiver_unread_bytes"); out.uint(sample.receiverUnreadBytes) }
                    if !sample.notMeasured.contains(.unacknowledgedFDs) { out.key("unacknowledged_fds"); out.uint(sample.unacknowledgedFDs) }
                    if !sample.notMeasured.contains(.pendingSyncRequests) { out.key("pending_sync_requests"); out.uint(sample.pendingSyncRequests) }
                    out.endObject()
                }
            default:
                _ = number
            }
            if out.count >= TraceExporter.flushThreshold { try output.flush(out) }
        }
        out.endArray()
        out.endObject()
        out.newline()
    }

    private func metadata(_ kind: StaticString, pid: Int64, tid: Int64?, name: String, into out: JSONBuffer) {
        out.newline()
        out.beginObject()
        out.key("ph"); out.string("M")
        out.key("name"); out.string(kind)
        out.key("pid"); out.int(pid)
        out.key("tid"); out.int(tid ?? 0)
        out.key("args"); out.beginObject()
        out.key("name"); out.string(name)
        out.endObject()
        out.endObject()
    }

    private func event(
        _ phase: StaticString, name: String, category: String, track: Track, ts: Int64, into out: JSONBuffer,
        _ extra: (JSONBuffer) -> Void
    ) {
        out.newline()
        out.beginObject()
        out.key("ph"); out.string(phase)
        out.key("name"); out.string(name)
        out.key("cat"); out.string(category)
        out.key("pid"); out.int(track.pid)
        out.key("tid"); out.int(track.tid)
        out.key("ts"); out.microseconds(nanoseconds: ts)
        extra(out)
        out.endObject()
    }
}
