import IPCWire
import TraceAnalysis
import TraceFormat

public enum ExportFormat: String, CaseIterable, Sendable {
    case json, jsonl, chrome
}

/// Writes a trace in one of the export formats (docs/export.md), streaming: the output buffer is flushed
/// every 64 KiB, and events are decoded one at a time in time order.
public struct TraceExporter {
    public var context: ExportContext
    public var filter: CompiledFilter?
    public var includePayload: Bool

    public init(context: ExportContext, filter: CompiledFilter? = nil, includePayload: Bool = false) {
        self.context = context
        self.filter = filter
        self.includePayload = includePayload
    }

    static let flushThreshold = 1 << 16

    public func export(_ format: ExportFormat, to output: ExportOutput) throws(ExportError) {
        let out = JSONBuffer()
        switch format {
        case .jsonl: try writeJSONL(out, output)
        case .json: try writeJSON(out, output)
        case .chrome: try ChromeTraceWriter(exporter: self).write(out, output)
        }
        try output.flush(out)
        try output.commit()
    }

    /// Each selected event, in time order, with its number and decoded record.
    func forEachSelectedEvent(_ body: (Int, TraceRecord, Int) throws(ExportError) -> Void) throws(ExportError) {
        let trace = context.trace
        try context.forEachEventInTimeOrder { (number) throws(ExportError) in
            let offset = trace.index.offset(of: number)
            guard let record = trace.reader.record(at: offset) else { return }
            if let filter, !filter.matches(TraceRecordSubject(record: record, offset: offset, context: context.names)) { return }
            try body(number, record, offset)
        }
    }

    /// Each selected event as an object, in time order: after a newline (`newlineFirst`, JSON's array) or
    /// followed by one (JSON Lines). Without a filter, payload frames whose fds and payload bytes are not
    /// written are read in place (their captured bytes are not copied): the same output.
    private func writeEvents(_ out: JSONBuffer, _ output: ExportOutput, newlineFirst: Bool) throws(ExportError) {
        let writer = EventJSON(includePayload: includePayload)
        let trace = context.trace, index = trace.index
        let inPlace = filter == nil
        try context.forEachEventInTimeOrder { (number) throws(ExportError) in
            let offset = index.offset(of: number)
            if inPlace, index.rawKind(of: number) == TraceRecordKind.payloadFrame.rawValue,
               let fields = trace.reader.payloadFrameFields(at: offset), writer.canWrite(fields) {
                if newlineFirst { out.newline() }
                writer.write(fields, offset: offset, context: context, into: out)
            } else {
                guard let record = trace.reader.record(at: offset) else { return }
                if let filter, !filter.matches(TraceRecordSubject(record: record, offset: offset, context: context.names)) { return }
                if newlineFirst { out.newline() }
                writer.write(record, offset: offset, context: context, into: out)
            }
            if !newlineFirst { out.newline() }
            if out.count >= Self.flushThreshold { try output.flush(out) }
        }
    }

    private func writeJSONL(_ out: JSONBuffer, _ output: ExportOutput) throws(ExportError) {
        try writeEvents(out, output, newlineFirst: false)
    }

    private func writeJSON(_ out: JSONBuffer, _ output: ExportOutput) throws(ExportError) {
        out.beginObject()
        out.key("metadata"); writeMetadata(out)
        out.key("processes"); writeProcesses(out)
        out.key("channels"); writeChannels(out)
        out.key("events"); out.beginArray()
        try writeEvents(out, output, newlineFirst: true)
        out.endArray()
        out.endObject()
        out.newline()
    }

    private func writeMetadata(_ out: JSONBuffer) {
        out.beginObject()
        out.key("format"); out.string("ipcscope-export")
        out.key("export_version"); out.uint(1)
        out.key("trace"); out.string(context.trace.path)
        out.key("first_event_ns"); out.uint(context.firstTime)
        if let filter { out.key("filter"); out.string(filter.canonicalText) }
        if let header = context.header {
            out.key("trace_version"); out.string("\(header.formatVersion.major).\(header.formatVersion.minor)")
            out.key("created_ns"); out.uint(header.createdWallClockNanoseconds)
            out.key("monotonic_anchor_ns"); out.uint(header.monotonicAnchorNanoseconds)
            out.key("host"); out.string(header.hostName)
            out.key("ipcscope_version"); out.string(header.ipcscopeVersion)
            out.key("command_line"); out.beginArray()
            for argument in header.commandLine { out.string(argument) }
            out.endArray()
            out.key("snap_length"); out.uint(UInt64(header.snapLength))
            out.key("limits"); out.beginObject()
            for limit in header.limits { out.key(text: limit.name); out.uint(limit.value) }
            out.endObject()
            out.key("schemas"); out.beginArray()
            for schema in header.schemas { out.string(schema.path) }
            out.endArray()
        }
        out.endObject()
    }

    /// Process records (kind 15), whatever the filter selects: the table a reader resolves pids with.
    private func writeProcesses(_ out: JSONBuffer) {
        out.beginArray()
        let trace = context.trace
        for number in trace.index.events(of: .process) {
            guard case .process(let process)? = trace.record(number) else { continue }
            out.beginObject()
            out.key("pid"); out.int(Int64(process.pid))
            out.key("ppid"); out.int(Int64(process.parentPID))
            out.key("exe"); out.string(process.executable)
            out.key("argv"); out.beginArray()
            for argument in process.arguments { out.string(argument) }
            out.endArray()
            out.key("time_ns"); out.uint(process.time)
            out.endObject()
        }
        out.endArray()
    }

    /// One entry per channel the trace names, with its sides as known at the end of the trace.
    private func writeChannels(_ out: JSONBuffer) {
        out.beginArray()
        let trace = context.trace
        for channel in trace.index.channels.sorted() {
            out.beginObject()
            out.key("channel"); out.uint(UInt64(channel))
            for (side, name) in [(0, "a"), (1, "b")] {
                guard let identity = context.names.identity(channel: channel, side: side, at: Int.max) else { continue }
                if name == "a" { out.key("a") } else { out.key("b") }
                out.beginObject()
                if !identity.endpoint.isEmpty { out.key("endpoint"); out.string(bytes: identity.endpoint) }
                if identity.pid >= 0 { out.key("pid"); out.int(Int64(identity.pid)) }
                if !identity.process.isEmpty { out.key("process"); out.string(bytes: identity.process) }
                out.endObject()
            }
            out.key("events"); out.uint(UInt64(trace.index.postingList(onChannel: channel)?.count ?? 0))
            out.endObject()
        }
        out.endArray()
    }
}
