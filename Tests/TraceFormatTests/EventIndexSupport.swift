import Glibc
import IPCWire
import TestSupport
import Testing
@testable import TraceFormat

/// What an index must hold, worked out independently: every good record found by the record scanner,
/// its fields taken from the fully decoded record, and the time order from a stable sort.
struct ReferenceIndex {
    var events: [IndexedEvent] = []
    var damageOffsets: [Int] = []
    /// Stable sort of the event numbers by (time, file offset).
    var timeOrder: [Int] { events.indices.sorted { (events[$0].time, $0) < (events[$1].time, $1) } }

    init(bytes: [UInt8]) {
        bytes.withUnsafeBytes { data in
            var scanner = RecordScanner(data: data)
            while let event = scanner.next() {
                switch event {
                case .record(let frame):
                    let body = TraceReader.body(of: frame, in: data)
                    var expected = IndexedEvent(
                        number: events.count, offset: frame.offset, rawKind: frame.kind,
                        time: RecordBodyDecoder.time(body: body) ?? 0)
                    if let record = try? RecordBodyDecoder.decode(kind: frame.kind, body: body) {
                        Self.fill(&expected, from: record)
                    }
                    events.append(expected)
                case .corruption(let offset, _, _): damageOffsets.append(offset)
                case .truncatedTail: break
                }
            }
        }
    }

    init(path: String) { self.init(bytes: Files.read(path)) }

    private static func fill(_ event: inout IndexedEvent, from record: TraceRecord) {
        event.channel = record.channel
        switch record {
        case .payloadFrame(let r):
            (event.direction, event.frameIndex) = (r.direction, r.frameIndex)
            event.envelope = MessageEnvelope(payload: r.capturedPayload)
        case .acknowledgement(let r): (event.direction, event.frameIndex) = (r.direction, r.frameIndex)
        case .lateFDs(let r): (event.direction, event.frameIndex) = (r.direction, r.frameIndex)
        case .unknownFrame(let r): (event.direction, event.frameIndex) = (r.direction, r.frameIndex)
        case .framesDelivered(let r): (event.direction, event.frameIndex) = (r.direction, r.firstFrameIndex)
        case .eof(let r): event.direction = r.direction
        case .queueSample(let r): event.direction = r.direction
        case .violation(let r): event.direction = r.direction
        case .captureLoss(let r): event.direction = r.direction
        default: break
        }
    }
}

extension IndexedEvent {
    init(number: Int, offset: Int, rawKind: UInt8, time: UInt64) {
        self.init(number: number, offset: offset, rawKind: rawKind, time: time, channel: nil, direction: nil, frameIndex: nil, envelope: nil)
    }
}

/// Checks `index` against the reference: every event's fields, the time order, the posting lists.
func expectIndex(_ index: EventIndex, matches reference: ReferenceIndex, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    #expect(index.count == reference.events.count, sourceLocation: sourceLocation)
    guard index.count == reference.events.count else { return }
    for number in 0..<index.count where index.event(number) != reference.events[number] {
        Issue.record("event \(number): \(index.event(number)) != \(reference.events[number])", sourceLocation: sourceLocation)
        return
    }
    #expect(index.eventNumbers(inTimeOrder: 0..<index.count) == reference.timeOrder, sourceLocation: sourceLocation)
    for kind in 0...255 {
        let expected = reference.events.indices.filter { reference.events[$0].rawKind == UInt8(kind) }
        #expect(Array(index.events(ofRawKind: UInt8(kind))) == expected, "kind \(kind)", sourceLocation: sourceLocation)
    }
    let channels = Set(reference.events.compactMap(\.channel))
    #expect(Set(index.channels) == channels, sourceLocation: sourceLocation)
    for channel in channels {
        let expected = reference.events.indices.filter { reference.events[$0].channel == channel }
        #expect(index.events(onChannel: channel) == expected, "channel \(channel)", sourceLocation: sourceLocation)
    }
    #expect(index.damage.map(\.offset) == Array(reference.damageOffsets.prefix(EventIndex.damageListLimit)), sourceLocation: sourceLocation)
    #expect(index.corruptionCount == reference.damageOffsets.count, sourceLocation: sourceLocation)
}

/// Traces whose directions interleave out of time order, as a relay's threads write them: several
/// channels, each direction's own clock moving forward, batches handed over in random order with times
/// that lag the newest already written. Includes values the compact columns cannot hold (frame indexes
/// past 2³², message ids past 65535, negative ids) and payloads too short for an envelope.
enum InterleavedTraces {
    static func records(seed: UInt64, count: Int, channels: UInt32 = 4) -> [TraceRecord] {
        var random = SplitMix64(seed: seed)
        var clocks = [UInt64](repeating: 10_000_000_000, count: Int(channels) * 2)
        var frameIndexes = [UInt64](repeating: 0, count: Int(channels) * 2)
        var newest: UInt64 = 10_000_000_000
        var records: [TraceRecord] = (1...channels).map { channel in
            .channelOpened(ChannelOpenedRecord(
                time: 10_000_000_000, channel: channel * 7, endpointA: ChannelEndpoint(name: "A", pid: 1, command: "a"),
                endpointB: ChannelEndpoint(name: "B", pid: 2, command: "b"), discovery: .listen))
        }
        while records.count < count {
            let stream = Int(random.next() % UInt64(clocks.count))
            let channel = UInt32(stream / 2 + 1) * 7
            let direction: Direction = stream % 2 == 0 ? .aToB : .bToA
            let lag = random.next() % 50_000
            clocks[stream] = max(clocks[stream] + random.next() % 3_000, newest > lag ? newest - lag : 0)
            newest = max(newest, clocks[stream])
            for _ in 0..<(1 + random.next() % 4) {
                let time = clocks[stream]
                if stream == 3 && frameIndexes[stream] == 2 { frameIndexes[stream] = 1 << 33 }  // past a UInt32 column
                let frameIndex = frameIndexes[stream]
                frameIndexes[stream] += 1
                switch random.next() % 8 {
                case 0:
                    records.append(.acknowledgement(AcknowledgementRecord(
                        time: time, channel: channel, direction: direction, frameIndex: frameIndex, streamOffset: 0, count: 1)))
                case 1:
                    records.append(.queueSample(QueueSampleRecord(time: time, channel: channel, direction: direction)))
                default:
                    var payload = [UInt8](repeating: 0, count: Int(random.next() % 40))
                    let id: Int32 = switch random.next() % 16 { case 0: 70_000; case 1: -5; default: Int32(random.next() % 50) }
                    if payload.count >= 8 {
                        var envelope: [UInt8] = []
                        MessageEnvelope(magic: 0xC0DE_0000 | channel, messageID: id).append(to: &envelope)
                        payload.replaceSubrange(0..<8, with: envelope)
                    }
                    records.append(.payloadFrame(PayloadFrameRecord(
                        time: time, channel: channel, direction: direction, frameIndex: frameIndex, streamOffset: 0,
                        header: .payload(size: payload.count, fdCount: 0), capturedPayload: payload)))
                }
            }
        }
        return records
    }

    /// The records written through a TraceWriter to `path`.
    static func write(seed: UInt64, count: Int, to path: String) throws -> [TraceRecord] {
        let records = records(seed: seed, count: count)
        try Samples.writeTrace(records, to: path)
        return records
    }
}

/// The shipped sample traces.
enum ShippedTraces {
    static let directory: String = {
        var path = #filePath
        while let slash = path.lastIndex(of: "/"), !path.hasSuffix("/Tests") { path = String(path[..<slash]) }
        return String(path.dropLast("/Tests".count)) + "/Traces"
    }()

    static let names = ["demo.ipctrace", "demo-misbehave.ipctrace"]

    /// The same demo runs recorded in format 1.0 (Tests/TraceFormatTests/Fixtures/format-1.0).
    static let version10Directory: String = {
        var path = #filePath
        while let slash = path.lastIndex(of: "/"), !path.hasSuffix("/Tests") { path = String(path[..<slash]) }
        return path + "/TraceFormatTests/Fixtures/format-1.0"
    }()

    /// Every shipped trace with the version it is in: Traces/ (current) and the 1.0 fixtures.
    static let pathsWithVersions: [(path: String, version: TraceFormatVersion)] =
        names.map { (directory + "/" + $0, TraceFileLayout.currentVersion) }
        + names.map { (version10Directory + "/" + $0, TraceFormatVersion(major: 1, minor: 0)) }
}
