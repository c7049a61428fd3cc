import IPCWire
import TraceFormat

extension StatsReport {
    /// The report as one JSON document (docs/stats.md lists every field; `format` is its version: fields
    /// are only ever added). Durations are integer nanoseconds; a value not measured is `null`.
    public func json() -> String {
        var out = JSONText()
        out.open("{")
        out.key("format"); out.raw("\"ipcscope-stats/1\"")
        out.key("trace"); out.string(trace)
        out.key("filter"); if let filter { out.string(filter) } else { out.raw("null") }
        out.key("recording"); out.string(recording)
        out.key("events"); out.raw("\(events)")
        out.key("channels"); out.raw("\(channels)")
        out.key("kinds"); out.open("{")
        for kind in kinds { out.key(kind.name); out.raw("\(kind.count)") }
        out.close("}")
        out.key("pairs"); out.open("[")
        for row in pairs {
            out.element(); out.open("{")
            out.key("sender"); out.string(row.name)
            out.key("receiver"); out.string(row.receiver ?? "")
            counts(row.counts, into: &out)
            out.close("}")
        }
        out.close("]")
        out.key("messages"); out.open("[")
        for row in messages {
            out.element(); out.open("{")
            out.key("message"); out.string(row.name)
            out.key("magic"); out.raw(row.magic.map { "\($0)" } ?? "null")
            out.key("id"); out.raw(row.id.map { "\($0)" } ?? "null")
            counts(row.counts, into: &out)
            out.close("}")
        }
        out.close("]")
        out.key("sync"); out.open("{")
        out.key("calls"); out.raw("\(syncCalls)")
        out.key("answered"); out.raw("\(answeredCalls)")
        out.key("unsolicited_responses"); out.raw("\(unsolicitedResponses)")
        out.close("}")
        out.key("queues"); out.open("[")
        for row in queues {
            out.element(); out.open("{")
            out.key("channel"); out.raw("\(row.channel)")
            out.key("direction"); out.string(row.direction == .aToB ? "a>b" : "b>a")
            out.key("sender"); out.string(row.sender)
            out.key("receiver"); out.string(row.receiver)
            out.key("samples"); out.raw("\(row.maxima.samples)")
            func optional(_ value: UInt64?) -> String { value.map { "\($0)" } ?? "null" }
            out.key("max_proxy_buffered_bytes"); out.raw(optional(row.maxima.proxyBufferedBytes))
            out.key("max_receiver_unread_bytes"); out.raw(optional(row.maxima.receiverUnreadBytes))
            out.key("max_unacknowledged_fds"); out.raw(optional(row.maxima.unacknowledgedFDs))
            out.key("max_pending_sync_requests"); out.raw(optional(row.maxima.pendingSyncRequests))
            out.key("max_receiver_unprocessed_bytes"); out.raw(optional(row.maxima.receiverUnprocessedBytes))
            out.key("max_receiver_unmatched_fds"); out.raw(optional(row.maxima.receiverUnmatchedFDs))
            out.close("}")
        }
        out.close("]")
        out.key("unacknowledged_fds"); out.open("[")
        for row in unacknowledged {
            out.element(); out.open("{")
            out.key("channel"); out.raw("\(row.channel)")
            out.key("direction"); out.string(row.direction == .aToB ? "a>b" : "b>a")
            out.key("sender"); out.string(row.sender)
            out.key("receiver"); out.string(row.receiver)
            out.key("fds"); out.raw("\(row.fds)")
            out.key("frames"); out.raw("[" + row.frames.map(String.init).joined(separator: ",") + "]")
            out.close("}")
        }
        out.close("]")
        for (name, list) in [("violations", violations), ("warnings", warnings), ("eofs", eofs)] {
            out.key(name); out.open("{")
            for entry in list { out.key(entry.kind); out.raw("\(entry.count)") }
            out.close("}")
        }
        out.key("damage"); out.open("{")
        out.key("damaged_regions"); out.raw("\(damagedRegions)")
        out.key("truncated_tail_bytes"); out.raw("\(truncatedTailBytes)")
        out.key("regions"); out.open("[")
        for region in damage {
            out.element(); out.open("{")
            out.key("offset"); out.raw("\(region.offset)")
            out.key("reason"); out.string("\(region.reason)")
            out.key("resumed_at"); out.raw(region.resumedAt.map { "\($0)" } ?? "null")
            out.close("}")
        }
        out.close("]")
        out.close("}")
        out.close("}")
        return out.text + "\n"
    }

    private func counts(_ counts: TrafficCounts, into out: inout JSONText) {
        out.key("frames"); out.raw("\(counts.frames)")
        out.key("bytes"); out.raw("\(counts.bytes)")
        out.key("fds"); out.raw("\(counts.fds)")
        out.key("requests"); out.raw("\(counts.requests)")
        out.key("responses"); out.raw("\(counts.responses)")
        out.key("latency_ns")
        if let latency = counts.latency {
            out.raw("{\"calls\":\(latency.count),\"p50\":\(latency.value(atPercentile: 50)),\"p99\":\(latency.value(atPercentile: 99)),\"max\":\(latency.maximum)}")
        } else {
            out.raw("null")
        }
    }
}

/// A small JSON writer: commas between members, strings escaped (control characters as \u00XX).
struct JSONText {
    var text = ""
    private var needsComma = [false]

    mutating func open(_ bracket: String) {
        text += bracket
        needsComma.append(false)
    }

    mutating func close(_ bracket: String) {
        text += bracket
        needsComma.removeLast()
    }

    private mutating func separate() {
        if needsComma[needsComma.count - 1] { text += "," }
        needsComma[needsComma.count - 1] = true
    }

    mutating func key(_ name: String) {
        separate()
        string(name, separated: false)
        text += ":"
    }

    /// Before an array element.
    mutating func element() { separate() }

    mutating func raw(_ value: String) { text += value }

    mutating func string(_ value: String) { string(value, separated: false) }

    private mutating func string(_ value: String, separated: Bool) {
        text += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\t": text += "\\t"
            case "\r": text += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16)
                    text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    text.unicodeScalars.append(scalar)
                }
            }
        }
        text += "\""
    }
}
