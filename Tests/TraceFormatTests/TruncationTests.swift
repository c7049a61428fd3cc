import Testing
@testable import TraceFormat

@Suite struct TruncationTests {
    /// Cuts a small multi-record trace at every byte: complete records before the cut read back, the rest
    /// is a truncated tail, never corruption.
    @Test func cutAtEveryByteKeepsEveryCompleteRecord() throws {
        let records = [TraceRecord.header(Samples.header())] + Samples.everyKind()
        let bytes = Samples.traceBytes(Array(records.dropFirst()))
        var ends: [Int] = []  // end offset of each record
        var offset = TraceFileLayout.fileHeaderSize
        for record in records {
            offset += try #require(record.encoded()).count
            ends.append(offset)
        }
        #expect(offset == bytes.count)

        let directory = TemporaryDirectory()
        let path = directory.file("cut.ipctrace")
        for cut in 0...bytes.count {
            Files.write(Array(bytes[..<cut]), to: path)
            guard cut >= TraceFileLayout.fileHeaderSize else {
                #expect(throws: TraceFileError.truncatedFileHeader(path: path, size: cut)) { try TraceReader(path: path) }
                continue
            }
            let reader = try TraceReader(path: path)
            let complete = ends.filter { $0 <= cut }.count
            let report = reader.validate()
            #expect(report.corruptions.isEmpty, "cut at \(cut): \(report.corruptions)")
            #expect(report.recordCount == complete, "cut at \(cut)")
            #expect(reader.allRecords == Array(records.prefix(complete)), "cut at \(cut)")
            let tailStart = complete == 0 ? TraceFileLayout.fileHeaderSize : ends[complete - 1]
            if cut == tailStart {
                #expect(report.truncatedTail == nil, "cut at \(cut)")
            } else {
                #expect(report.truncatedTail == TruncatedTail(offset: tailStart, length: cut - tailStart), "cut at \(cut)")
            }
            #expect(report.header == (complete > 0 ? Samples.header() : nil))
            let index = reader.buildIndex()
            #expect(index.count == complete)
            #expect(index.truncatedTailBytes == cut - tailStart)
        }
    }
}

@Suite struct ZeroTailTests {
    @Test func zerosAfterTheLastRecordAreATailNotDamage() throws {
        let bytes = Samples.traceBytes(Samples.everyKind())
        let directory = TemporaryDirectory()
        Files.write(bytes + [UInt8](repeating: 0, count: 4096), to: directory.file("t"))
        let report = try TraceReader(path: directory.file("t")).validate()
        #expect(report.isIntact)
        #expect(report.truncatedTail == TruncatedTail(offset: bytes.count, length: 4096))
        #expect(report.recordCount == Samples.everyKind().count + 1)
    }
}
