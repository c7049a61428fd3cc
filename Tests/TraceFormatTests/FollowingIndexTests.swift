import Glibc
import IPCWire
import TestSupport
import Testing
@testable import TraceFormat

/// A trace being recorded is followed: the index extended as the file grows equals a fresh open of the
/// final file.
@Suite struct FollowingIndexTests {
    @Test(arguments: [21, 22, 23] as [UInt64])
    func appendingPiecesAndFollowingEqualsAFreshOpen(seed: UInt64) throws {
        let directory = TemporaryDirectory()
        let path = directory.file("growing.ipctrace")
        _ = try InterleavedTraces.write(seed: seed, count: 2000, to: path)
        var full = Files.read(path)
        var random = SplitMix64(seed: seed)
        if seed == 22 { full.insert(contentsOf: random.bytes(500), at: full.count / 3) }  // damage while growing
        // Pieces of random sizes: most end inside a record (a tail in progress).
        var cut = 12 + Int(random.next() % 400)
        Files.write(Array(full[..<cut]), to: path)
        var trace = try IndexedTrace(path: path, store: .disabled)
        trace.indexToEnd()
        while cut < full.count {
            let next = min(full.count, cut + 1 + Int(random.next() % 3000))
            append(Array(full[cut..<next]), to: path)
            cut = next
            #expect(try trace.follow())
            #expect(trace.progress.isComplete)
        }
        #expect(try !trace.follow())
        var fresh = try IndexedTrace(path: path, store: .disabled)
        fresh.indexToEnd()
        #expect(trace.index == fresh.index)
        expectIndex(trace.index, matches: ReferenceIndex(bytes: full))
    }

    /// With the real writer: records flushed between updates.
    @Test func followingATraceWriterEqualsAFreshOpen() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("live.ipctrace")
        let writer = try TraceWriter(path: path, header: Samples.header())
        var trace = try IndexedTrace(path: path, store: .disabled)
        trace.indexToEnd()
        let records = InterleavedTraces.records(seed: 31, count: 1200)
        for batch in stride(from: 0, to: records.count, by: 150) {
            for record in records[batch..<min(records.count, batch + 150)] { #expect(writer.submit(record, waitForRoom: true)) }
            try writer.flush()
            try trace.follow()
        }
        try writer.close()
        try trace.follow()
        var fresh = try IndexedTrace(path: path, store: .disabled)
        fresh.indexToEnd()
        #expect(trace.eventCount == records.count + 1)
        #expect(trace.index == fresh.index)
    }

    private func append(_ bytes: [UInt8], to path: String) {
        let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        precondition(fd >= 0)
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                precondition(n > 0)
                offset += n
            }
        }
        close(fd)
    }
}
