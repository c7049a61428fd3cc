import Glibc
import Testing
@testable import TraceFormat

@Suite struct LiveReadingTests {
    @Test func refreshAndIndexUpdateFollowAGrowingFile() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("live.ipctrace")
        let writer = try TraceWriter(path: path, header: Samples.header())
        var reader = try TraceReader(path: path)
        var index = reader.buildIndex()
        #expect(index.count == 1)
        #expect(index.kind(at: 0) == .header)

        var expected: [TraceRecord] = [.header(Samples.header())]
        for round in 0..<5 {
            let batch = Samples.everyKind(startingAt: UInt64(round) * 100)
            for record in batch { #expect(writer.submit(record)) }
            expected += batch
            try writer.flush()
            #expect(try reader.refresh())
            reader.updateIndex(&index)
            #expect(index.count == expected.count)
            #expect(index.offsets.compactMap { reader.record(at: $0) } == expected)
            #expect(index.times.dropFirst().map { $0 } == expected.dropFirst().map(\.time))
        }
        #expect(try !reader.refresh())
        #expect(index.countsByKind[.payloadFrame] == 5)
        #expect(index.offsets(of: .end).count == 5)
        try writer.close()
    }

    @Test func aTailInProgressBecomesARecordOnceComplete() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("tail.ipctrace")
        let full = Samples.traceBytes(Samples.everyKind())
        let records = [TraceRecord.header(Samples.header())] + Samples.everyKind()
        let lastSize = try #require(records.last?.encoded()).count
        Files.write(Array(full.dropLast(lastSize / 2)), to: path)
        var reader = try TraceReader(path: path)
        var index = reader.buildIndex()
        #expect(index.count == records.count - 1)
        #expect(index.truncatedTailBytes == lastSize - lastSize / 2)

        // The writer finishes the record: append the rest to the same file.
        let fd = open(path, O_WRONLY | O_APPEND)
        let rest = Array(full.suffix(lastSize / 2))
        _ = rest.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        #expect(try reader.refresh())
        reader.updateIndex(&index)
        #expect(index.count == records.count)
        #expect(index.truncatedTailBytes == 0)
        #expect(index.corruptionCount == 0)
        #expect(reader.allRecords == records)
    }

    @Test func iteratorsKeepTheirMappingAcrossRefresh() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("keep.ipctrace")
        let writer = try TraceWriter(path: path, header: Samples.header())
        try writer.flush()
        var reader = try TraceReader(path: path)
        var iterator = reader.records().makeIterator()
        for record in Samples.everyKind() { writer.submit(record) }
        try writer.close()
        try reader.refresh()
        #expect(iterator.next()?.record == .header(Samples.header()))
        #expect(iterator.next() == nil)  // the old mapping ends after the header
        #expect(reader.allRecords.count == Samples.everyKind().count + 1)
    }
}
