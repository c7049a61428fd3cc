import Dispatch
import IPCWire
import Testing
@testable import TraceFormat

@Suite struct TraceBatchTests {
    static func ack(_ channel: UInt32, _ index: UInt64) -> TraceRecord {
        .acknowledgement(AcknowledgementRecord(
            time: index, channel: channel, direction: .aToB, frameIndex: index, streamOffset: index * 12, count: 1))
    }

    @Test func aBatchLandsWholeInOrderAndUnbrokenByOtherThreads() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("batches.ipctrace")
        let writer = try TraceWriter(path: path, header: Samples.header())
        let batches = 2_000
        let perBatch = 37
        DispatchQueue.concurrentPerform(iterations: 2) { thread in
            let batch = writer.makeBatch()
            for number in 0..<batches {
                for item in 0..<perBatch { batch.append(Self.ack(UInt32(thread), UInt64(number * perBatch + item))) }
                #expect(batch.recordCount == perBatch)
                if !writer.submit(batch, waitForRoom: true) { Issue.record("batch \(number) of thread \(thread) refused") }
                #expect(batch.isEmpty)
            }
        }
        try writer.close()
        #expect(writer.statistics.acceptedRecords == UInt64(2 * batches * perBatch))

        let acks = try TraceReader(path: path).records().compactMap { (_, record) -> AcknowledgementRecord? in
            if case .acknowledgement(let ack) = record { ack } else { nil }
        }
        #expect(acks.count == 2 * batches * perBatch)
        // Runs of one thread's records come in whole batches, and each thread's records in its order.
        var next: [UInt64] = [0, 0]
        var index = 0
        while index < acks.count {
            let thread = Int(acks[index].channel)
            for offset in 0..<perBatch {
                let ack = acks[index + offset]
                guard ack.channel == UInt32(thread), ack.frameIndex == next[thread] else {
                    Issue.record("record \(index + offset) breaks a batch: \(ack)")
                    return
                }
                next[thread] += 1
            }
            index += perBatch
        }
    }

    @Test func aBatchOverTheBudgetIsRefusedWholeAndCounted() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("budget.ipctrace")
        // The writer waits 10 s before writing small batches: the queue only fills.
        let writer = try TraceWriter(path: path, header: Samples.header(), options: .init(
            queueBudgetBytes: 4096, flushThresholdBytes: 1 << 30, flushIntervalNanoseconds: 10_000_000_000))
        let size = try #require(Self.ack(1, 0).encoded()).count
        #expect(writer.submit(Self.ack(1, 0)))
        let batch = writer.makeBatch()
        for index in 1...(4096 / size) { batch.append(Self.ack(1, UInt64(index))) }
        let payload: [UInt8] = Array(repeating: 7, count: 100)
        payload.withUnsafeBytes { bytes in
            #expect(batch.appendPayloadFrame(
                time: 9, channel: 1, direction: .bToA, frameIndex: 0, streamOffset: 0,
                header: .payload(size: 5000, fdCount: 0), payload: bytes, fds: []))
        }
        #expect(batch.payloadBytes == 5000)
        let records = batch.recordCount
        #expect(!writer.submit(batch))
        #expect(batch.isEmpty && batch.payloadBytes == 0)
        #expect(writer.statistics.rejectedRecords == UInt64(records))
        #expect(writer.queuedBytes == size)
        try writer.close()
        #expect(try TraceReader(path: path).validate().count(of: .acknowledgement) == 1)
    }

    @Test func losslessBatchesWaitForRoomAndAllLand() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("lossless.ipctrace")
        let writer = try TraceWriter(path: path, header: Samples.header(), options: .init(queueBudgetBytes: 2048))
        let batch = writer.makeBatch()
        for number in 0..<2_000 {
            for item in 0..<10 { batch.append(Self.ack(1, UInt64(number * 10 + item))) }
            #expect(writer.submit(batch, waitForRoom: true))
            #expect(writer.queuedBytes <= 2048)
        }
        try writer.close()
        let indices = try TraceReader(path: path).allRecords.compactMap { (record: TraceRecord) -> UInt64? in
            if case .acknowledgement(let ack) = record { ack.frameIndex } else { nil }
        }
        #expect(indices == (0..<20_000).map(UInt64.init))
    }

    @Test func batchedRecordsReadBackAsTheRecordsGiven() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("kinds.ipctrace")
        let writer = try TraceWriter(path: path, header: Samples.header(snapLength: 10))
        let batch = writer.makeBatch()
        #expect(!batch.append(.header(Samples.header())), "a file has one header, written by init")
        for record in Samples.everyKind() { #expect(batch.append(record)) }
        let fds = [AttachedFD(kind: .socket, inode: 42, size: 0, interposed: true)]
        let payload: [UInt8] = Array(1...12)
        payload.withUnsafeBytes { bytes in
            #expect(batch.appendPayloadFrame(
                time: 1, channel: 3, direction: .bToA, frameIndex: 5, streamOffset: 60,
                header: .payload(size: 12, fdCount: 1), payload: bytes, fds: fds))
        }
        #expect(writer.submit(batch))
        try writer.close()
        // Captures are cut to the writer's snap length (10), the true length kept.
        let cut = Samples.everyKind().map { record -> TraceRecord in
            guard case .payloadFrame(var frame) = record else { return record }
            frame.capturedPayload = Array(frame.capturedPayload.prefix(10))
            return .payloadFrame(frame)
        }
        let expected = cut + [.payloadFrame(PayloadFrameRecord(
            time: 1, channel: 3, direction: .bToA, frameIndex: 5, streamOffset: 60,
            header: .payload(size: 12, fdCount: 1), capturedPayload: Array(1...10), fds: fds))]
        #expect(try TraceReader(path: path).allRecords.dropFirst().elementsEqual(expected))
        #expect(try TraceReader(path: path).validate().isIntact)
    }
}
