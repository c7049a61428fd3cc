import IPCWire
import TraceFormat

extension StatsReport {
    /// The report as aligned tables, like `strace -c` or `tshark -z`. Colour (bold headings, red
    /// violations and damage) only when asked: the command asks on a terminal without NO_COLOR. Names
    /// from the trace are escaped as `show` escapes them (no terminal control from a hostile trace).
    public func text(colour: Bool = false) -> String {
        var out = ""
        func heading(_ text: String) { out += "\n" + (colour ? "\u{1B}[1m" + text + "\u{1B}[0m" : text) + "\n" }
        func red(_ text: String) -> String { colour ? "\u{1B}[1;31m" + text + "\u{1B}[0m" : text }

        out += "ipcscope stats: \(ShowFormatter.printable(trace))" + (filter.map { " (-f \(ShowFormatter.printable($0)))" } ?? "") + "\n"
        out += "\(events) events, \(channels) channels, recording \(recording)\n"

        heading("Records by kind")
        out += Table(["kind", "count"], right: [false, true], rows: kinds.map { [$0.name, "\($0.count)"] }).render()

        let latencyHeader = ["calls", "p50", "p99", "max"]
        func latencyCells(_ counts: TrafficCounts) -> [String] {
            guard let latency = counts.latency else { return [counts.requests > 0 ? "0" : "", "", "", ""] }
            return ["\(latency.count)", Self.duration(latency.value(atPercentile: 50)), Self.duration(latency.value(atPercentile: 99)),
                    Self.duration(latency.maximum)]
        }
        heading("Payload frames per endpoint pair")
        out += Table(["sender", "", "receiver", "frames", "bytes", "fds"] + latencyHeader,
                     right: [false, false, false, true, true, true, true, true, true, true],
                     rows: pairs.map { row in
                         [ShowFormatter.printable(row.name), "→", ShowFormatter.printable(row.receiver ?? ""), "\(row.counts.frames)",
                          "\(row.counts.bytes)", "\(row.counts.fds)"] + latencyCells(row.counts)
                     }).render()

        heading("Payload frames per message")
        out += Table(["message", "frames", "bytes", "fds"] + latencyHeader, right: [false, true, true, true, true, true, true, true],
                     rows: messages.map { row in
                         [ShowFormatter.printable(row.name), "\(row.counts.frames)", "\(row.counts.bytes)", "\(row.counts.fds)"] + latencyCells(row.counts)
                     }).render()
        out += "sync calls: \(syncCalls), answered \(answeredCalls)"
            + (syncCalls > answeredCalls ? ", " + red("\(syncCalls - answeredCalls) without a response") : "")
            + (unsolicitedResponses > 0 ? ", \(unsolicitedResponses) responses without a request" : "") + "\n"

        heading("Queue depth maxima per direction")
        if queues.isEmpty {
            out += "  (no queue samples)\n"
        } else {
            func cell(_ value: UInt64?) -> String { value.map { "\($0)" } ?? "-" }
            out += Table(["channel", "sender", "", "receiver", "buffered B", "unread B", "unacked fds", "sync pending", "unprocessed B", "unmatched fds"],
                         right: [false, false, false, false, true, true, true, true, true, true],
                         rows: queues.map { row in
                             ["ch\(row.channel)", ShowFormatter.printable(row.sender), "→", ShowFormatter.printable(row.receiver),
                              cell(row.maxima.proxyBufferedBytes), cell(row.maxima.receiverUnreadBytes), cell(row.maxima.unacknowledgedFDs),
                              cell(row.maxima.pendingSyncRequests), cell(row.maxima.receiverUnprocessedBytes), cell(row.maxima.receiverUnmatchedFDs)]
                         }).render()
            out += "  (- not measured)\n"
        }

        heading("Fds never acknowledged")
        if unacknowledged.isEmpty {
            out += "  none\n"
        } else {
            out += Table(["channel", "sender", "", "receiver", "fds", "frames"], right: [false, false, false, false, true, false],
                         rows: unacknowledged.map { row in
                             ["ch\(row.channel)", ShowFormatter.printable(row.sender), "→", ShowFormatter.printable(row.receiver), "\(row.fds)",
                              row.frames.map(String.init).joined(separator: ",") + (row.frames.count == 10 ? ",…" : "")]
                         }).render()
        }

        func counted(_ title: String, _ list: [(kind: String, count: Int)], alarming: Bool) {
            heading(title)
            if list.isEmpty { out += "  none\n"; return }
            let rendered = Table(["kind", "count"], right: [false, true], rows: list.map { [ShowFormatter.printable($0.kind), "\($0.count)"] }).render()
            out += alarming ? rendered.split(separator: "\n", omittingEmptySubsequences: false).enumerated().map { index, line in
                index == 0 || line.isEmpty ? String(line) : red(String(line))
            }.joined(separator: "\n") : rendered
        }
        counted("Violations by kind", violations, alarming: true)
        counted("Near-limit warnings by kind", warnings, alarming: false)
        counted("EOFs by kind", eofs, alarming: false)

        heading("Damage")
        if damagedRegions == 0 {
            out += "  none" + (truncatedTailBytes > 0 ? " (a truncated tail of \(truncatedTailBytes) bytes: the recorder stopped mid-record)" : "") + "\n"
        } else {
            out += "  " + red("\(damagedRegions) damaged region" + (damagedRegions == 1 ? "" : "s") + " skipped; these counts are of what was readable") + "\n"
            for region in damage.prefix(5) {
                out += "  offset \(region.offset): \(region.reason); " + (region.resumedAt.map { "resumed at offset \($0)" } ?? "nothing readable after it") + "\n"
            }
            if damagedRegions > 5 { out += "  … \(damagedRegions - 5) more\n" }
        }
        return out
    }

    /// `850ns`, `12.3us`, `1.2ms`, `3.45s`.
    static func duration(_ nanoseconds: UInt64) -> String {
        func tenths(_ value: UInt64, _ unit: UInt64) -> String {
            let scaled = (value * 10 + unit / 2) / unit
            return "\(scaled / 10).\(scaled % 10)"
        }
        switch nanoseconds {
        case ..<1000: return "\(nanoseconds)ns"
        case ..<1_000_000: return tenths(nanoseconds, 1000) + "us"
        case ..<1_000_000_000: return tenths(nanoseconds, 1_000_000) + "ms"
        default:
            let hundredths = (nanoseconds / 1_000_000 + 5) / 10
            let fraction = hundredths % 100
            return "\(hundredths / 100)." + (fraction < 10 ? "0" : "") + "\(fraction)s"
        }
    }
}

/// Columns padded to their widest cell (counted in Unicode scalars), two spaces apart, indented by two.
struct Table {
    var header: [String]
    var right: [Bool]
    var rows: [[String]]

    init(_ header: [String], right: [Bool], rows: [[String]]) {
        self.header = header
        self.right = right
        self.rows = rows
    }

    func render() -> String {
        if rows.isEmpty { return "  none\n" }
        var widths = header.map { $0.unicodeScalars.count }
        for row in rows {
            for (column, cell) in row.enumerated() where column < widths.count { widths[column] = max(widths[column], cell.unicodeScalars.count) }
        }
        func line(_ cells: [String]) -> String {
            var text = " "
            for (column, cell) in cells.enumerated() where column < widths.count {
                let fill = String(repeating: " ", count: widths[column] - cell.unicodeScalars.count)
                text += " " + (right[column] ? fill + cell : cell + fill)
            }
            while text.last == " " { text.removeLast() }
            return text + "\n"
        }
        return ([line(header)] + rows.map(line)).joined()
    }
}
