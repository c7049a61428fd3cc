import IPCWire
import TraceFormat

struct QueueKey: Hashable {
    var channel: UInt32
    var direction: Direction
}

/// A channel direction's queue samples found so far, and how many events (file order) were looked at.
struct QueueSeries {
    var events: [Int] = []
    var examined = 0
}

/// Queue depths of the selected event's channel direction over the whole trace, one sparkline column per
/// slice of time: receiver-unread bytes, unacknowledged fds, proxy-held bytes, pending sync calls, with
/// LibIPC's limit and the replay time marked. A column shows the last sample of its slice, so a frame
/// decodes at most one sample per column.
extension TraceViewer {
    struct QueueMetric: Sendable {
        var name: String
        var value: @Sendable (QueueSampleRecord) -> UInt64
        var limitName: String?
        var bytes: Bool
    }

    static let queueMetrics: [QueueMetric] = [
        QueueMetric(name: "unread", value: { $0.receiverUnreadBytes }, limitName: "MAX_UNPROCESSED_BUFFER_SIZE", bytes: true),
        QueueMetric(name: "unacked fds", value: { $0.unacknowledgedFDs }, limitName: "MAX_UNPROCESSED_FDS", bytes: false),
        QueueMetric(name: "proxy holds", value: { $0.proxyBufferedBytes }, limitName: nil, bytes: true),
        QueueMetric(name: "pending sync", value: { $0.pendingSyncRequests }, limitName: nil, bytes: false),
    ]

    /// The channel direction the queue pane shows: the selected event's (a record of a whole channel: A to B).
    var queueKey: QueueKey? {
        guard let event = selectedEvent, let channel = trace.index.channel(of: event) else { return nil }
        return QueueKey(channel: channel, direction: trace.index.direction(of: event) ?? .aToB)
    }

    /// The samples of a channel direction in time order (event numbers; found through the index, not
    /// decoded). Kept while the trace grows at its end: only the new events are looked at.
    func samples(_ key: QueueKey) -> [Int] {
        let index = trace.index
        var series = queueSeries[key] ?? QueueSeries()
        guard series.examined < index.count else { return series.events }
        let kind = TraceRecordKind.queueSample.rawValue
        var added: [Int] = []
        if let list = index.postingList(onChannel: key.channel) {
            for number in list.dropFirst(list.firstPosition(atOrAfter: series.examined))
            where index.rawKind(of: number) == kind && index.direction(of: number) == key.direction { added.append(number) }
        } else {
            added = index.events(onChannel: key.channel).filter {
                $0 >= series.examined && index.rawKind(of: $0) == kind && index.direction(of: $0) == key.direction
            }
        }
        added.sort { (index.time(of: $0), $0) < (index.time(of: $1), $1) }
        series.events += added
        series.examined = index.count
        queueSeries[key] = series
        return series.events
    }

    /// The last sample at or before `time` (position in `list`).
    func sample(in list: [Int], atOrBefore time: UInt64) -> Int? {
        var low = 0, high = list.count
        while low < high {
            let middle = (low + high) / 2
            if trace.index.time(of: list[middle]) <= time { low = middle + 1 } else { high = middle }
        }
        return low > 0 ? low - 1 : nil
    }

    func drawQueues(_ rect: Rect, into grid: inout CellGrid) {
        guard !rect.isEmpty else { return }
        let framed = rect.width >= 8 && rect.height >= 3
        guard let key = queueKey else {
            if framed { drawBox(rect, title: "Queues", pane: .queues, into: &grid) }
            grid.put("no channel selected", row: framed ? rect.row + 1 : rect.row, column: rect.column + 1, style: CellStyle(.dim), limit: rect.width - 2)
            return
        }
        let from = facts.participant(channel: key.channel, side: key.direction == .aToB ? 0 : 1, atOffset: Int.max).title(preferringEndpoint: true)
        let to = facts.participant(channel: key.channel, side: key.direction == .aToB ? 1 : 0, atOffset: Int.max).title(preferringEndpoint: true)
        if framed { drawBox(rect, title: "Queues ch\(key.channel): \(from) \(glyphs.rightwards) \(to)", pane: .queues, into: &grid) }
        let area = framed ? rect.inner : rect
        guard area.height > 0, area.width > 0 else { return }
        let list = samples(key)
        guard !list.isEmpty else {
            grid.put("no queue samples for this direction", row: area.row, column: area.column + 1, style: CellStyle(.dim), limit: area.width - 1)
            return
        }
        let total = trace.eventCount
        let first = trace.index.time(of: trace.index.eventNumber(atTimePosition: 0))
        let last = trace.index.time(of: trace.index.eventNumber(atTimePosition: total - 1))
        let labelWidth = 13
        let valueWidth = area.width >= 60 ? 30 : 0
        let sparkWidth = area.width - labelWidth - valueWidth
        let span = max(1, last &- first)
        let now = list[sample(in: list, atOrBefore: clock) ?? 0]
        let current: QueueSampleRecord? = sample(in: list, atOrBefore: clock) != nil ? sampleRecord(now) : nil
        let nowColumn = sparkWidth > 0 ? Int(min(Double(sparkWidth - 1), Double(clock &- first) / Double(span) * Double(sparkWidth))) : 0

        for (line, metric) in Self.queueMetrics.prefix(area.height).enumerated() {
            let y = area.row + line
            grid.put(metric.name, row: y, column: area.column, style: CellStyle(.dim), limit: labelWidth - 1)
            var values: [UInt64?] = []
            if sparkWidth > 0 {
                for column in 0..<sparkWidth {
                    let end = first &+ UInt64(Double(span) * Double(column + 1) / Double(sparkWidth))
                    values.append(sample(in: list, atOrBefore: end).flatMap { sampleRecord(list[$0]) }.map(metric.value))
                }
            }
            let limit = metric.limitName.flatMap(facts.limit)
            let top = max(values.compactMap { $0 }.max() ?? 0, 1)
            for (column, value) in values.enumerated() {
                let x = area.column + labelWidth + column
                guard let value else { continue }
                let level = value == 0 ? 0 : max(1, Int(Double(value) / Double(top) * Double(glyphs.bars.count - 1)))
                let over = limit.map { value > $0 } ?? false
                grid[y, x] = Cell(glyphs.bars[min(level, glyphs.bars.count - 1)], style: CellStyle(over ? .violation : .queueBar))
            }
            if sparkWidth > 0 {
                grid.restyle(row: y, column: area.column + labelWidth + nowColumn, width: 1) { $0 = CellStyle(.timeMarker, reverse: true) }
            }
            if valueWidth > 0 {
                let x = area.right - valueWidth + 1
                let shown = current.map(metric.value).map { metric.bytes ? Format.bytes($0) : "\($0)" } ?? "-"
                var text = "now \(shown)"
                if let limit { text += " limit " + (metric.bytes ? Format.bytes(limit) : "\(limit)") + " " }
                let end = grid.put(text, row: y, column: x, style: CellStyle(.normal), limit: valueWidth - 1)
                if limit != nil { grid.fill(row: y, column: end, height: 1, width: area.right - end, with: Cell(glyphs.dashed, style: CellStyle(.queueLimit))) }
            }
        }
    }

    private func sampleRecord(_ number: Int) -> QueueSampleRecord? {
        if case .queueSample(let record)? = counter.record(number, in: trace) { return record }
        return nil
    }
}
