import IPCWire
import TraceFormat

/// Sync requests paired with their responses, per channel, with IPCWire's ``SyncPairing`` (the recorder's
/// own ledger): the n-th response a direction receives answers the n-th request it sent.
///
/// Kept in flat arrays appended in file order and searched by binary search on the record offset:
/// 28 bytes per request (offset, time, latency, its statistics slot), 16 per response (offset, latency),
/// and 4 per request still waiting for its response. Nothing for any other frame.
public struct SyncCalls: Sendable {
    var pairings: [UInt32: SyncPairing] = [:]
    /// Requests not answered yet, per channel and the direction that sent them (`channel << 1 | direction`),
    /// oldest first from `head`: indexes into the request columns.
    var waiting: [UInt64: WaitingRequests] = [:]

    var requestOffsets: [Int] = []
    var requestTimes: [UInt64] = []
    /// -1 while unanswered.
    var requestLatencies: [Int64] = []
    /// The statistics slot the request was counted in: its latency is added there when it is answered.
    var requestSlots: [Int32] = []
    var responseOffsets: [Int] = []
    var responseLatencies: [Int64] = []
    public private(set) var unsolicitedResponses = 0

    struct WaitingRequests: Sendable {
        var requests: [Int32] = []
        var head = 0

        mutating func push(_ request: Int32) { requests.append(request) }

        mutating func pop() -> Int32? {
            guard head < requests.count else { return nil }
            let request = requests[head]
            head += 1
            if head >= 1024, head * 2 >= requests.count {  // drop what was answered: memory follows what waits
                requests.removeFirst(head)
                head = 0
            }
            return request
        }

        var count: Int { requests.count - head }
    }

    /// What a frame did: nothing, started a call, or answered one (with the call's latency and the request's slot).
    enum Outcome {
        case none
        case request
        case response(latency: Int64, requestSlot: Int32)
    }

    mutating func record(_ kind: MessageKind?, frame: PayloadFrameRecord, offset: Int, slot: Int32) -> Outcome {
        let outcome = pairings[frame.channel, default: SyncPairing()].record(kind, direction: frame.direction)
        switch outcome {
        case .requestPending:
            requestOffsets.append(offset)
            requestTimes.append(frame.time)
            requestLatencies.append(-1)
            requestSlots.append(slot)
            waiting[Self.key(frame.channel, frame.direction), default: WaitingRequests()].push(Int32(requestOffsets.count - 1))
            return .request
        case .answered:
            // The ledger says which ordinal; the waiting queue holds the same requests in the same order.
            guard let request = waiting[Self.key(frame.channel, frame.direction.reversed)]?.pop() else { return .none }
            let index = Int(request)
            let latency = Int64(bitPattern: frame.time &- requestTimes[index])
            requestLatencies[index] = latency
            responseOffsets.append(offset)
            responseLatencies.append(latency)
            return .response(latency: latency, requestSlot: requestSlots[index])
        case .unsolicitedResponse:
            unsolicitedResponses += 1
            return .none
        case .none:
            return .none
        }
    }

    static func key(_ channel: UInt32, _ direction: Direction) -> UInt64 { UInt64(channel) << 1 | UInt64(direction.rawValue) }

    /// The latency of the call a request or response at `offset` belongs to, once both are known.
    public func latency(at offset: Int) -> Int64? {
        if let index = Self.find(offset, in: requestOffsets) {
            let latency = requestLatencies[index]
            return latency >= 0 ? latency : nil
        }
        return Self.find(offset, in: responseOffsets).map { responseLatencies[$0] }
    }

    /// Whether the frame at `offset` is a sync request still waiting for its response.
    public func isWaiting(at offset: Int) -> Bool {
        guard let index = Self.find(offset, in: requestOffsets) else { return false }
        return requestLatencies[index] < 0
    }

    /// Requests sent and not answered (so far, or at the end of a finished trace).
    public var unansweredRequests: Int { requestLatencies.count - responseOffsets.count }
    public var calls: Int { requestOffsets.count }
    public var answeredCalls: Int { responseOffsets.count }

    static func find(_ offset: Int, in offsets: [Int]) -> Int? {
        var low = 0, high = offsets.count
        while low < high {
            let middle = (low + high) / 2
            if offsets[middle] < offset { low = middle + 1 } else { high = middle }
        }
        return low < offsets.count && offsets[low] == offset ? low : nil
    }
}
