import IPCWire
import TraceFormat

/// How `show` prints an event's time.
public enum ShowTimeMode: String, Sendable, CaseIterable {
    /// Seconds since the first event of the trace.
    case relative
    /// Wall clock (UTC) from the header's anchor (docs/trace-format.md §5.1).
    case absolute
    /// Seconds since the previous line shown.
    case delta
}

/// What `show` lists by default: every event but the header and queue samples. Samples (one per direction
/// per sampling tick) would drown the frames; a filter that names `kind` decides for itself.
public enum ShowSelection {
    public static func hiddenByDefault(_ kind: UInt8) -> Bool {
        kind == TraceRecordKind.header.rawValue || kind == TraceRecordKind.queueSample.rawValue
    }

    /// Whether an event of `kind` is listed, given the filter (which still has to match).
    public static func isListed(kind: UInt8, filter: CompiledFilter?) -> Bool {
        if kind == TraceRecordKind.header.rawValue { return false }
        if kind == TraceRecordKind.queueSample.rawValue { return filter?.integerFields.contains(.kind) ?? false }
        return true
    }
}

/// Turns decoded trace records into `show`'s lines: one summary line per event, aligned like tshark's, and
/// with `verbose` the decoded parameter tree and a hex dump of the captured bytes under each payload frame.
/// Pure: it formats strings and keeps only the time of the previous line (for `--time delta`).
public struct ShowFormatter {
    public var timeMode: ShowTimeMode
    public var verbose: Bool
    public var colour: Bool
    /// The analysis, fed as the trace is read: a line says what it knows when the line is printed.
    public var context: TraceAnalyzer
    /// The time `relative` counts from (the first event's).
    public var origin: UInt64?
    /// For absolute times; a streaming caller sets it once the header record is read.
    public var header: TraceHeader?
    private var previousTime: UInt64?

    public init(context: TraceAnalyzer, header: TraceHeader?, timeMode: ShowTimeMode = .relative, verbose: Bool = false, colour: Bool = false) {
        self.context = context
        self.header = header
        self.timeMode = timeMode
        self.verbose = verbose
        self.colour = colour
    }

    /// The line (and with `verbose` the detail lines) for one event, each ending in a newline.
    public mutating func format(number: Int, record: TraceRecord, offset: Int) -> String {
        let time = record.time
        if origin == nil { origin = time }
        var line = pad(String(number), 6, right: true) + " " + pad(timeText(time), timeMode == .absolute ? 26 : 11, right: true)
        previousTime = time
        line += " " + pad(record.channel.map { "ch\($0)" } ?? "-", 5, right: false)
        var summary = describe(record, offset: offset)
        // Names, causes and kinds come from the file: a hostile trace must not drive the terminal.
        summary.from = Self.printable(summary.from)
        summary.to = Self.printable(summary.to)
        summary.what = Self.printable(summary.what)
        summary.flags = Self.printable(summary.flags)
        line += " " + pad(summary.from, 22, right: false) + (summary.to.isEmpty ? "  " : " → ") + pad(summary.to, 22, right: false)
        line += " " + pad(summary.what, 46, right: false)
        line += " " + pad(summary.size, 8, right: true) + " " + pad(summary.fds, 5, right: true)
        if !summary.flags.isEmpty { line += "  " + paint(summary.flags, summary.tone) }
        while line.last == " " { line.removeLast() }
        var out = line + "\n"
        if verbose, case .payloadFrame(let frame) = record {
            out += detail(frame)
        }
        return out
    }

    // MARK: columns

    func timeText(_ time: UInt64) -> String {
        switch timeMode {
        case .relative:
            return Self.seconds(Int64(bitPattern: time &- (origin ?? time)))
        case .delta:
            return Self.seconds(Int64(bitPattern: time &- (previousTime ?? time)))
        case .absolute:
            guard let header else { return Self.seconds(Int64(bitPattern: time)) }
            return Self.utc(header.wallClockNanoseconds(ofMonotonic: time))
        }
    }

    /// `1.234567` seconds with microseconds; negative when a time runs backwards (a damaged trace).
    static func seconds(_ nanoseconds: Int64) -> String {
        let negative = nanoseconds < 0
        let micro = nanoseconds.magnitude / 1000
        let fraction = String(micro % 1_000_000)
        return (negative ? "-" : "") + "\(micro / 1_000_000)." + String(repeating: "0", count: 6 - fraction.count) + fraction
    }

    /// `2026-12-03 20:06:20.123456` (UTC), from nanoseconds since the epoch.
    static func utc(_ nanoseconds: Int64) -> String {
        let seconds = nanoseconds >= 0 ? nanoseconds / 1_000_000_000 : (nanoseconds - 999_999_999) / 1_000_000_000
        let micro = (nanoseconds - seconds * 1_000_000_000) / 1000
        var days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let secondOfDay = seconds - days * 86400
        // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let dayOfEra = days - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let fraction = String(micro)
        return "\(year)-\(two(month))-\(two(day)) \(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60))."
            + String(repeating: "0", count: 6 - fraction.count) + fraction
    }

    /// Text from the trace with control characters (C0, DEL, C1: escape sequences, carriage returns,
    /// newlines that would forge lines) shown as `\u{1b}`.
    public static func printable(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if isControl(scalar) { out += "\\u{" + String(scalar.value, radix: 16) + "}" } else { out.unicodeScalars.append(scalar) }
        }
        return out
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (scalar.value >= 0x7F && scalar.value < 0xA0)
    }

    func pad(_ text: String, _ width: Int, right: Bool) -> String {
        let count = text.unicodeScalars.count
        guard count < width else { return text }
        let fill = String(repeating: " ", count: width - count)
        return right ? fill + text : text + fill
    }

    enum Tone { case plain, sync, warning, error }

    func paint(_ text: String, _ tone: Tone) -> String {
        guard colour else { return text }
        switch tone {
        case .plain: return text
        case .sync: return "\u{1B}[36m" + text + "\u{1B}[0m"
        case .warning: return "\u{1B}[33m" + text + "\u{1B}[0m"
        case .error: return "\u{1B}[1;31m" + text + "\u{1B}[0m"
        }
    }

    struct Summary {
        var from = ""
        var to = ""
        var what = ""
        var size = ""
        var fds = ""
        var flags = ""
        var tone = Tone.plain
    }

    /// Who one side of the record's channel is: endpoint name, else process[pid], else pid, else A/B.
    func sideName(_ record: TraceRecord, side: Int, offset: Int) -> String {
        guard let channel = record.channel else { return "" }
        if let identity = context.identity(channel: channel, side: side, at: offset) {
            if !identity.endpoint.isEmpty { return String(decoding: identity.endpoint, as: UTF8.self) }
            if !identity.process.isEmpty {
                return String(decoding: identity.process, as: UTF8.self) + (identity.pid >= 0 ? "[\(identity.pid)]" : "")
            }
            if identity.pid >= 0 { return "pid \(identity.pid)" }
        }
        return side == 0 ? "A" : "B"
    }

    func directed(_ record: TraceRecord, _ direction: Direction, offset: Int, into summary: inout Summary) {
        let sender = direction == .aToB ? 0 : 1
        summary.from = sideName(record, side: sender, offset: offset)
        summary.to = sideName(record, side: 1 - sender, offset: offset)
    }

    /// `Endpoint::Message` from the schemas, else `0x1234abcd:5`.
    func messageName(_ envelope: MessageEnvelope) -> String {
        if let message = context.message(magic: envelope.magic, id: envelope.messageID) {
            return String(decoding: message.name, as: UTF8.self)
        }
        return Self.magicAndID(envelope)
    }

    static func magicAndID(_ envelope: MessageEnvelope) -> String {
        let hex = String(envelope.magic, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 8 - hex.count)) + hex + ":\(envelope.messageID)"
    }

    static func milliseconds(_ nanoseconds: Int64) -> String {
        let tenths = (nanoseconds + 50_000) / 100_000  // 0.1 ms steps
        return "\(tenths / 10).\(abs(tenths % 10))ms"
    }

    func describe(_ record: TraceRecord, offset: Int) -> Summary {
        var s = Summary()
        switch record {
        case .payloadFrame(let frame):
            directed(record, frame.direction, offset: offset, into: &s)
            let envelope = frame.capturedPayload.withUnsafeBytes { MessageEnvelope(payload: $0) }
            s.what = envelope.map(messageName) ?? "(payload shorter than its envelope)"
            s.size = "\(frame.header.payloadSize)"
            s.fds = "\(frame.header.fdCount)"
            var flags: [String] = []
            if let envelope, let kind = context.message(magic: envelope.magic, id: envelope.messageID)?.kind {
                let latency = context.latency(at: offset)
                switch kind {
                // A request printed before its response was read (a long or growing trace) is just SYNC.
                case .request: flags.append(latency.map { "SYNC \(Self.milliseconds($0))" } ?? (context.isComplete ? "SYNC (no response)" : "SYNC"))
                case .response: flags.append(latency.map { "RESP \(Self.milliseconds($0))" } ?? "RESP")
                case .async: break
                }
                if !flags.isEmpty { s.tone = .sync }
            }
            if !frame.isPayloadComplete { flags.append("CAPTURED \(frame.capturedPayload.count)") }
            s.flags = flags.joined(separator: " ")
        case .acknowledgement(let ack):
            directed(record, ack.direction, offset: offset, into: &s)
            s.what = "ack of \(ack.count) fd" + (ack.count == 1 ? "" : "s")
            s.size = ack.payloadSize.map { "\($0)" } ?? ""
            s.flags = "ACK"
        case .unknownFrame(let frame):
            directed(record, frame.direction, offset: offset, into: &s)
            s.what = "frame of unknown type \(frame.header.type)"
            s.size = "\(frame.header.payloadSize)"
            s.fds = "\(frame.header.fdCount)"
            s.flags = "UNKNOWN-TYPE"
            s.tone = .error
        case .eof(let eof):
            directed(record, eof.direction, offset: offset, into: &s)
            s.what = eof.likelyCause.map { "end of stream: \($0)" } ?? "end of stream"
            s.flags = "EOF \(eof.kind)"
            s.tone = eof.kind.rawValue == 0 ? .warning : .error
        case .violation(let violation):
            directed(record, violation.direction, offset: offset, into: &s)
            s.what = "\(violation.kindName): \(violation.observed) > \(violation.limit)"
            s.flags = (violation.severity.rawValue == "warning" ? "WARNING " : "VIOLATION ") + violation.kindName
            s.tone = violation.severity.rawValue == "warning" ? .warning : .error
        case .queueSample(let sample):
            directed(record, sample.direction, offset: offset, into: &s)
            s.what = "queue: \(sample.proxyBufferedBytes) B buffered, \(sample.receiverUnreadBytes) B unread, \(sample.unacknowledgedFDs) fds unacked, \(sample.pendingSyncRequests) sync pending"
            s.flags = "SAMPLE"
        case .captureLoss(let loss):
            directed(record, loss.direction, offset: offset, into: &s)
            s.what = "\(loss.framesAffected) frames, \(loss.bytesNotCaptured) bytes not captured (\(loss.reason))"
            s.flags = "LOSS"
            s.tone = .warning
        case .lateFDs(let late):
            directed(record, late.direction, offset: offset, into: &s)
            s.what = "fds of frame \(late.frameIndex) arrived late"
            s.fds = "\(late.fds.count)"
            s.flags = "LATE-FDS"
        case .framesDelivered(let delivered):
            directed(record, delivered.direction, offset: offset, into: &s)
            s.what = "frames delivered"
        case .channelOpened(let opened):
            s.from = sideName(record, side: 0, offset: offset)
            s.to = sideName(record, side: 1, offset: offset)
            s.what = "channel opened (\(opened.discovery))"
            if let origin = opened.transferredBy {
                s.what += ", carried by ch\(origin.parentChannel) frame \(origin.frameIndex)"
                s.flags = "TRANSFER"
            } else {
                s.flags = "OPEN"
            }
        case .channelClosed(let closed):
            s.from = sideName(record, side: 0, offset: offset)
            s.to = sideName(record, side: 1, offset: offset)
            s.what = "channel closed" + (closed.traffic.map { ", \($0.bytes) bytes, \($0.fds) fds" } ?? "")
            s.flags = "CLOSE"
        case .channelTransferred(let transferred):
            s.what = "transport handed over in ch\(transferred.carriedBy.parentChannel) frame \(transferred.carriedBy.frameIndex)"
            s.flags = "TRANSFER"
        case .channelClassified(let classified):
            s.what = "\(classified.channelProtocol): \(classified.reason)"
            s.flags = "CLASSIFIED"
        case .endpointResolved(let resolved):
            s.from = sideName(record, side: Int(resolved.side.rawValue), offset: offset)
            s.what = "side \(resolved.side.rawValue == 0 ? "A" : "B") is \(resolved.endpoint.name) (pid \(resolved.endpoint.pid))"
            s.flags = "ENDPOINT"
        case .endpoint(let endpoint):
            s.from = sideName(record, side: Int(endpoint.side.rawValue), offset: offset)
            s.what = "side \(endpoint.side.rawValue == 0 ? "A" : "B"): " + (endpoint.endpointName.isEmpty ? "unnamed" : endpoint.endpointName)
                + (endpoint.pid >= 0 ? ", pid \(endpoint.pid)" : "")
            s.flags = "ENDPOINT"
        case .process(let process):
            s.from = "pid \(process.pid)"
            s.what = "process " + (process.executable.isEmpty ? process.commandLine : process.executable)
                + (process.parentPID >= 0 ? ", parent \(process.parentPID)" : "")
            s.flags = "PROCESS"
        case .end(let end):
            s.what = "recording ended: \(end.summary.frames) frames, \(end.summary.bytes) bytes, \(end.summary.fds) fds"
            s.flags = end.stopReason.rawValue == 0 ? (end.cleanStop ? "END clean" : "END") : "END \(end.stopReason)"
            s.tone = end.stopReason.rawValue == 0 ? .plain : .error
        case .header:
            s.what = "trace header"
        }
        return s
    }

    // MARK: -V

    func detail(_ frame: PayloadFrameRecord) -> String {
        var out = ""
        if let decoder = context.decoder {
            let decoded = decoder.decode(
                payload: frame.capturedPayload, truePayloadLength: Int(frame.header.payloadSize), attachmentCount: Int(frame.header.fdCount))
            for parameter in decoded.parameters { tree(parameter, depth: 1, into: &out) }
            switch decoded.outcome {
            case .complete(let trailing, let leftover):
                if trailing > 0 { out += "        (\(trailing) trailing bytes)\n" }
                if leftover > 0 { out += "        (\(leftover) fds not used by the message)\n" }
            case .tooShortForEnvelope: out += "        (too short for an envelope)\n"
            case .unknownMagic, .unknownMessageID: out += "        (no schema for this message)\n"
            case .undecoded(let at, let reason): out += "        (not decoded from byte \(at): \(Self.printable(reason)))\n"
            case .captureEnded(let at): out += "        (capture ended at byte \(at))\n"
            case .decodeError(let at, let reason): out += "        (invalid at byte \(at): \(Self.printable(reason)))\n"
            case .violation(let violation): out += "        (VIOLATION \(violation.kind.rawValue))\n"
            }
        }
        out += Self.hexDump(frame.capturedPayload, indent: "        ")
        return out
    }

    func tree(_ value: DecodedValue, depth: Int, into out: inout String) {
        let indent = String(repeating: "    ", count: depth + 1)
        switch value.content {
        case .leaf(let leaf):
            out += Self.printable("\(indent)\(value.name): \(value.type) = \(leaf)") + "\n"
        case .optional(nil):
            out += "\(indent)\(value.name): \(value.type) = (none)\n"
        case .list(let elements, let total):
            out += Self.printable("\(indent)\(value.name): \(value.type) (\(total) elements)") + "\n"
            for element in elements { tree(element, depth: depth + 1, into: &out) }
            if total > elements.count { out += "\(indent)    … \(total - elements.count) more\n" }
        default:
            out += Self.printable("\(indent)\(value.name): \(value.type)") + "\n"
            for child in value.children { tree(child, depth: depth + 1, into: &out) }
        }
    }

    /// 16 bytes a line: offset, hex, ASCII (`.` for what does not print).
    public static func hexDump(_ bytes: [UInt8], indent: String = "") -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = ""
        var start = 0
        while start < bytes.count {
            let row = bytes[start..<min(start + 16, bytes.count)]
            var line: [UInt8] = Array(indent.utf8)
            for shift in stride(from: 12, through: 0, by: -4) { line.append(digits[(start >> shift) & 0xF]) }
            line += [32, 32]
            for (i, byte) in row.enumerated() {
                line += [digits[Int(byte >> 4)], digits[Int(byte & 0xF)], 32]
                if i == 7 { line.append(32) }
            }
            for i in row.count..<16 { line += [32, 32, 32]; if i == 7 { line.append(32) } }
            line += [32, UInt8(ascii: "|")]
            for byte in row { line.append(byte >= 0x20 && byte < 0x7F ? byte : UInt8(ascii: ".")) }
            line += [UInt8(ascii: "|"), 10]
            out += String(decoding: line, as: UTF8.self)
            start += 16
        }
        return out
    }
}
