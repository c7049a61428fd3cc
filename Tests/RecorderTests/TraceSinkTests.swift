@testable import IPCWire
@testable import Recorder
import Testing
import TraceFormat

@Suite struct TraceSinkTests {
    /// A writer that writes nothing until flushed, so its queue only fills.
    static func stalledWriter(_ path: String, budget: Int) throws -> TraceWriter {
        let header = TraceHeader.startingNow(ipcscopeVersion: "test", commandLine: ["test"], snapLength: 4096)
        return try TraceWriter(path: path, header: header, options: .init(
            queueBudgetBytes: budget, flushThresholdBytes: 1 << 30, flushIntervalNanoseconds: 60_000_000_000))
    }

    /// Capture degrades before traffic does: past half the writer's budget a chunk's frames are recorded
    /// without payload, a chunk over the budget is refused whole, and both become capture-loss records
    /// once the writer has caught up. Every frame is either recorded or counted as lost.
    @Test func capturePassesThenDegradesThenLosesWholeChunksAndAccountsForEveryFrame() throws {
        let directory = makeScratchDirectory()
        let path = directory + "/sink.ipctrace"
        let writer = try Self.stalledWriter(path, budget: 64 * 1024)
        let sink = TraceSink(writer: writer, lossless: false)
        let recorder = sink.directionRecorder(channel: 1, direction: .aToB)
        let payload = [UInt8](repeating: 0x5A, count: 1000)
        let framesPerChunk = 10
        let chunks = 120
        payload.withUnsafeBytes { bytes in
            for chunk in 0..<chunks {
                for index in 0..<framesPerChunk {
                    let frameIndex = UInt64(chunk * framesPerChunk + index)
                    let frame = PayloadFrameEvent(
                        header: .payload(size: 1000, fdCount: 0), frameIndex: frameIndex,
                        streamOffset: frameIndex * 1004, capturedPayload: bytes, fdSequence: 0..<0, fdsArrived: true)
                    recorder.record(time: frameIndex, .payload(frame, fds: []))
                }
                recorder.flush()
            }
        }
        #expect(writer.statistics.rejectedRecords > 0, "the queue never filled: the test proves nothing")
        // The writer catches up; the next chunk's flush writes the losses counted so far.
        try writer.flush()
        recorder.record(time: 10_000, .queueDepths(QueueDepths()))
        recorder.flush()
        try writer.close()

        let records = try TraceReader(path: path).records().map(\.record)
        let frames = records.compactMap { if case .payloadFrame(let f) = $0 { f } else { nil } }
        let losses = records.compactMap { if case .captureLoss(let l) = $0 { l } else { nil } }
        let full = frames.filter { $0.capturedPayload == payload }
        // Degraded frames keep their envelope (the first 8 bytes), so they stay identifiable.
        let degraded = frames.filter { $0.capturedPayload == Array(payload.prefix(MessageEnvelope.size)) }
        #expect(full.count + degraded.count == frames.count)
        #expect(full.count >= 3 * framesPerChunk, "capture degraded before half the budget")
        #expect(!degraded.isEmpty)
        #expect(frames.allSatisfy { $0.header.payloadSize == 1000 }, "the true length is kept")
        // Frames come in whole chunks and in order.
        #expect(frames.count % framesPerChunk == 0)
        #expect(frames.map(\.frameIndex) == frames.map(\.frameIndex).sorted())
        let refused = chunks * framesPerChunk - frames.count
        #expect(refused > 0)
        let cut = losses.filter { $0.reason == CaptureLossRecord.Reason.writerBehind }
        let dropped = losses.filter { $0.reason == CaptureLossRecord.Reason.recordsDropped }
        #expect(cut.count + dropped.count == losses.count, "\(losses.map(\.reason))")
        #expect(cut.reduce(0) { $0 + $1.framesAffected } == UInt64(degraded.count))
        #expect(cut.reduce(0) { $0 + $1.bytesNotCaptured } == UInt64(degraded.count * (1000 - MessageEnvelope.size)))
        #expect(dropped.reduce(0) { $0 + $1.framesAffected } == UInt64(refused))
        #expect(dropped.reduce(0) { $0 + $1.bytesNotCaptured } == UInt64(refused * 1000))
        #expect(dropped.allSatisfy { $0.acknowledgementFrames == 0 && $0.payloadFrames == $0.framesAffected })
        // The ranges name the frames: each cut frame lies in a `writer behind` range, and every frame index
        // without a record lies in a `records dropped` range.
        let recorded = Set(frames.map(\.frameIndex))
        for frame in degraded {
            #expect(cut.contains { $0.frameRange?.contains(frame.frameIndex) == true }, "cut frame \(frame.frameIndex)")
        }
        for index in 0..<UInt64(chunks * framesPerChunk) where !recorded.contains(index) {
            #expect(dropped.contains { $0.frameRange?.contains(index) == true }, "dropped frame \(index)")
        }
        #expect(sink.statistics.framesWithCutPayload.load(ordering: .relaxed) == UInt64(degraded.count))
        #expect(sink.statistics.frameRecordsDropped.load(ordering: .relaxed) == UInt64(refused))
    }

    /// Lossless mode waits for room instead: every frame keeps its payload.
    @Test func losslessKeepsEveryPayload() throws {
        let directory = makeScratchDirectory()
        let path = directory + "/lossless.ipctrace"
        let header = TraceHeader.startingNow(ipcscopeVersion: "test", commandLine: ["test"], snapLength: 4096)
        let writer = try TraceWriter(path: path, header: header, options: .init(queueBudgetBytes: 16 * 1024))
        let sink = TraceSink(writer: writer, lossless: true)
        let recorder = sink.directionRecorder(channel: 1, direction: .bToA)
        let payload = [UInt8](repeating: 7, count: 1000)
        payload.withUnsafeBytes { bytes in
            for index in 0..<500 {
                let frame = PayloadFrameEvent(
                    header: .payload(size: 1000, fdCount: 0), frameIndex: UInt64(index),
                    streamOffset: UInt64(index) * 1004, capturedPayload: bytes, fdSequence: 0..<0, fdsArrived: true)
                recorder.record(time: UInt64(index), .payload(frame, fds: []))
                if index % 7 == 6 { recorder.flush() }
            }
        }
        recorder.flush()
        try writer.close()
        let frames = try TraceReader(path: path).records().compactMap { (_, record) -> PayloadFrameRecord? in
            if case .payloadFrame(let f) = record { f } else { nil }
        }
        #expect(frames.count == 500)
        #expect(frames.allSatisfy { $0.capturedPayload == payload })
        #expect(writer.statistics.rejectedRecords == 0)
    }
}
