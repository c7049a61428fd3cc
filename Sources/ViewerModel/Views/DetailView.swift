import IPCWire
import TraceFormat

/// One line of the detail pane. Parameter lines carry their path in the tree (to fold it) and their bytes
/// in the payload (highlighted in the hex dump when the line is the selected field).
struct DetailLine {
    var text: String
    var role: StyleRole = .normal
    var bold = false
    var field: [Int]?
    var range: Range<Int>?
}

struct DetailContent {
    var lines: [DetailLine]
    /// The captured payload, dumped in hex under the lines.
    var payload: [UInt8]?
    /// What events appended later could change: a delivery or an acknowledgement not found yet.
    var awaitsLaterEvents = false
}

/// The selected event in full: header fields, both timestamps and the time queued, the decoded parameter
/// tree, attachments and their acknowledgement, and a hex dump with the selected field's bytes highlighted.
extension TraceViewer {
    func drawDetail(_ rect: Rect, into grid: inout CellGrid) {
        guard !rect.isEmpty else { return }
        let framed = rect.width >= 8 && rect.height >= 3
        let content = detailContent()
        let fieldLines = content.lines.indices.filter { content.lines[$0].field != nil }
        detailField = min(detailField, max(0, fieldLines.count - 1))
        let selectedLine = fieldLines.isEmpty ? nil : fieldLines[detailField]
        let highlight = selectedLine.flatMap { content.lines[$0].range }
        if framed {
            drawBox(rect, title: "Detail" + (highlight.map { " (bytes \($0.lowerBound)..<\($0.upperBound))" } ?? ""), pane: .detail, into: &grid)
        }
        let area = framed ? rect.inner : rect
        guard area.height > 0, area.width > 0 else { return }

        // Text lines wrap to the pane (continuations indented by two); hex lines are made to fit.
        var display: [(line: Int, text: String)] = []
        for (index, line) in content.lines.enumerated() {
            for piece in Self.wrap(line.text, width: area.width) { display.append((index, piece)) }
        }
        let perLine = Self.hexBytesPerLine(width: area.width)
        var hexStart = display.count
        if let payload = content.payload {
            display.append((-1, "Payload (\(payload.count) bytes captured)"))
            hexStart = display.count
            for start in stride(from: 0, to: payload.count, by: perLine) { display.append((-2, "\(start)")) }
        }
        if let selectedLine, focus == .detail,
           let first = display.firstIndex(where: { $0.line == selectedLine }) {
            if first < detailTop { detailTop = first }
            if first >= detailTop + area.height { detailTop = first - area.height + 1 }
        }
        detailTop = min(detailTop, max(0, display.count - area.height))
        for (offset, index) in (detailTop..<min(display.count, detailTop + area.height)).enumerated() {
            let y = area.row + offset
            if index >= hexStart, let payload = content.payload {
                drawHexLine(payload, start: (index - hexStart) * perLine, count: perLine, highlight: highlight, y: y, area: area, into: &grid)
                continue
            }
            let (lineIndex, text) = display[index]
            let line = lineIndex >= 0 ? content.lines[lineIndex] : DetailLine(text: text, role: .title, bold: true)
            grid.put(text, row: y, column: area.column, style: CellStyle(line.role, bold: line.bold), limit: area.width)
            if lineIndex >= 0 && lineIndex == selectedLine {
                grid.restyle(row: y, column: area.column, width: area.width) { $0.reverse = focus == .detail; $0.underline = true }
            }
        }
    }

    /// `text` in pieces of at most `width` columns, the continuations indented by two.
    static func wrap(_ text: String, width: Int) -> [String] {
        guard width > 4, Format.width(text) > width else { return [text] }
        var pieces: [String] = []
        var current = ""
        var columns = 0
        for character in text {
            let w = TerminalWidth.of(character)
            if columns + w > width {
                pieces.append(current)
                current = "  "
                columns = 2
            }
            current.append(character)
            columns += w
        }
        if current.count > 2 || pieces.isEmpty { pieces.append(current) }
        return pieces
    }

    /// 16 bytes a line where there is room, else 8, 4, 2 or 1: offset, hex, ASCII.
    static func hexBytesPerLine(width: Int) -> Int {
        for count in [16, 8, 4, 2] where 6 + count * 4 + 1 <= width { return count }
        return 1
    }

    private func drawHexLine(_ bytes: [UInt8], start: Int, count: Int, highlight: Range<Int>?, y: Int, area: Rect, into grid: inout CellGrid) {
        let digits = Array("0123456789abcdef")
        var x = grid.put(String(repeating: "0", count: max(0, 4 - String(start, radix: 16).count)) + String(start, radix: 16) + "  ",
                         row: y, column: area.column, style: CellStyle(.dim), limit: area.width)
        let end = min(bytes.count, start + count)
        let asciiColumn = area.column + 6 + count * 3 + 1
        for position in start..<end {
            let byte = bytes[position]
            let style = highlight?.contains(position) == true ? CellStyle(.hexHighlight, reverse: true) : CellStyle(.normal)
            x = grid.put(String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]]), row: y, column: x, style: style, limit: area.right - x)
            x = grid.put(" ", row: y, column: x, limit: area.right - x)
            let printable: Character = byte >= 0x20 && byte < 0x7F ? Character(Unicode.Scalar(byte)) : "."
            grid.put(String(printable), row: y, column: asciiColumn + position - start, style: style, limit: area.right - (asciiColumn + position - start))
        }
    }

    func selectedFieldPath() -> [Int]? {
        let content = detailContent()
        let fieldLines = content.lines.filter { $0.field != nil }
        guard !fieldLines.isEmpty else { return nil }
        return fieldLines[min(detailField, fieldLines.count - 1)].field
    }

    /// The selected event's lines, built once per selection (and fold).
    func detailContent() -> DetailContent {
        guard let event = selectedEvent else { return DetailContent(lines: [DetailLine(text: "no event selected", role: .dim)]) }
        if let cached = detailCache, cached.event == event { return cached.content }
        let content = buildDetail(event)
        detailCache = (event, content)
        return content
    }

    private func buildDetail(_ event: Int) -> DetailContent {
        let offset = trace.index.offset(of: event)
        guard let record = counter.record(event, in: trace) else {
            return DetailContent(lines: [DetailLine(text: "record \(event) cannot be read", role: .error)])
        }
        var lines: [DetailLine] = []
        func add(_ text: String, _ role: StyleRole = .normal, bold: Bool = false) { lines.append(DetailLine(text: text, role: role, bold: bold)) }
        func side(_ channel: UInt32, _ side: Int) -> String {
            let participant = facts.participant(channel: channel, side: side, atOffset: offset)
            let title = participant.title(preferringEndpoint: false)
            return participant.endpoint.isEmpty || title.hasPrefix(participant.endpoint) ? title : "\(title) [\(participant.endpoint)]"
        }
        func route(_ channel: UInt32, _ direction: Direction) {
            let sender = direction == .aToB ? 0 : 1
            add("ch\(channel) \(direction == .aToB ? "A\(glyphs.rightwards)B" : "B\(glyphs.rightwards)A")")
            add("from \(side(channel, sender))")
            add("to   \(side(channel, 1 - sender))")
        }
        add("event \(trace.index.timePosition(ofEvent: event) ?? event)  \(record.kind)  at \(format.offset(relative(record.time)))", .dim)

        switch record {
        case .payloadFrame(let frame):
            let envelope = frame.capturedPayload.withUnsafeBytes { MessageEnvelope(payload: $0) }
            let kind = envelope.flatMap(facts.messageKind)
            add((envelope.map(facts.messageName) ?? "(payload shorter than its envelope)") + (kind.map { "  (\($0.rawValue))" } ?? ""), .title, bold: true)
            route(frame.channel, frame.direction)
            add("frame \(frame.frameIndex)  \(Format.bytes(UInt64(frame.header.payloadSize)))  \(frame.header.fdCount) fd  stream offset \(frame.streamOffset)")
            add("sent      \(format.offset(relative(frame.time)))")
            var awaitsLaterEvents = false
            if let delivered = facts.deliveryTime(of: frame, event: event, in: trace, counter: counter) {
                add("delivered \(format.offset(relative(delivered)))  queued \(format.duration(Int64(bitPattern: delivered &- frame.time)))")
            } else {
                add("delivered (no frames-delivered record)", .dim)
                awaitsLaterEvents = true
            }
            if let latency = facts.latency(atOffset: offset) {
                add(kind == .response ? "response, \(format.duration(latency)) after its request" : "sync request, answered in \(format.duration(latency))", .sync)
            } else if kind == .request && facts.responsesMayFollow {
                add("sync request, response not analysed yet", .dim)
            } else if kind == .request {
                add("sync request, no response in the trace", .warning)
            }
            if !frame.isPayloadComplete { add("captured \(frame.capturedPayload.count) of \(frame.header.payloadSize) bytes", .warning) }
            if let decoded = facts.decode(frame) {
                if !decoded.parameters.isEmpty { add("Parameters", .title, bold: true) }
                for (position, parameter) in decoded.parameters.enumerated() { tree(parameter, path: [position], depth: 1, into: &lines) }
                if let note = Self.outcomeNote(decoded.outcome) { add("  " + note, decoded.outcome.isComplete ? .dim : .warning) }
            }
            if frame.header.fdCount > 0 {
                add("Attachments (\(frame.header.fdCount))", .title, bold: true)
                let acks = facts.acknowledgements(of: frame, event: event, in: trace, counter: counter)
                for position in 0..<Int(frame.header.fdCount) {
                    var text = "  #\(position) "
                    if position < frame.fds.count {
                        let fd = frame.fds[position]
                        text += "\(fd.kind) ino \(fd.inode)" + (fd.size > 0 ? " \(Format.bytes(fd.size))" : "") + (fd.interposed ? " (interposed)" : "")
                    } else {
                        text += "(not received with the frame)"
                    }
                    switch position < acks.count ? acks[position] : .unknown {
                    case .acknowledged(let time): lines.append(DetailLine(text: text + "  \(glyphs.check) ack \(format.offset(relative(time)))", role: .normal))
                    case .unacknowledged:
                        lines.append(DetailLine(text: text + "  not acknowledged", role: .warning))
                        awaitsLaterEvents = true
                    case .unknown: lines.append(DetailLine(text: text + "  ack not worked out (long channel)", role: .dim))
                    }
                }
            }
            return DetailContent(lines: lines, payload: frame.capturedPayload, awaitsLaterEvents: awaitsLaterEvents)
        case .acknowledgement(let ack):
            add("acknowledgement of \(ack.count) fd" + (ack.count == 1 ? "" : "s"), .title, bold: true)
            route(ack.channel, ack.direction)
            add("frame \(ack.frameIndex)  stream offset \(ack.streamOffset)" + (ack.payloadSize.map { $0 > 0 ? "  payload \($0) (invalid)" : "" } ?? ""))
        case .violation(let violation):
            add("\(violation.severity.rawValue == "warning" ? "warning" : "violation"): \(violation.kindName)", .violation, bold: true)
            route(violation.channel, violation.direction)
            add("observed \(violation.observed), limit \(violation.limit)")
            add("stream offset \(violation.streamOffset)" + (violation.frameIndex.map { ", frame \($0)" } ?? ""))
            add("afterwards: \(violation.continuation)")
        case .eof(let eof):
            add("end of stream: \(eof.kind)", .eof, bold: true)
            route(eof.channel, eof.direction)
            if eof.errorNumber != 0 { add("errno \(eof.errorNumber)") }
            if let cause = eof.likelyCause { add("likely cause: \(cause)" + (eof.likelyCauseFrameIndex.map { " (frame \($0))" } ?? ""), .violation) }
        case .channelOpened(let opened):
            add("channel \(opened.channel) opened (\(opened.discovery))", .title, bold: true)
            add("A: \(side(opened.channel, 0))")
            add("B: \(side(opened.channel, 1))")
            if let origin = opened.transferredBy { add("transferred in ch\(origin.parentChannel) frame \(origin.frameIndex)", .transfer) }
        case .queueSample(let sample):
            add("queue sample", .title, bold: true)
            route(sample.channel, sample.direction)
            add("proxy holds       \(Format.bytes(sample.proxyBufferedBytes))")
            add("receiver unread   \(Format.bytes(sample.receiverUnreadBytes))" + (sample.receiverUnreadIsExact ? "" : " (estimated)"))
            add("unacked fds       \(sample.unacknowledgedFDs)")
            add("pending sync      \(sample.pendingSyncRequests)")
        default:
            var lanes = self.lanes
            let row = DiagramRowBuilder(facts: facts, glyphs: glyphs).row(record, offset: offset, lanes: &lanes)
            add(row.label, row.role, bold: true)
            if let channel = record.channel {
                add("A: \(side(channel, 0))")
                add("B: \(side(channel, 1))")
            }
        }
        return DetailContent(lines: lines, payload: nil)
    }

    /// One parameter and (unless folded) its parts, indented.
    private func tree(_ value: DecodedValue, path: [Int], depth: Int, into lines: inout [DetailLine]) {
        let indent = String(repeating: "  ", count: depth)
        let children = value.children
        let isFolded = folded.contains(path)
        let marker = children.isEmpty ? "" : (isFolded ? "+ " : "- ")
        var text = indent + marker + "\(value.name): \(value.type)"
        switch value.content {
        case .leaf(let leaf): text += " = \(leaf)"
        case .optional(nil): text += " = (none)"
        case .list(_, let total): text += " [\(total)]"
        default: break
        }
        lines.append(DetailLine(text: text, field: path, range: value.byteRange.isEmpty ? nil : value.byteRange))
        guard !isFolded else { return }
        for (position, child) in children.enumerated() { tree(child, path: path + [position], depth: depth + 1, into: &lines) }
        if case .list(let elements, let total) = value.content, total > elements.count {
            lines.append(DetailLine(text: indent + "  \(glyphs.ellipsis) \(total - elements.count) more", role: .dim))
        }
    }

    static func outcomeNote(_ outcome: DecodeOutcome) -> String? {
        switch outcome {
        case .complete(let trailing, let leftover):
            var notes: [String] = []
            if trailing > 0 { notes.append("\(trailing) trailing bytes") }
            if leftover > 0 { notes.append("\(leftover) fds not used by the message") }
            return notes.isEmpty ? nil : "(" + notes.joined(separator: ", ") + ")"
        case .tooShortForEnvelope: return "(too short for an envelope)"
        case .unknownMagic, .unknownMessageID: return "(no schema for this message)"
        case .undecoded(let at, let reason): return "(not decoded from byte \(at): \(reason))"
        case .captureEnded(let at): return "(capture ended at byte \(at))"
        case .decodeError(let at, let reason): return "(invalid at byte \(at): \(reason))"
        case .violation(let violation): return "(VIOLATION \(violation.kind.rawValue))"
        }
    }
}
