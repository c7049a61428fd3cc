import IPCWire
import TraceFormat

/// What one event looks like in the sequence diagram, before lanes get columns.
struct DiagramRow {
    enum Shape {
        /// A line from lane `from` to lane `to` with the head at `to` (`from == to`: a message to itself).
        case arrow(from: Int, to: Int, line: Character)
        /// A glyph on one lane, the text after it.
        case mark(lane: Int, glyph: Character)
        /// Text across the diagram, on no lane (the end of the recording, a process nobody's lane is).
        case banner
    }

    var shape: Shape
    var label: String
    var role: StyleRole
    var time: UInt64

    /// The lanes the row touches (kept visible when lanes do not all fit).
    var lanes: [Int] {
        switch shape {
        case .arrow(let from, let to, _): from == to ? [from] : [from, to]
        case .mark(let lane, _): [lane]
        case .banner: []
        }
    }
}

/// Turns a record into its diagram row: names from ``TraceFacts``, lanes from the ``LaneTable``.
struct DiagramRowBuilder {
    let facts: TraceFacts
    let glyphs: Glyphs
    var format: Format { Format(glyphs: glyphs) }

    func row(_ record: TraceRecord, offset: Int, lanes: inout LaneTable) -> DiagramRow {
        func lane(_ channel: UInt32, _ side: Int) -> Int {
            lanes.lane(for: facts.participant(channel: channel, side: side, atOffset: offset))
        }
        func arrow(_ channel: UInt32, _ direction: Direction, _ line: Character, _ label: String, _ role: StyleRole) -> DiagramRow {
            let sender = direction == .aToB ? 0 : 1
            return DiagramRow(shape: .arrow(from: lane(channel, sender), to: lane(channel, 1 - sender), line: line), label: label, role: role, time: record.time)
        }
        func mark(_ channel: UInt32, _ side: Int, _ glyph: Character, _ label: String, _ role: StyleRole) -> DiagramRow {
            DiagramRow(shape: .mark(lane: lane(channel, side), glyph: glyph), label: label, role: role, time: record.time)
        }
        func banner(_ label: String, _ role: StyleRole) -> DiagramRow {
            DiagramRow(shape: .banner, label: label, role: role, time: record.time)
        }

        switch record {
        case .payloadFrame(let frame):
            let (label, role) = messageLabel(frame, offset: offset)
            return arrow(frame.channel, frame.direction, glyphs.horizontal, label, role)
        case .acknowledgement(let ack):
            return arrow(ack.channel, ack.direction, glyphs.dashed, "ack \(ack.count) fd" + (ack.count == 1 ? "" : "s"), .ack)
        case .unknownFrame(let frame):
            return arrow(frame.channel, frame.direction, glyphs.horizontal, "frame of unknown type \(frame.header.rawType) \(Format.bytes(UInt64(frame.header.payloadSize)))", .error)
        case .eof(let eof):
            let glyph = eof.kind == .peerClosed ? glyphs.halfClose : glyphs.cross
            let what = eof.kind == .peerClosed ? "EOF (half-close)" : "EOF \(eof.kind)"
            return mark(eof.channel, eof.direction == .aToB ? 0 : 1, glyph, what + (eof.likelyCause.map { " after \($0)" } ?? "") + " ch\(eof.channel)", .eof)
        case .violation(let violation):
            // The glyph and the colour say "violation"; a warning (near a limit, not over it) says so in words.
            let warning = violation.severity.rawValue == "warning"
            return mark(violation.channel, violation.direction == .aToB ? 0 : 1, glyphs.violationMark,
                        (warning ? "warning: " : "") + "\(violation.kindName) \(violation.observed) > \(violation.limit)", warning ? .warning : .violation)
        case .channelOpened(let opened):
            if let origin = opened.transferredBy {
                return arrow(opened.channel, .aToB, glyphs.doubleHorizontal, "transfer: ch\(opened.channel) (in ch\(origin.parentChannel) frame \(origin.frameIndex))", .transfer)
            }
            return arrow(opened.channel, .aToB, glyphs.doubleHorizontal, "open ch\(opened.channel) (\(opened.discovery))", .dim)
        case .channelTransferred(let transferred):
            return arrow(transferred.channel, .aToB, glyphs.doubleHorizontal,
                         "transfer: ch\(transferred.channel) handed over in ch\(transferred.carriedBy.parentChannel) frame \(transferred.carriedBy.frameIndex)", .transfer)
        case .channelClosed(let closed):
            return arrow(closed.channel, .aToB, glyphs.doubleHorizontal, "close ch\(closed.channel)", .dim)
        case .captureLoss(let loss):
            return mark(loss.channel, loss.direction == .aToB ? 0 : 1, glyphs.violationMark, "capture loss: \(loss.framesAffected) frames (\(loss.reason))", .warning)
        case .lateFDs(let late):
            return mark(late.channel, late.direction == .aToB ? 0 : 1, glyphs.vertical, "\(late.fds.count) fds of frame \(late.frameIndex) came late", .warning)
        case .queueSample(let sample):
            return mark(sample.channel, sample.direction == .aToB ? 0 : 1, glyphs.vertical,
                        "queue: \(Format.bytes(sample.receiverUnreadBytes)) unread, \(sample.unacknowledgedFDs) fds unacked", .dim)
        case .framesDelivered(let delivered):
            return arrow(delivered.channel, delivered.direction, glyphs.dashed, "delivered frames \(delivered.firstFrameIndex)-\(delivered.lastFrameIndex)", .dim)
        case .endpoint(let endpoint):
            return mark(endpoint.channel, Int(endpoint.side.rawValue), glyphs.vertical,
                        "ch\(endpoint.channel) \(endpoint.side.rawValue == 0 ? "A" : "B"): " + (endpoint.endpointName.isEmpty ? "unnamed" : endpoint.endpointName), .dim)
        case .endpointResolved(let resolved):
            return mark(resolved.channel, Int(resolved.side.rawValue), glyphs.vertical, "ch\(resolved.channel) side is \(resolved.endpoint.name)", .dim)
        case .channelClassified(let classified):
            return banner("ch\(classified.channel) \(classified.channelProtocol): \(classified.reason)", .dim)
        case .process(let process):
            let what = "process \(process.pid) " + (process.executable.isEmpty ? process.commandLine : process.executable)
            let key = Participant(key: "pid \(process.pid)", pid: process.pid, process: "", endpoint: "", channelSide: "")
            if let existing = lanes.existingLane(for: key) {
                return DiagramRow(shape: .mark(lane: existing, glyph: glyphs.vertical), label: what, role: .dim, time: record.time)
            }
            return banner(what, .dim)
        case .end(let end):
            return banner("end of recording: \(end.summary.frames) frames, \(Format.bytes(end.summary.bytes)), \(end.summary.violations) violations", .title)
        case .header:
            return banner("trace header", .dim)
        }
    }

    /// `LoadUrl 96 B 1 fd`, with `sync 2.1 ms` on a request and the latency on its response.
    func messageLabel(_ frame: PayloadFrameRecord, offset: Int) -> (String, StyleRole) {
        guard let envelope = frame.capturedPayload.withUnsafeBytes({ MessageEnvelope(payload: $0) }) else {
            return ("(payload shorter than its envelope) \(Format.bytes(UInt64(frame.header.payloadSize)))", .message)
        }
        var label = facts.shortMessageName(envelope) + " " + Format.bytes(UInt64(frame.header.payloadSize))
        if frame.header.fdCount > 0 { label += " \(frame.header.fdCount) fd" }
        switch facts.messageKind(envelope) {
        case .request?:
            label += facts.latency(atOffset: offset).map { " sync \(format.duration($0))" } ?? (facts.responsesMayFollow ? " sync \(glyphs.ellipsis)" : " sync, no response")
            return (label, .sync)
        case .response?:
            label += facts.latency(atOffset: offset).map { " \(format.duration($0))" } ?? ""
            return (label, .response)
        default:
            return (label, .message)
        }
    }
}
