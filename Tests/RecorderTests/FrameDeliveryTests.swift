import CSystemShims
import Glibc
import IPCTransport
import IPCWire
@testable import Recorder
import Synchronization
import TestSupport
import Testing
import TraceFormat

/// Two times per frame (issue 10, finding 3): when the recorder had the whole frame (its record's time) and
/// when its last byte was written to the receiver's socket (a frames-delivered event after it).
@Suite(.serialized) struct FrameDeliveryTests {
    private static func deliveries(_ sink: CollectingSink, _ direction: Direction) -> [(frames: FramesDelivered, time: UInt64)] {
        sink.deliveries.withLock { $0.filter { $0.direction == direction }.map { ($0.frames, $0.time) } }
    }

    private static func hadTimes(_ sink: CollectingSink, _ direction: Direction) -> [UInt64: UInt64] {
        sink.frameTimes.withLock { times in
            Dictionary(times.filter { $0.direction == direction }.map { ($0.index, $0.time) }, uniquingKeysWith: { a, _ in a })
        }
    }

    /// Every frame of both directions — small ones many to a read, large ones over many writes, an
    /// acknowledgement — is delivered once, in order, never before the recorder had it.
    @Test func everyFrameIsDeliveredOnceInOrderAfterItWasHad() throws {
        let harness = try RelayHarness()
        defer { harness.close() }
        var random = SplitMix64(seed: 10)
        let sizes = (0..<200).map { index in index == 100 ? 3 << 20 : Int(random.next() % 5000) }
        let stream = sizes.flatMap { FrameEncoder.payloadFrame([UInt8](repeating: 1, count: $0)) }
        let programA = harness.programA
        try Descriptor.setNonBlocking(programA, false)
        let sender = try OSThread(name: "test-sender") {
            do { try Descriptor.writeAll(programA, stream) } catch { Issue.record("sending failed: \(error)") }
        }
        _ = try receive(harness.programB, count: stream.count, maxPerRead: 50_000)
        sender.join()
        let reply = FrameEncoder.payloadFrame([2, 3]) + FrameEncoder.acknowledgementFrame(count: 0)
            + FrameEncoder.payloadFrame([4])
        try send(harness.programB, reply)
        _ = try receive(harness.programA, count: reply.count)

        let expected: [Direction: UInt64] = [.aToB: UInt64(sizes.count), .bToA: 3]
        for (direction, count) in expected {
            #expect(harness.sink.wait { Self.deliveries($0, direction).last?.frames.last == count - 1 },
                    "\(direction): \(Self.deliveries(harness.sink, direction).map(\.frames))")
            let had = Self.hadTimes(harness.sink, direction)
            #expect(had.count == Int(count))
            var next: UInt64 = 0
            var previousTime: UInt64 = 0
            for (frames, time) in Self.deliveries(harness.sink, direction) {
                #expect(frames.first == next, "ranges follow each other without gaps or overlaps")
                #expect(frames.last >= frames.first)
                #expect(time >= previousTime, "delivery times never go back")
                for index in frames.first...frames.last {
                    let hadTime = try #require(had[index])
                    #expect(time >= hadTime, "frame \(index) delivered at \(time) before it was had at \(hadTime)")
                }
                next = frames.last + 1
                previousTime = time
            }
            #expect(next == count)
        }
    }

    /// A frame the receiver's socket cannot hold waits in the proxy until the receiver reads: its delivery
    /// comes after the instant the test saw its record and only then began to read.
    @Test func aFrameHeldBehindAFullReceiverIsDeliveredOnlyAfterTheReceiverReads() throws {
        var receiverBuffer: Int32 = 0
        // The receiver's socket holds less than one and a half times this (QueueSeriesTests.shrinkSendBuffer).
        let harness = try RelayHarness { _, endB in receiverBuffer = try QueueSeriesTests.shrinkSendBuffer(endB) }
        defer { harness.close() }
        // Four times what the receiver's socket can be charged with: it cannot all be written before a read.
        // Small enough (one send of under 32 KiB) to reach the relay in one read, so its record comes first.
        let frame = FrameEncoder.payloadFrame([UInt8](repeating: 0x33, count: 4 * Int(receiverBuffer)))
        try send(harness.programA, frame)

        #expect(harness.sink.wait { Self.hadTimes($0, .aToB)[0] != nil }, "the relay did not record the frame")
        let recordSeen = TraceClock.monotonicNanoseconds()
        let had = try #require(Self.hadTimes(harness.sink, .aToB)[0])
        #expect(Self.deliveries(harness.sink, .aToB).isEmpty, "delivered before any read")
        _ = try receive(harness.programB, count: frame.count)

        #expect(harness.sink.wait { !Self.deliveries($0, .aToB).isEmpty })
        let delivery = try #require(Self.deliveries(harness.sink, .aToB).first)
        #expect(delivery.frames == FramesDelivered(first: 0, last: 0))
        #expect(delivery.time > recordSeen, "delivered at \(delivery.time), record seen at \(recordSeen)")
        #expect(delivery.time > had)
    }

    /// A chunk whose writes stop at a full receiver delivers the frames already written at once, not when the
    /// whole chunk is: a small frame ahead of a large one is delivered while the large one still waits.
    @Test func framesWrittenBeforeAWaitForRoomAreDeliveredBeforeTheRestOfTheirChunk() throws {
        var receiverBuffer: Int32 = 0
        let harness = try RelayHarness { _, endB in receiverBuffer = try QueueSeriesTests.shrinkSendBuffer(endB) }
        defer { harness.close() }
        // One send (one read for the relay): a 100-byte frame, then one four times what the receiver's socket
        // can be charged with. The relay's first write takes at least the small frame (the kernel queues a
        // first buffer of half the send buffer whatever the socket holds), and can never take the large one.
        let small = FrameEncoder.payloadFrame([UInt8](repeating: 1, count: 100))
        let large = FrameEncoder.payloadFrame([UInt8](repeating: 2, count: 4 * Int(receiverBuffer)))
        try send(harness.programA, small + large)

        #expect(harness.sink.wait { !Self.deliveries($0, .aToB).isEmpty }, "the small frame was not delivered")
        #expect(Self.deliveries(harness.sink, .aToB).map(\.frames) == [FramesDelivered(first: 0, last: 0)])
        let readStarts = TraceClock.monotonicNanoseconds()
        _ = try receive(harness.programB, count: small.count + large.count)
        #expect(harness.sink.wait { Self.deliveries($0, .aToB).count == 2 })
        let deliveries = Self.deliveries(harness.sink, .aToB)
        #expect(deliveries.map(\.frames) == [FramesDelivered(first: 0, last: 0), FramesDelivered(first: 1, last: 1)])
        #expect(deliveries[0].time < readStarts && deliveries[1].time > readStarts)
    }

    /// A frame the receiver closed before it could get has a record (the relay had it) and no delivery.
    @Test func aFrameTheReceiverNeverGotIsNeverDelivered() throws {
        var receiverBuffer: Int32 = 0
        let harness = try RelayHarness { _, endB in receiverBuffer = try QueueSeriesTests.shrinkSendBuffer(endB) }
        defer { harness.close() }
        let small = FrameEncoder.payloadFrame([UInt8](repeating: 1, count: 100))
        let large = FrameEncoder.payloadFrame([UInt8](repeating: 2, count: 4 * Int(receiverBuffer)))
        try send(harness.programA, small + large)
        #expect(harness.sink.wait { !Self.deliveries($0, .aToB).isEmpty && Self.hadTimes($0, .aToB).count == 2 })

        // As the receiver's close would (the harness closes it later): the large frame can never be written.
        #expect(shutdown(harness.programB, Int32(SHUT_RDWR)) == 0)
        #expect(harness.sink.wait { $0.endOfStream(.aToB) != nil })
        #expect(Self.deliveries(harness.sink, .aToB).map(\.frames) == [FramesDelivered(first: 0, last: 0)])
        #expect(Self.hadTimes(harness.sink, .aToB).keys.sorted() == [0, 1])
    }
}
