import Glibc
import IPCWire
import TestSupport
import Testing
@testable import TraceFormat

/// The stored index: a reopen loads it instead of scanning; one that is damaged, stale, cut short or
/// crafted is rejected and the trace scanned (and the index stored again).
@Suite struct StoredIndexTests {
    /// A trace and a store directory, with a first open that stored the index.
    struct Fixture {
        let directory = TemporaryDirectory()
        let trace: String
        let store: IndexStore
        let stored: EventIndex
        let sidecar: String

        init(seed: UInt64 = 41, count: Int = 2500) throws {
            trace = directory.file("stored.ipctrace")
            _ = try InterleavedTraces.write(seed: seed, count: count, to: trace)
            store = IndexStore(directory: directory.file("cache/ipcscope"), minimumEvents: 0)
            var first = try IndexedTrace(path: trace, store: store)
            #expect(first.source == .scanned && first.storedIndexRejection == nil)
            first.indexToEnd()
            guard case .stored(let path) = first.storeOutcome else {
                Issue.record("not stored: \(first.storeOutcome)")
                throw StoredIndexRejection("not stored")
            }
            sidecar = path
            stored = first.index
        }

        /// Opens the trace again and indexes it to the end.
        func reopen() throws -> IndexedTrace {
            var trace = try IndexedTrace(path: trace, store: store)
            trace.indexToEnd()
            return trace
        }
    }

    @Test func reopeningUsesTheStoredIndex() throws {
        let fixture = try Fixture()
        #expect(Files.mode(fixture.sidecar) == 0o600)
        #expect(Files.mode(fixture.directory.file("cache/ipcscope")) == 0o700)
        let reopened = try IndexedTrace(path: fixture.trace, store: fixture.store)
        #expect(reopened.source == .stored(path: fixture.sidecar))
        #expect(reopened.progress.isComplete, "nothing left to scan")
        #expect(reopened.index == fixture.stored)
        #expect(reopened.index.mappedBytes > 0, "columns read in place")
        expectIndex(reopened.index, matches: ReferenceIndex(path: fixture.trace))
    }

    /// Bytes flipped anywhere, the file cut short or lengthened: rejected, scanned, stored again.
    @Test func aDamagedStoredIndexIsRejectedAndReplaced() throws {
        let fixture = try Fixture()
        let good = Files.read(fixture.sidecar)
        var random = SplitMix64(seed: 3)
        var variants: [[UInt8]] = [[], Array(good.prefix(100)), Array(good.dropLast()), good + [0], good + good]
        for length in [128, 129, good.count / 2, good.count - 5] { variants.append(Array(good.prefix(length))) }
        for position in [0, 9, 20, 40, 60, 70, 100, 130, good.count / 3, good.count / 2, good.count - 40, good.count - 1]
            + (0..<10).map({ _ in Int(random.next() % UInt64(good.count)) }) {
            var flipped = good
            flipped[position] ^= 0x10
            variants.append(flipped)
        }
        for variant in variants {
            Files.write(variant, to: fixture.sidecar)
            let reopened = try fixture.reopen()
            #expect(reopened.source == .scanned, "\(variant.count) bytes")
            #expect(reopened.storedIndexRejection != nil)
            #expect(reopened.index == fixture.stored)
            #expect(reopened.storeOutcome == .stored(path: fixture.sidecar), "stored again")
            #expect(try fixture.reopen().source == .stored(path: fixture.sidecar))
        }
    }

    /// A stored index whose checksum was made to fit (crafted, not damaged) is still checked: counts
    /// against the file, offsets, slots, the time order, the posting lists, events against their records.
    @Test func aCraftedStoredIndexWithAGoodChecksumIsRejected() throws {
        let fixture = try Fixture()
        let good = Files.read(fixture.sidecar)
        let count = fixture.stored.count
        let channels = fixture.stored.channelTable.count, magics = fixture.stored.magicTable.count
        let tablesEnd = 128 + 4 * channels + 4 * magics + 12 * fixture.stored.offsetHighs.count + 28 * fixture.stored.damage.count
        let times = tablesEnd + (8 - tablesEnd % 8) % 8
        let offsets = times + 8 * count, frameIndexes = offsets + 4 * count, timeOrder = frameIndexes + 4 * count
        let channelSlots = timeOrder + 4 * count, kinds = channelSlots + 2 * count + 2 * count + 2 * count
        let postings = kinds + 2 * count
        // The stored lists (kinds, channel slots, overflow): where the first with gaps keeps them, and the
        // first channel list with entries.
        var listStart = postings
        var withGaps: (bytes: Int, firsts: Int)?, channelList: (bytes: Int, firsts: Int)?
        for list in 0..<(256 + channels + 1) {
            let entries = Int(get32(good, listStart)), byteCount = Int(get32(good, listStart + 8))
            let place = (bytes: listStart + 16, firsts: listStart + 16 + byteCount)
            if withGaps == nil, entries >= 3 { withGaps = place }
            if channelList == nil, list >= 256, entries >= 3 { channelList = place }
            listStart += 16 + byteCount + 4 * ((entries + 127) / 128)
        }
        let gaps = try #require(withGaps), channelGaps = try #require(channelList)
        let edits: [(String, (inout [UInt8]) -> Void)] = [
            ("event count huge", { put64(&$0, at: 96, 1 << 40) }),
            ("event count one more", { put64(&$0, at: 96, UInt64(count + 1)) }),
            ("channel count huge", { put32(&$0, at: 104, 70_000) }),
            ("resume offset past the trace", { put64(&$0, at: 68, 1 << 50) }),
            ("offsets out of order", { swap32(&$0, offsets + 4 * 10, offsets + 4 * 11) }),
            ("a time changed", { $0[times + 8 * (count / 2)] ^= 1 }),
            ("time order swapped", { swap32(&$0, timeOrder + 4 * 100, timeOrder + 4 * 101) }),
            ("time order duplicated", { put32(&$0, at: timeOrder, get32($0, timeOrder + 4)) }),
            ("slot out of range", { $0[channelSlots] = 0x40 }),
            ("a kind changed", { $0[kinds + count - 1] ^= 0x7 }),
            ("posting list count", { put32(&$0, at: postings + 16 * 0, 5) }),
            ("posting list byte count huge", { put64(&$0, at: postings + 8, 1 << 62) }),
            ("a kind list's gap changed", { $0[gaps.bytes] = $0[gaps.bytes] == 1 ? 2 : 1 }),
            ("a kind list's gap zero", { $0[gaps.bytes] = 0 }),
            ("a kind list's first entry changed", { put32(&$0, at: gaps.firsts, get32($0, gaps.firsts) + 1) }),
            ("a channel list's gap changed", { $0[channelGaps.bytes] = $0[channelGaps.bytes] == 1 ? 2 : 1 }),
            ("a channel list's first entry changed", { put32(&$0, at: channelGaps.firsts, get32($0, channelGaps.firsts) + 1) }),
        ]
        for (name, edit) in edits {
            var crafted = good
            edit(&crafted)
            let crc = crafted.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0.dropLast(4))) }
            put32(&crafted, at: crafted.count - 4, crc)
            #expect(crafted != good, "\(name)")
            Files.write(crafted, to: fixture.sidecar)
            let reopened = try IndexedTrace(path: fixture.trace, store: fixture.store)
            #expect(reopened.source == .scanned, "\(name)")
            #expect(reopened.storedIndexRejection != nil, "\(name)")
        }
    }

    /// The trace changed in place since (same size, another mtime) or was replaced by another file at the
    /// same inode with other bytes: the stored index describes something else.
    @Test func aStaleStoredIndexIsRejected() throws {
        let fixture = try Fixture()
        var bytes = Files.read(fixture.trace)
        bytes[bytes.count / 2] ^= 0xFF
        Files.write(bytes, to: fixture.trace)  // O_TRUNC: same inode
        var times = [timespec(tv_sec: 1_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, fixture.trace, &times, 0) == 0)
        var reopened = try IndexedTrace(path: fixture.trace, store: fixture.store)
        #expect(reopened.source == .scanned)
        #expect(reopened.storedIndexRejection?.reason.contains("modified") == true)
        reopened.indexToEnd()
        expectIndex(reopened.index, matches: ReferenceIndex(bytes: bytes))

        // Other bytes at the head, and longer: not the same trace grown.
        let other = Samples.traceBytes(InterleavedTraces.records(seed: 99, count: 3000))
        Files.write(other, to: fixture.trace)
        let replaced = try IndexedTrace(path: fixture.trace, store: fixture.store)
        #expect(replaced.source == .scanned)
        #expect(replaced.storedIndexRejection != nil)
    }

    /// A trace that grew since its index was stored (a recording still running): the stored index is used
    /// for what it covers and only the new bytes are scanned.
    @Test func aGrownTraceResumesFromItsStoredIndex() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("grows.ipctrace")
        let full = Samples.traceBytes(InterleavedTraces.records(seed: 51, count: 3000))
        Files.write(Array(full.prefix(full.count / 2)), to: path)  // ends inside a record
        let store = IndexStore(directory: directory.file("cache"), minimumEvents: 0)
        var first = try IndexedTrace(path: path, store: store)
        first.indexToEnd()
        #expect(first.index.truncatedTailBytes > 0)
        let fd = open(path, O_WRONLY | O_APPEND)
        _ = full.suffix(full.count - full.count / 2).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        var reopened = try IndexedTrace(path: path, store: store)
        #expect(reopened.source != .scanned)
        #expect(reopened.eventCount == first.eventCount && !reopened.progress.isComplete)
        reopened.indexToEnd()
        #expect(reopened.index == full.withUnsafeBytes { EventIndex.build(traceBytes: $0) })
        expectIndex(reopened.index, matches: ReferenceIndex(bytes: full))
    }

    /// Storing never stops opening: a store that cannot be written is reported, the index is complete.
    @Test func anUnwritableStoreIsReportedNotFatal() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("t.ipctrace")
        let records = try InterleavedTraces.write(seed: 61, count: 500, to: path)
        Files.write([1], to: directory.file("file"))
        var trace = try IndexedTrace(path: path, store: IndexStore(directory: directory.file("file/cache"), minimumEvents: 0))
        trace.indexToEnd()
        #expect(trace.progress.isComplete && trace.eventCount == records.count + 1)
        guard case .failed(let error) = trace.storeOutcome else {
            Issue.record("expected a failure, got \(trace.storeOutcome)")
            return
        }
        #expect(error.errno == ENOTDIR)
    }

    /// Only regular files are read as stored indexes (a FIFO would block the open).
    @Test func aStoredIndexThatIsNotARegularFileIsIgnored() throws {
        let fixture = try Fixture(count: 300)
        unlink(fixture.sidecar)
        #expect(mkfifo(fixture.sidecar, 0o600) == 0)
        let reopened = try IndexedTrace(path: fixture.trace, store: fixture.store)
        #expect(reopened.source == .scanned)
        #expect(reopened.storedIndexRejection != nil)
        unlink(fixture.sidecar)
    }

    /// Small traces are not stored unless asked (they index in milliseconds).
    @Test func smallIndexesAreNotStored() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("small.ipctrace")
        _ = try InterleavedTraces.write(seed: 71, count: 300, to: path)
        var trace = try IndexedTrace(path: path, store: IndexStore(directory: directory.file("cache"), minimumEvents: 1000))
        trace.indexToEnd()
        #expect(trace.storeOutcome == .notStored)
    }
}

private func put32(_ bytes: inout [UInt8], at offset: Int, _ value: UInt32) {
    for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
}

private func put64(_ bytes: inout [UInt8], at offset: Int, _ value: UInt64) {
    for i in 0..<8 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
}

private func get32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
    (0..<4).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * UInt32($1)) }
}

private func swap32(_ bytes: inout [UInt8], _ a: Int, _ b: Int) {
    let (x, y) = (get32(bytes, a), get32(bytes, b))
    put32(&bytes, at: a, y)
    put32(&bytes, at: b, x)
}
