@testable import IPCTransport
import IPCWire
import Testing

@Suite("Transport send queue chunking (§1.3)")
struct SendQueueTests {
    /// Peeks one chunk of at most `limit` bytes.
    func peek(_ queue: SendQueue, limit: Int = Limits.ioChunkSize) -> (SendChunk, [UInt8]) {
        var storage = [UInt8](repeating: 0, count: limit)
        let chunk = storage.withUnsafeMutableBytes { queue.peek(into: $0) }
        return (chunk, Array(storage[0..<chunk.byteCount]))
    }

    @Test func framesWhoseFDsWouldPassTheLimitWaitForTheNextSendmsg() {
        var queue = SendQueue()
        queue.enqueue(OutgoingFrame(type: .payload, payload: [1, 2], fds: Array(0..<100)))
        queue.enqueue(OutgoingFrame(type: .payload, payload: [3], fds: Array(100..<200)))
        let (first, firstBytes) = peek(queue)
        #expect(first.fds == Array(0..<100))
        #expect(first.byteCount == 14)  // stops before the second frame's bytes
        #expect(firstBytes == FrameHeader.payload(size: 2, fdCount: 100).bytes + [1, 2])
        _ = queue.consume(first.byteCount, of: first)
        let (second, _) = peek(queue)
        #expect(second.fds == Array(100..<200))
        #expect(second.byteCount == 13)
        let done = queue.consume(second.byteCount, of: second)
        #expect(done.payloadFrames == 1)
        #expect(queue.isEmpty)
    }

    @Test func fdsOfSeveralFramesShareASendmsgUpTo128() {
        var queue = SendQueue()
        queue.enqueue(OutgoingFrame(type: .payload, payload: [], fds: Array(0..<60)))
        queue.enqueue(OutgoingFrame(type: .payload, payload: [], fds: Array(60..<128)))
        queue.enqueue(OutgoingFrame(type: .payload, payload: [], fds: [500]))
        let (chunk, _) = peek(queue)
        #expect(chunk.fds == Array(0..<128))
        #expect(chunk.byteCount == 24)
        #expect(chunk.framesSpanned == 2)
    }

    @Test func largeFramesGoOutIn4096ByteChunksWithFDsOnTheFirst() {
        var queue = SendQueue()
        let payload = (0..<10_000).map { UInt8(truncatingIfNeeded: $0) }
        queue.enqueue(OutgoingFrame(type: .payload, payload: payload, fds: [7]))
        var wire: [UInt8] = []
        var fdsPerChunk: [[Int32]] = []
        while !queue.isEmpty {
            let (chunk, bytes) = peek(queue)
            #expect(chunk.byteCount <= 4096)
            wire += bytes
            fdsPerChunk.append(chunk.fds)
            _ = queue.consume(chunk.byteCount, of: chunk)
        }
        #expect(fdsPerChunk == [[7], [], []])
        #expect(wire == FrameEncoder.payloadFrame(payload, fdCount: 1))
    }

    @Test func partialWriteSendsTheRestWithoutFDs() {
        var queue = SendQueue()
        queue.enqueue(OutgoingFrame(type: .payload, payload: Array(repeating: 9, count: 50), fds: []))
        queue.enqueue(OutgoingFrame(type: .payload, payload: [1], fds: [42]))
        let (chunk, _) = peek(queue)
        #expect(chunk.fds == [42])
        // The kernel took 10 bytes: the fd went with them, before its frame's first byte.
        _ = queue.consume(10, of: chunk)
        let (rest, bytes) = peek(queue)
        #expect(rest.fds.isEmpty)
        #expect(rest.byteCount == 62 + 13 - 10)
        #expect(bytes.count == rest.byteCount)
    }

    @Test func acknowledgementFramesAreTwelveBytes() {
        var queue = SendQueue()
        queue.enqueue(.acknowledgement(count: 1))
        let (chunk, bytes) = peek(queue)
        #expect(bytes == [1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0])
        #expect(queue.consume(chunk.byteCount, of: chunk).acknowledgementFrames == 1)
    }
}

@Suite("Transport retained fds (§1.5)")
struct RetainedFDTests {
    @Test func acknowledgementsReleaseTheOldestSentFDs() {
        var retained = RetainedFDs()
        retained.retain([10, 11, 12])
        retained.markSent(2)
        guard case .release(let fds) = retained.acknowledge(2) else { Issue.record("expected a release"); return }
        #expect(fds == [10, 11])
        #expect(retained.count == 1)
        guard case .overAcknowledged(let outstanding) = retained.acknowledge(1) else {
            Issue.record("fd 12 was never sent, so acknowledging it is an over-ack")
            return
        }
        #expect(outstanding == 0)
    }
}
