import TraceFormat

/// One lane of the sequence diagram: a process (or an unidentified channel side) and when it had a
/// channel open, so replay can show which lanes are alive at the current time.
struct Lane: Sendable {
    var participant: Participant
    var title: String
    /// Channel lifetimes this lane took part in: opened, closed (nil: still open at the end of the trace).
    var intervals: [(opened: UInt64, closed: UInt64?)] = []

    func isAlive(at time: UInt64) -> Bool {
        intervals.isEmpty || intervals.contains { $0.opened <= time && ($0.closed.map { time < $0 } ?? true) }
    }
}

/// The lanes in order of first appearance. Built from the channel-opened, endpoint and channel-closed
/// records only (a few per channel, found by the index's per-kind lists); a row whose side was never named
/// by one of those adds its lane when it is first drawn.
struct LaneTable {
    private(set) var lanes: [Lane] = []
    private var byKey: [String: Int] = [:]

    init() {}

    init(trace: IndexedTrace, facts: TraceFacts) {
        let index = trace.index
        var lanesOfChannel: [UInt32: Set<Int>] = [:]
        var opened: [UInt32: UInt64] = [:]
        let naming: [TraceRecordKind] = [.channelOpened, .endpoint, .endpointResolved]
        // Only what analysis reached names a side; the rest get lanes as their rows are drawn.
        var events = naming.flatMap { Array(index.events(of: $0)) }.filter { facts.isAnalysed(offset: index.offset(of: $0)) }
        events.sort()
        for number in events {
            guard let channel = index.channel(of: number) else { continue }
            let offset = index.offset(of: number)
            for side in 0...1 {
                lanesOfChannel[channel, default: []].insert(lane(for: facts.participant(channel: channel, side: side, atOffset: offset)))
            }
            if index.rawKind(of: number) == TraceRecordKind.channelOpened.rawValue, opened[channel] == nil {
                opened[channel] = index.time(of: number)
            }
        }
        var closed: [UInt32: UInt64] = [:]
        for number in index.events(of: .channelClosed) {
            if let channel = index.channel(of: number) { closed[channel] = index.time(of: number) }
        }
        retitle()
        for (channel, members) in lanesOfChannel {
            let interval = (opened: opened[channel] ?? 0, closed: closed[channel])
            for member in members { lanes[member].intervals.append(interval) }
        }
    }

    var count: Int { lanes.count }

    /// Lane titles: the process name, unless several lanes share it (the demo's peers are all `ipcscope`),
    /// then the endpoint name the lane was first seen implementing.
    private mutating func retitle() {
        var processCount: [String: Int] = [:]
        for lane in lanes { processCount[lane.participant.process, default: 0] += 1 }
        for index in lanes.indices {
            let participant = lanes[index].participant
            lanes[index].title = participant.title(preferringEndpoint: processCount[participant.process, default: 0] > 1)
        }
    }

    /// The lane of `participant`, added at the end when new.
    mutating func lane(for participant: Participant) -> Int {
        if let existing = byKey[participant.key] {
            // A side first seen without a name keeps the lane; the lane takes the name once known.
            if lanes[existing].participant.endpoint.isEmpty && !participant.endpoint.isEmpty { lanes[existing].participant.endpoint = participant.endpoint }
            if lanes[existing].participant.process.isEmpty && !participant.process.isEmpty { lanes[existing].participant.process = participant.process }
            return existing
        }
        byKey[participant.key] = lanes.count
        lanes.append(Lane(participant: participant, title: participant.title(preferringEndpoint: false)))
        return lanes.count - 1
    }

    func existingLane(for participant: Participant) -> Int? { byKey[participant.key] }
}
