import Glibc
import IPCTransport
import IPCWire
@testable import Recorder
import Testing

/// A recording deepens a proxy end's send queue only once its direction carries large frames: streams of
/// small frames relay faster with the default queue, large payloads with a deep one (docs/benchmarks.md).
@Suite struct DeepSendQueueTests {
    private static func sendBuffer(_ fd: Int32) -> Int32 {
        var size: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        #expect(getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, &length) == 0)
        return size
    }

    @Test func onlyADirectionOfLargeFramesGetsTheDeepQueue() throws {
        var proxyEndA: Int32 = -1
        var proxyEndB: Int32 = -1
        let harness = try RelayHarness(sendBufferSize: RelayedChannel.deepSendQueue) { endA, endB in
            proxyEndA = endA
            proxyEndB = endB
        }
        defer { harness.close() }
        let initialA = Self.sendBuffer(proxyEndA)
        let initialB = Self.sendBuffer(proxyEndB)

        // Small frames A→B: every byte through, the queue toward B as it was.
        let small = FrameEncoder.payloadFrame([UInt8](repeating: 1, count: 64))
        for _ in 0..<200 { try send(harness.programA, small) }
        #expect(try receive(harness.programB, count: 200 * small.count).bytes.count == 200 * small.count)
        #expect(Self.sendBuffer(proxyEndB) == initialB)

        // Large frames A→B: the relay parses each read before forwarding it, so once B has them all the
        // queue toward B is deeper; the idle direction's is untouched.
        let large = FrameEncoder.payloadFrame([UInt8](repeating: 2, count: 96 * 1024))
        for _ in 0..<4 {
            try send(harness.programA, large)
            #expect(try receive(harness.programB, count: large.count).bytes == large)
        }
        #expect(Self.sendBuffer(proxyEndB) > initialB)
        #expect(Self.sendBuffer(proxyEndA) == initialA)
    }
}
