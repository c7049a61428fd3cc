import Dispatch
import Glibc
import IPCWire
import Synchronization
import Testing
@testable import TraceFormat

@Suite struct TraceWriterTests {
    @Test func createsTheFileWithMode0600() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("new.ipctrace")
        let old = umask(0)
        defer { umask(old) }
        try TraceWriter(path: path, header: Samples.header()).close()
        #expect(Files.mode(path) == 0o600)
    }

    @Test func replacesAnExistingTraceWithANew0600File() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("existing.ipctrace")
        try Samples.writeTrace(Samples.everyKind() + Samples.everyKind(), to: path)
        chmod(path, 0o644)
        #expect(Files.mode(path) == 0o644)
        try Samples.writeTrace(Samples.everyKind(), to: path)
        #expect(Files.mode(path) == 0o600)
        // Replaced, not appended to.
        let report = try TraceReader(path: path).validate()
        #expect(report.isIntact)
        #expect(report.recordCount == Samples.everyKind().count + 1)
    }

    @Test func refusesADirectoryWithAClearMessage() throws {
        let directory = TemporaryDirectory()
        do {
            _ = try TraceWriter(path: directory.path, header: Samples.header())
            Issue.record("opened a directory for writing")
        } catch {
            #expect(error.description.contains(directory.path))
            #expect(error.description.contains("Is a directory"))
        }
        let nowhere = directory.file("no/such/dir/t.ipctrace")
        do {
            _ = try TraceWriter(path: nowhere, header: Samples.header())
            Issue.record("created a file in a missing directory")
        } catch {
            guard case .system(nowhere, _, ENOENT) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
        }
    }

    @Test func twoThreadsSubmittingKeepEachThreadsOrder() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("load.ipctrace")
        let writer = try TraceWriter(path: path, header: Samples.header())
        let perThread = 100_000
        DispatchQueue.concurrentPerform(iterations: 2) { thread in
            for sequence in 0..<perThread {
                let accepted = writer.submit(.acknowledgement(AcknowledgementRecord(
                    time: TraceClock.monotonicNanoseconds(), channel: UInt32(thread), direction: .aToB,
                    frameIndex: UInt64(sequence), streamOffset: UInt64(sequence) * 12, count: 1)), waitForRoom: true)
                if !accepted { Issue.record("record \(sequence) of thread \(thread) refused") }
            }
        }
        try writer.close()
        #expect(writer.statistics.acceptedRecords == UInt64(2 * perThread))

        var next = [UInt64](repeating: 0, count: 2)
        var count = 0
        for (_, record) in try TraceReader(path: path).records() {
            guard case .acknowledgement(let ack) = record else { continue }
            count += 1
            let thread = Int(ack.channel)
            if ack.frameIndex != next[thread] {
                Issue.record("thread \(thread): record \(ack.frameIndex) where \(next[thread]) was expected")
                return
            }
            next[thread] += 1
        }
        #expect(count == 2 * perThread)
        #expect(next == [UInt64(perThread), UInt64(perThread)])
    }

    @Test func refusesRecordsOverTheQueueBudget() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("budget.ipctrace")
        // The writer thread waits 10 s before writing small batches: the queue only fills.
        let writer = try TraceWriter(path: path, header: Samples.header(), options: .init(
            queueBudgetBytes: 4096, flushThresholdBytes: 1 << 30, flushIntervalNanoseconds: 10_000_000_000))
        let record = TraceRecord.acknowledgement(AcknowledgementRecord(
            time: 1, channel: 1, direction: .aToB, frameIndex: 0, streamOffset: 0, count: 1))
        var accepted = 0
        while writer.submit(record) { accepted += 1 }
        let size = try #require(record.encoded()).count
        #expect(accepted == 4096 / size)
        #expect(writer.queuedBytes == accepted * size)
        #expect(writer.statistics.rejectedRecords == 1)
        try writer.flush()
        #expect(writer.queuedBytes == 0)
        #expect(writer.submit(record))
        try writer.close()
        #expect(try TraceReader(path: path).validate().count(of: .acknowledgement) == accepted + 1)
    }

    @Test func aSingleRecordLargerThanTheBudgetStillFitsAnEmptyQueue() throws {
        let directory = TemporaryDirectory()
        let writer = try TraceWriter(path: directory.file("t"), header: Samples.header(snapLength: 100_000),
                                     options: .init(queueBudgetBytes: 1000))
        let big = TraceRecord.payloadFrame(PayloadFrameRecord(
            time: 1, channel: 1, direction: .aToB, frameIndex: 0, streamOffset: 0,
            header: .payload(size: 50_000, fdCount: 0), capturedPayload: Array(repeating: 1, count: 50_000)))
        #expect(writer.submit(big, waitForRoom: true))
        #expect(writer.submit(big, waitForRoom: true))
        try writer.close()
        #expect(try TraceReader(path: directory.file("t")).validate().frameCount == 2)
    }

    @Test func losslessSubmittersWaitForRoomInsteadOfDropping() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("lossless.ipctrace")
        let writer = try TraceWriter(path: path, header: Samples.header(), options: .init(queueBudgetBytes: 2048))
        for index in 0..<20_000 {
            let accepted = writer.submit(.channelClosed(ChannelClosedRecord(time: UInt64(index), channel: 1)), waitForRoom: true)
            #expect(accepted)
            #expect(writer.queuedBytes <= 2048)
        }
        try writer.close()
        let times = try TraceReader(path: path).allRecords.dropFirst().map(\.time)
        #expect(times == (0..<20_000).map(UInt64.init))
    }

    @Test func closeWritesEverythingAndLaterSubmitsAreRefused() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("close.ipctrace")
        let writer = try TraceWriter(path: path, header: Samples.header(), options: .init(flushIntervalNanoseconds: 60_000_000_000))
        for record in Samples.everyKind() { #expect(writer.submit(record)) }
        try writer.close()
        try writer.close()
        #expect(!writer.submit(Samples.everyKind()[0]))
        try writer.flush()
        #expect(try TraceReader(path: path).allRecords == [.header(Samples.header())] + Samples.everyKind())
    }

    @Test func recordsReachTheFileWithinTheFlushIntervalWithoutAFlush() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("interval.ipctrace")
        let writer = try TraceWriter(path: path, header: Samples.header())
        #expect(writer.submit(Samples.everyKind()[0]))
        var reader = try TraceReader(path: path)
        let deadline = TraceClock.monotonicNanoseconds() + 5_000_000_000
        while reader.allRecords.count < 2 && TraceClock.monotonicNanoseconds() < deadline {
            usleep(5_000)
            try reader.refresh()
        }
        #expect(reader.allRecords.count == 2)
        try writer.close()
    }

    @Test func deinitWithoutCloseStillWritesEverything() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("deinit.ipctrace")
        do {
            let writer = try TraceWriter(path: path, header: Samples.header(), options: .init(flushIntervalNanoseconds: 60_000_000_000))
            for record in Samples.everyKind() { writer.submit(record) }
        }
        #expect(try TraceReader(path: path).allRecords.count == Samples.everyKind().count + 1)
    }

    @Test func oversizedHeaderIsRefused() {
        let directory = TemporaryDirectory()
        var header = Samples.header()
        header.schemas = [.init(path: "huge.ipc", text: String(repeating: "a", count: TraceFileLayout.maxBodyLength))]
        #expect(throws: TraceFileError.self) { try TraceWriter(path: directory.file("t"), header: header) }
    }
}
