/// A reference a process or endpoint record makes that the trace does not back (docs/trace-format.md
/// §5.15–§5.16): the file is intact, but a reader cannot resolve the name.
public struct IdentityProblem: Sendable, Equatable, CustomStringConvertible {
    public var offset: Int
    public var description: String
}

/// Processes, endpoints and transfers, checked as ``TraceReader/validate()`` reads: an endpoint record must
/// name a channel opened before it and a process (pid and start time) recorded before it.
struct IdentityTally {
    private var processes = Set<ProcessKey>()
    private var openedChannels = Set<UInt32>()
    private var transfers = Set<TransferKey>()
    private(set) var problems: [IdentityProblem] = []
    /// Problems past this many are counted, not kept (a hostile file cannot make the report grow without bound).
    static let keptProblems = 100
    private(set) var problemCount = 0

    private struct ProcessKey: Hashable {
        var pid: Int32
        var start: UInt64
    }

    private struct TransferKey: Hashable {
        var channel: UInt32
        var parent: UInt32
        var direction: UInt8
        var frameIndex: UInt64
    }

    mutating func add(_ record: TraceRecord, offset: Int) {
        switch record {
        case .process(let r):
            processes.insert(ProcessKey(pid: r.pid, start: r.startTime))
        case .channelOpened(let r):
            openedChannels.insert(r.channel)
            if let origin = r.transferredBy { addTransfer(r.channel, origin) }
        case .channelTransferred(let r):
            addTransfer(r.channel, r.carriedBy)
        case .endpoint(let r):
            if !openedChannels.contains(r.channel) {
                problem(offset, "endpoint record for channel \(r.channel), which no channel-opened record before it opened")
            }
            if r.pid > 0, !processes.contains(ProcessKey(pid: r.pid, start: r.processStartTime)) {
                problem(offset, "endpoint record for channel \(r.channel) names pid \(r.pid) (start \(r.processStartTime)), which no process record before it describes")
            }
        default:
            break
        }
    }

    private mutating func addTransfer(_ channel: UInt32, _ origin: TransferOrigin) {
        transfers.insert(TransferKey(channel: channel, parent: origin.parentChannel, direction: origin.direction.rawValue,
                                     frameIndex: origin.frameIndex))
    }

    private mutating func problem(_ offset: Int, _ text: String) {
        problemCount += 1
        if problems.count < Self.keptProblems { problems.append(IdentityProblem(offset: offset, description: text)) }
    }

    func finish(into report: inout CheckReport) {
        report.processCount = processes.count
        report.transferCount = transfers.count
        report.identityProblems = problems
        report.identityProblemCount = problemCount
    }
}
