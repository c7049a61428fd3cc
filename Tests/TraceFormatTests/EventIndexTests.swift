import Glibc
import IPCWire
import TestSupport
import Testing
@testable import TraceFormat

@Suite struct EventIndexTests {
    /// The shipped traces (format 1.1 in Traces/, and the same runs in 1.0): every event's fields, the time
    /// order and the posting lists are what the full decoder and a stable sort by (time, offset) say.
    @Test(arguments: ShippedTraces.pathsWithVersions.indices)
    func shippedTracesIndexAsTheReferenceSays(which: Int) throws {
        let (path, version) = ShippedTraces.pathsWithVersions[which]
        var trace = try IndexedTrace(path: path, store: .disabled)
        trace.indexToEnd()
        #expect(trace.reader.version == version, "\(path)")
        let reference = ReferenceIndex(path: path)
        expectIndex(trace.index, matches: reference)
        // Not vacuous: file order is not time order in these traces.
        #expect(reference.timeOrder != Array(0..<reference.events.count))
        #expect(trace.index.count(of: .payloadFrame) > 0 && reference.events.contains { $0.envelope != nil })
    }

    /// The demo's frames that follow a record with a later time (docs/trace-format.md §2.2): the index's
    /// time order puts each after that record's predecessors in time, not in file order.
    @Test func demoFramesOutOfFileOrderAreInTimeOrder() throws {
        var trace = try IndexedTrace(path: ShippedTraces.directory + "/demo.ipctrace", store: .disabled)
        trace.indexToEnd()
        let index = trace.index
        var latest: UInt64 = 0
        var framesAfterALaterRecord = 0
        for number in 0..<index.count {
            if index.rawKind(of: number) == TraceRecordKind.payloadFrame.rawValue && index.time(of: number) < latest { framesAfterALaterRecord += 1 }
            latest = max(latest, index.time(of: number))
        }
        #expect(framesAfterALaterRecord > 0)
        let times = trace.events(inTimeOrder: 0..<index.count).map(\.time)
        #expect(times == times.sorted())
    }

    /// Generated 1.1 traces whose directions interleave out of time order, with values too large for the
    /// compact columns (read back from the records).
    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func interleavedTracesIndexAsTheReferenceSays(seed: UInt64) throws {
        let directory = TemporaryDirectory()
        let path = directory.file("interleaved.ipctrace")
        _ = try InterleavedTraces.write(seed: seed, count: 3000, to: path)
        var trace = try IndexedTrace(path: path, store: .disabled)
        trace.indexToEnd()
        let reference = ReferenceIndex(path: path)
        expectIndex(trace.index, matches: reference)
        #expect(reference.timeOrder != Array(0..<reference.events.count))
        #expect(reference.events.contains { ($0.frameIndex ?? 0) >= 1 << 32 })
        #expect(reference.events.contains { $0.envelope?.messageID == 70_000 })
        #expect(reference.events.contains { $0.envelope?.messageID == -5 })
        #expect(reference.events.contains { $0.kind == .payloadFrame && $0.envelope == nil })
    }

    @Test func postingListsFindTheKthEntryAndSearchByEvent() {
        var random = SplitMix64(seed: 7)
        var list = PostingList()
        var values: [Int] = []
        var value = 0
        for _ in 0..<5000 {
            value += [1, 2, 127, 128, 300, 20_000, 3_000_000][Int(random.next() % 7)]
            values.append(value)
            list.append(UInt32(value))
        }
        #expect(Array(list) == values)
        #expect(list.count == values.count)
        for _ in 0..<500 {
            let k = Int(random.next() % UInt64(values.count))
            #expect(list[k] == values[k])
            let probe = Int(random.next() % UInt64(value + 2))
            #expect(list.firstPosition(atOrAfter: probe) == (values.firstIndex { $0 >= probe } ?? values.count))
        }
    }

    /// Opening is progressive: after the first chunk the first events, and the time order of what is
    /// indexed so far, are there while the rest is not indexed yet.
    @Test func theFirstChunkGivesTheFirstEventsBeforeTheRest() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("big.ipctrace")
        _ = try InterleavedTraces.write(seed: 9, count: 20_000, to: path)
        let reference = ReferenceIndex(path: path)
        var trace = try IndexedTrace(path: path, store: .disabled)
        #expect(trace.eventCount == 0)
        let completeAfterFirstChunk = trace.indexMore(bytes: 16 << 10)
        #expect(!completeAfterFirstChunk)
        let first = trace.eventCount
        #expect(first > 100 && first < reference.events.count)
        #expect(!trace.progress.isComplete && trace.progress.indexedBytes < trace.progress.fileBytes)
        #expect(trace.events(inFileOrder: 0..<first) == Array(reference.events.prefix(first)))
        let prefixOrder = (0..<first).sorted { (reference.events[$0].time, $0) < (reference.events[$1].time, $1) }
        #expect(trace.events(inTimeOrder: 0..<first).map(\.number) == prefixOrder)

        trace.indexMore(untilEvents: 5000)
        #expect(trace.eventCount >= 5000 && !trace.progress.isComplete)
        trace.indexToEnd()
        #expect(trace.progress.isComplete)
        expectIndex(trace.index, matches: reference)
    }

    /// Indexing in chunks of any size gives the index one pass gives.
    @Test(arguments: [1, 13, 100, 4096, 1 << 20])
    func chunkedIndexingEqualsOnePass(chunk: Int) throws {
        let directory = TemporaryDirectory()
        let path = directory.file("chunks.ipctrace")
        _ = try InterleavedTraces.write(seed: 5, count: 1500, to: path)
        var trace = try IndexedTrace(path: path, store: .disabled)
        while !trace.indexMore(bytes: chunk) {}
        let bytes = Files.read(path)
        #expect(trace.index == bytes.withUnsafeBytes { EventIndex.build(traceBytes: $0) })
    }

    /// Damage costs the damaged records only, and is reported with its offsets.
    @Test(arguments: [11, 12, 13, 14, 15, 16] as [UInt64])
    func damagedTracesIndexTheGoodRecordsAndReportTheDamage(seed: UInt64) throws {
        let directory = TemporaryDirectory()
        let path = directory.file("damaged.ipctrace")
        _ = try InterleavedTraces.write(seed: seed, count: 800, to: path)
        var bytes = Files.read(path)
        var random = SplitMix64(seed: seed)
        let intact = ReferenceIndex(bytes: bytes).events.count
        switch seed % 3 {
        case 0:  // bit flips
            for _ in 0..<5 { bytes[200 + Int(random.next() % UInt64(bytes.count - 200))] ^= UInt8(1 << (random.next() % 8)) }
        case 1:  // garbage in the middle
            let at = bytes.count / 2
            bytes.insert(contentsOf: random.bytes(3000), at: at)
        default:  // cut short: the recorder crashed (no end record)
            bytes.removeLast(bytes.count / 3 + 5)
        }
        Files.write(bytes, to: path)
        var trace = try IndexedTrace(path: path, store: .disabled)
        trace.indexToEnd()
        let reference = ReferenceIndex(bytes: bytes)
        expectIndex(trace.index, matches: reference)
        #expect(trace.eventCount > intact / 2)
        if seed % 3 == 2 {
            #expect(trace.index.count(of: .end) == 0 && trace.eventCount < intact)
        } else {
            #expect(trace.index.corruptionCount > 0 && !trace.index.damage.isEmpty)
        }
    }
}
