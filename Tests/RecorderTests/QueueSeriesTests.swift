import CSystemShims
import Glibc
import IPCTransport
import IPCWire
@testable import Recorder
import Synchronization
import Testing
import TraceFormat

/// Queue depths are right at every instant (issue 10, finding 1): a direction is sampled on a timer too, so
/// a queue that fills while the relay waits for room, and drains while its direction is idle, shows both.
@Suite(.serialized) struct QueueSeriesTests {
    private static func samples(_ sink: CollectingSink, after index: Int = 0) -> [QueueDepths] {
        sink.snapshot.dropFirst(index).compactMap { if case .queueDepths(.aToB, let depths) = $0 { depths } else { nil } }
    }

    /// Bytes queued for reading on `fd` (FIONREAD): exact for AF_UNIX stream sockets.
    private static func unread(_ fd: Int32) -> Int { Int(ipcs_fionread(fd)) }

    /// The receiver stops reading while the sender writes; then it reads everything and the sender stays idle.
    /// The series rises to exactly what the proxy holds plus at least what waits in the receiver's socket, and
    /// a later sample — with no traffic left to trigger one on the relay thread — shows the queue empty.
    @Test func aBlockedReceiversSeriesRisesToTheBlockedAmountAndDrainsToZeroWhileIdle() throws {
        var proxyEndB: Int32 = -1
        var receiverBuffer: Int32 = 0
        let harness = try RelayHarness { _, endB in
            proxyEndB = endB
            receiverBuffer = try Self.shrinkSendBuffer(endB)
        }
        defer { harness.close() }
        // One frame, four times what the receiver's socket can be charged with, in one send of under 32 KiB:
        // the relay reads it whole, and blocks writing it (FrameDeliveryTests says why, in more words).
        let frame = FrameEncoder.payloadFrame([UInt8](repeating: 0x5A, count: 4 * Int(receiverBuffer)))
        let written = UInt64(frame.count)
        try send(harness.programA, frame)

        // The relay holds what it read and could not write. Only a wait for room publishes a held amount
        // between 0 and the whole chunk, and nothing moves while the receiver does not read.
        #expect(harness.sink.wait { sink in
            guard let last = Self.samples(sink).last else { return false }
            let inReceiverSocket = UInt64(Self.unread(harness.programB))
            return last.proxyBufferedBytes > 0 && last.proxyBufferedBytes < written
                && last.proxyBufferedBytes == written - inReceiverSocket
        }, "last sample \(String(describing: Self.samples(harness.sink).last)), in the receiver's socket \(Self.unread(harness.programB))")
        let blocked = try #require(Self.samples(harness.sink).last)
        // SIOCOUTQ counts kernel buffer memory, never less than the bytes it holds: held + unread accounts for
        // everything written and not read.
        #expect(blocked.unreadByReceiverEstimate >= UInt64(Self.unread(harness.programB)))
        #expect(blocked.proxyBufferedBytes + blocked.unreadByReceiverEstimate >= written)
        // No schemas here: pending sync requests are not measured; every other field is.
        #expect(blocked.notMeasured == [.pendingSyncRequests])

        // Drain all but the last byte, and wait until everything was written to the receiver's socket and the
        // last sample shows that state (what the kernel says for the proxy's socket now, nothing held): the
        // relay has nothing more to do for this direction.
        _ = try receive(harness.programB, count: frame.count - 1)
        #expect(harness.sink.wait { _ in Self.unread(harness.programB) == 1 })
        let lastByte = UInt64(ipcs_siocoutq(proxyEndB))
        #expect(lastByte > 0)
        #expect(harness.sink.wait { sink in
            Self.samples(sink).last.map { $0.proxyBufferedBytes == 0 && $0.unreadByReceiverEstimate == lastByte } ?? false
        }, "the last sample is not the receiver's unread byte: \(String(describing: Self.samples(harness.sink).last))")
        let drained = harness.sink.snapshot.count
        _ = try receive(harness.programB, count: 1)

        // The direction is idle now (the sender stays open and writes nothing): only a timer sees the drain.
        #expect(harness.sink.wait(timeout: .seconds(20)) { sink in
            Self.samples(sink, after: drained).contains { $0.proxyBufferedBytes == 0 && $0.unreadByReceiverEstimate == 0 }
        }, "no sample showed the drained queue: \(Self.samples(harness.sink, after: drained))")
        #expect(harness.sink.endOfStream(.aToB) == nil, "the sender is still open: no end of stream sampled it")
    }

    /// Sets the smallest send buffer the kernel allows on `fd` and returns it. An AF_UNIX stream socket's
    /// peer then holds less than one and a half times that (the kernel admits one more buffer while under).
    static func shrinkSendBuffer(_ fd: Int32) throws -> Int32 {
        var one: Int32 = 1
        var size: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &one, length) == 0,
              getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, &length) == 0 else {
            throw SystemError(errno: errno, operation: "SO_SNDBUF")
        }
        #expect(size > 0 && size < 8192)
        return size
    }

    /// On a channel that is not LibIPC nothing is parsed: its samples say so instead of showing zeros.
    @Test func aChannelThatIsNotLibIPCSaysWhatItDoesNotMeasure() throws {
        let a = try SocketPair.makeRaw()
        let b = try SocketPair.makeRaw()
        let sink = CollectingSink()
        var options = RelayedChannel.Options()
        options.classification = .byTraffic
        let channel = try RelayedChannel(id: 7, endA: OwnedFD(adopting: a.second), endB: OwnedFD(adopting: b.second), options: options, sink: sink)
        defer {
            Descriptor.close(a.first)
            Descriptor.close(b.first)
            channel.join()
        }
        try send(a.first, Array("GET / HTTP/1.1\r\n\r\n".utf8))
        _ = try receive(b.first, count: 18)
        #expect(sink.wait { Self.samples($0).contains { $0.notMeasured.contains(.receiverUnprocessedBytes) } })
        let sample = try #require(Self.samples(sink).last { $0.notMeasured.contains(.receiverUnprocessedBytes) })
        #expect(sample.notMeasured == [.unacknowledgedFDs, .pendingSyncRequests, .receiverUnprocessedBytes,
                                       .receiverUnmatchedFDs])
    }
}
