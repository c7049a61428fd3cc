import Glibc
import IPCWire
import Testing
@testable import TraceFormat

/// Someone truncating or rewriting a trace while it is mapped (re-running `record -o` on the same path,
/// say) must not kill the reader with SIGBUS: the lost pages read as zeros and the reader says so.
@Suite(.serialized) struct ShrinkingFileTests {
    static func writeLongTrace(_ path: String) throws -> Int {
        let writer = try TraceWriter(path: path, header: Samples.header())
        for index in 0..<30_000 {
            writer.submit(.acknowledgement(AcknowledgementRecord(
                time: UInt64(index), channel: 1, direction: .aToB, frameIndex: UInt64(index),
                streamOffset: UInt64(index) * 12, count: 1)), waitForRoom: true)
        }
        try writer.close()
        return 30_000
    }

    @Test func aFileTruncatedWhileMappedReadsAsZerosAndIsReported() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("shrinking.ipctrace")
        let written = try Self.writeLongTrace(path)
        var reader = try TraceReader(path: path)
        let mapped = reader.size
        #expect(!reader.shrankWhileReading)
        #expect(truncate(path, off_t(mapped / 3)) == 0)

        let report = reader.validate()
        #expect(report.shrankWhileReading)
        #expect(!report.isIntact)
        #expect(report.count(of: .acknowledgement) > 0)
        #expect(report.count(of: .acknowledgement) < written)
        #expect(reader.shrankWhileReading)

        var iterated = 0
        for _ in reader.records() { iterated += 1 }
        #expect(iterated > 0 && iterated < written + 1)
        do {
            try reader.refresh()
            Issue.record("refresh accepted a file that shrank")
        } catch {
            #expect(error == .fileShrank(path: path, from: mapped, to: mapped / 3))
        }
    }

    @Test func aFileRewrittenWhileMappedIsReportedToo() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("rewritten.ipctrace")
        _ = try Self.writeLongTrace(path)
        let reader = try TraceReader(path: path)
        // Another tool rewriting the file in place: truncate, then write a new, shorter trace.
        Files.write(Samples.traceBytes(Samples.everyKind()), to: path)
        let report = reader.validate()
        #expect(report.shrankWhileReading)
        #expect(!report.isIntact)
        // A fresh reader sees the new file, intact.
        #expect(try TraceReader(path: path).validate().isIntact)
    }

    @Test func aReaderOfAnUnchangedFileReportsNoShrink() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("steady.ipctrace")
        let written = try Self.writeLongTrace(path)
        let reader = try TraceReader(path: path)
        let report = reader.validate()
        #expect(!report.shrankWhileReading)
        #expect(report.isIntact)
        #expect(report.count(of: .acknowledgement) == written)
    }
}

extension ShrinkingFileTests {
    /// Recording again to the same path replaces the file rather than truncating it, so a reader of the
    /// earlier trace (a viewer still open on it) keeps reading it whole.
    @Test func recordingAgainToTheSamePathLeavesAReaderOfTheOldTraceAlone() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("again.ipctrace")
        let written = try Self.writeLongTrace(path)
        let old = try TraceReader(path: path)
        var before = stat()
        #expect(stat(path, &before) == 0)

        try Samples.writeTrace(Samples.everyKind(), to: path)
        var after = stat()
        #expect(stat(path, &after) == 0)
        #expect(after.st_ino != before.st_ino, "the file was truncated in place, not replaced")
        #expect(after.st_mode & 0o777 == 0o600)

        let report = old.validate()
        #expect(!report.shrankWhileReading)
        #expect(report.isIntact)
        #expect(report.count(of: .acknowledgement) == written)
        #expect(try TraceReader(path: path).allRecords == [.header(Samples.header())] + Samples.everyKind())
    }
}
