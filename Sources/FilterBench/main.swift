// Filter evaluation throughput: compiles typical filters and evaluates each over 1 M synthetic events
// (FilterSubject values held in an array), next to the same predicate written by hand in Swift.
// Build in release: `swift build -c release --product FilterBench && .build/release/FilterBench [events]`.
// `FilterBench TRACE.ipctrace [events]` also evaluates filters over that trace's decoded records
// (TraceRecordSubject: side identities, message names and latencies from the TraceAnalyzer), repeated
// until `events` evaluations.
// docs/filters.md ("Speed") quotes its output.
#if canImport(Glibc)
import Glibc
#endif
import CAllocationCounter
import TraceAnalysis
import TraceFormat

struct SyntheticEvent: FilterSubject {
    var kind: UInt8
    var channel: UInt32
    var direction: UInt8
    var size: UInt32
    var fds: UInt32
    var time: Int64
    var id: Int32
    var nameIndex: Int
    let names: Names

    final class Names {
        let endpoints: [[UInt8]] = ["UIClient", "WebContentServer", "RequestServer", "WebContentClient"].map { Array($0.utf8) }
        let messages: [[UInt8]] = ["WebContentServer::load_url", "WebContentClient::did_paint", "RequestServer::start_request",
                                   "WebContentServer::LoadUrlResponse"].map { Array($0.utf8) }
    }

    func integer(_ field: FilterIntegerField) -> Int64? {
        switch field {
        case .channel: Int64(channel)
        case .kind: Int64(kind)
        case .direction: Int64(direction)
        case .pidA: 100
        case .pidB: 200
        case .messageID: kind == 3 ? Int64(id) : nil
        case .magic: kind == 3 ? 0x1234 : nil
        case .size: kind == 3 ? Int64(size) : nil
        case .fds: kind == 3 || kind == 4 ? Int64(fds) : nil
        case .time: time
        case .latency: nil
        }
    }

    func withText<R>(_ field: FilterTextField, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R? {
        switch field {
        case .endpointA: names.endpoints[nameIndex].withUnsafeBufferPointer(body)
        case .endpointB: names.endpoints[(nameIndex + 1) % 4].withUnsafeBufferPointer(body)
        case .message: kind == 3 ? names.messages[nameIndex].withUnsafeBufferPointer(body) : nil
        default: nil
        }
    }
}

func now() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

var arguments = Array(CommandLine.arguments.dropFirst())
let tracePath = arguments.first?.hasSuffix(".ipctrace") == true ? arguments.removeFirst() : nil
let count = arguments.first.flatMap { Int($0) } ?? 1_000_000
let names = SyntheticEvent.Names()
/// A fixed-seed LCG: the same events every run.
struct Generator {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state >> 20
    }
}
var generator = Generator()
var events: [SyntheticEvent] = []
events.reserveCapacity(count)
for index in 0..<count {
    let r = generator.next()
    events.append(SyntheticEvent(
        kind: [3, 3, 3, 4, 6, 18][Int(r % 6)], channel: UInt32((r >> 3) % 4), direction: UInt8((r >> 5) & 1),
        size: UInt32((r >> 6) % 8192), fds: UInt32((r >> 19) % 3), time: Int64(index) * 1000, id: Int32((r >> 21) % 12),
        nameIndex: Int((r >> 25) % 4), names: names))
}

let filters: [(text: String, byHand: (SyntheticEvent) -> Bool)] = [
    ("kind == frame and dir == a>b and size > 1KiB",
     { $0.kind == 3 && $0.direction == 0 && $0.size > 1024 }),
    ("message == \"WebContent*::load_url\" or endpoint ~ \"request\"",
     { e in
         (e.kind == 3 && String(decoding: names.messages[e.nameIndex], as: UTF8.self).hasPrefix("WebContent")
             && String(decoding: names.messages[e.nameIndex], as: UTF8.self).hasSuffix("::load_url"))
             || String(decoding: names.endpoints[e.nameIndex], as: UTF8.self).lowercased().contains("request")
             || String(decoding: names.endpoints[(e.nameIndex + 1) % 4], as: UTF8.self).lowercased().contains("request")
     }),
    ("kind in {frame, ack} and not (fds == 0 or time < 10ms) and channel in {1, 2}",
     { ($0.kind == 3 || $0.kind == 4) && !($0.fds == 0 || $0.time < 10_000_000) && ($0.channel == 1 || $0.channel == 2) }),
]

// The counter sees allocations: one array costs at least one malloc. (If it did not, "0 mallocs" below
// would mean nothing.)
let before = ipcs_allocation_count()
let probe = [Int](repeating: 7, count: Int(CommandLine.argc) + 1000)
let probeCost = ipcs_allocation_count() - before
guard probeCost >= 1, probe.count > 1000 else {
    print("error: the allocation counter does not see allocations")
    exit(1)
}
print("events: \(count)")
for (text, byHand) in filters {
    let filter: CompiledFilter
    do { filter = try CompiledFilter(text) } catch {
        print("error: \(error)")
        exit(1)
    }
    var matched = 0
    // A warm-up pass: the runtime allocates once for metadata and caches the first time a type is used;
    // what is counted below is what evaluation costs per event.
    events.withUnsafeBufferPointer { events in
        for index in 0..<min(events.count, 1000) where filter.matches(events[index]) { matched += 1 }
    }
    matched = 0
    let allocationsBefore = ipcs_allocation_count()
    let start = now()
    // Through a buffer pointer: an Array iterator in a debug build allocates its read coroutine's frame.
    events.withUnsafeBufferPointer { events in
        for index in 0..<events.count where filter.matches(events[index]) { matched += 1 }
    }
    let elapsed = now() - start
    let allocations = ipcs_allocation_count() - allocationsBefore
    var handMatched = 0
    let handStart = now()
    for event in events where byHand(event) { handMatched += 1 }
    let handElapsed = now() - handStart
    let rate = Double(count) / elapsed
    print("\(text)")
    print("  filter: \(matched) matched, \(rounded(elapsed * 1e3)) ms, \(rounded(rate / 1e6)) M events/s (\(filter.instructionCount) instructions), \(allocations) mallocs")
    print("  by hand (Swift closure, String ops where text is compared): \(handMatched) matched, \(rounded(handElapsed * 1e3)) ms")
    if matched != handMatched { print("  MISMATCH"); exit(1) }
}

func rounded(_ value: Double) -> String {
    let scaled = (value * 100).rounded() / 100
    return "\(scaled)"
}

// Compiling, as the viewer does on every keystroke: a typical filter, and one at the 16 KiB length limit.
var longest = "size"
while longest.utf8.count + 8 <= 16 * 1024 { longest += " or size" }
for text in ["kind == frame and message == \"WebContent*::load_url\" and (latency > 10ms or size >= 64KiB)", longest] {
    let compiles = text.count > 1000 ? 200 : 20_000
    var instructions = 0
    let start = now()
    for _ in 0..<compiles {
        guard let filter = try? CompiledFilter(text) else { exit(1) }
        instructions &+= filter.instructionCount
    }
    let perCompile = (now() - start) / Double(compiles)
    print("compile \(text.utf8.count) bytes (\(instructions / compiles) instructions): \(rounded(perCompile * 1e6)) µs")
}

if let tracePath {
    let reader: TraceReader
    do { reader = try TraceReader(path: tracePath) } catch {
        print("error: \(error)")
        exit(1)
    }
    let records = reader.records().map { (offset: $0.offset, record: $0.record) }
    let contextStart = now()
    let context = TraceAnalyzer(records: records)
    print("\(tracePath): \(records.count) records, context built in \(rounded((now() - contextStart) * 1e3)) ms")
    let subjects = records.map { TraceRecordSubject(record: $0.record, offset: $0.offset, context: context) }
    let rounds = max(1, count / max(1, subjects.count))
    for text in ["kind == frame and dir == a>b", "endpoint == \"*RequestServer\" and latency > 1ms",
                 "message == \"*WebContent*::load_url\" or message ~ \"did_\"", "param.url ~ \"example\""] {
        guard let filter = try? CompiledFilter(text) else { exit(1) }
        var matched = 0
        subjects.withUnsafeBufferPointer { subjects in
            for index in 0..<subjects.count where filter.matches(subjects[index]) { matched += 1 } // warm-up
        }
        matched = 0
        let allocationsBefore = ipcs_allocation_count()
        let start = now()
        subjects.withUnsafeBufferPointer { subjects in
            for _ in 0..<rounds {
                for index in 0..<subjects.count where filter.matches(subjects[index]) { matched += 1 }
            }
        }
        let elapsed = now() - start
        let allocations = ipcs_allocation_count() - allocationsBefore
        print("\(text)")
        print("  \(matched / rounds) matched per pass, \(rounded(Double(rounds * subjects.count) / elapsed / 1e6)) M records/s over \(rounds) passes, \(allocations) mallocs")
    }
}
