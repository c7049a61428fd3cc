import Glibc
import IPCTransport
import Synchronization
@testable import IPCWire
@testable import Recorder
import Testing
import TraceFormat

/// Capture loss through a real relay: a writer whose queue budget is tiny and which writes only when made
/// to, so batches are cut and refused while the traffic flows unchanged. The trace must still say which
/// frames it lost: every frame index has a frame record or lies in a `records dropped` range, and every
/// payload cut to its envelope lies in a `writer behind` range.
@Suite(.serialized, .timeLimit(.minutes(5))) struct CaptureLossRelayTests {
    static let frameCount = 3000
    static let framesPerWrite = 10
    static let payload = [UInt8](repeating: 0xC3, count: 1000)

    @Test func everyFrameIsRecordedOrNamedByACaptureLossRecord() throws {
        let directory = makeScratchDirectory()
        let path = directory + "/loss.ipctrace"
        let writer = try TraceSinkTests.stalledWriter(path, budget: 64 * 1024)
        let sink = TraceSink(writer: writer, lossless: false)
        let a = try SocketPair.makeRaw()
        let b = try SocketPair.makeRaw()
        let channel = try RelayedChannel(id: 1, endA: OwnedFD(adopting: a.second), endB: OwnedFD(adopting: b.second), options: .init(captureLimit: 4096), sink: sink)
        let receiver = b.first
        let received = ReceivedBytes()
        let drainer = try OSThread(name: "drain") { received.count.store(Self.drain(receiver), ordering: .relaxed) }

        var write: [UInt8] = []
        for index in 0..<Self.frameCount {
            write += FrameEncoder.payloadFrame(Self.payload)
            if (index + 1) % Self.framesPerWrite == 0 {
                try Descriptor.writeAll(a.first, write)
                write.removeAll(keepingCapacity: true)
            }
        }
        try Descriptor.writeAll(a.first, write)
        shutdown(a.first, Int32(SHUT_WR))
        drainer.join()
        Descriptor.close(a.first)
        Descriptor.close(b.first)
        channel.join()
        // The relay delivered everything, whatever the trace lost.
        #expect(received.count.load(ordering: .relaxed) == Self.frameCount * (FrameHeader.size + Self.payload.count))
        #expect(writer.statistics.rejectedRecords > 0, "no batch was refused: the test proves nothing")
        try writer.flush()
        sink.flushLosses(time: TraceClock.monotonicNanoseconds())
        try writer.close()

        let records = try TraceReader(path: path).records().map(\.record)
        let frames = records.compactMap { if case .payloadFrame(let f) = $0, f.direction == .aToB { f } else { nil } }
        let losses = records.compactMap { if case .captureLoss(let l) = $0, l.direction == .aToB { l } else { nil } }
        let dropped = losses.filter { $0.reason == CaptureLossRecord.Reason.recordsDropped }
        let cut = losses.filter { $0.reason == CaptureLossRecord.Reason.writerBehind }
        #expect(!dropped.isEmpty)
        #expect(cut.count + dropped.count == losses.count, "\(losses.map(\.reason))")

        let recorded = Set(frames.map(\.frameIndex))
        #expect(recorded.count == frames.count, "one record per frame")
        let missing = (0..<UInt64(Self.frameCount)).filter { !recorded.contains($0) }
        #expect(!missing.isEmpty)
        for index in missing {
            #expect(dropped.contains { $0.frameRange?.contains(index) == true }, "frame \(index) lost unnamed")
        }
        // The counts agree with the ranges: exactly the missing frames were dropped, all payload frames.
        #expect(dropped.reduce(0) { $0 + $1.framesAffected } == UInt64(missing.count))
        #expect(dropped.allSatisfy { $0.payloadFrames == $0.framesAffected })
        #expect(dropped.reduce(0) { $0 + $1.bytesNotCaptured } == UInt64(missing.count * Self.payload.count))
        let degraded = frames.filter { $0.capturedPayload.count == MessageEnvelope.size }
        for frame in degraded {
            #expect(cut.contains { $0.frameRange?.contains(frame.frameIndex) == true }, "cut frame \(frame.frameIndex)")
        }
        #expect(cut.reduce(0) { $0 + $1.framesAffected } == UInt64(degraded.count))
        #expect(frames.allSatisfy { $0.capturedPayload == Self.payload || $0.capturedPayload == Array(Self.payload.prefix(8)) })
        // Every frame was delivered: the delivered ranges in the trace cover every frame index but where
        // frames-delivered records were dropped, and each gap is one such record or more, counted.
        let deliveries = records.compactMap { if case .framesDelivered(let d) = $0, d.direction == .aToB { d } else { nil } }
        var next: UInt64 = 0
        var gaps: UInt64 = 0
        for delivery in deliveries {
            #expect(delivery.firstFrameIndex >= next, "delivered ranges overlap or go back")
            if delivery.firstFrameIndex > next { gaps += 1 }
            next = delivery.lastFrameIndex + 1
        }
        if next < UInt64(Self.frameCount) { gaps += 1 }
        #expect(dropped.reduce(0) { $0 + $1.otherRecords.framesDelivered } >= gaps)
    }

    final class ReceivedBytes: Sendable {
        let count = Atomic<Int>(0)
    }

    /// Reads until EOF; returns the bytes read.
    static func drain(_ socket: Int32) -> Int {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var total = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                total += count
            } else if count == 0 || errno != EINTR {
                return total
            }
        }
    }
}
