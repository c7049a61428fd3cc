import CSystemShims
import Glibc
import IPCTransport
import IPCWire
@testable import Recorder
import Synchronization
import TestSupport
import Testing

/// A random valid LibIPC stream and the way a sender cuts it into `sendmsg` calls: random boundaries, and
/// each frame's fds attached to a write that starts anywhere from the frame's first byte to its last.
struct ChunkedStream {
    struct Frame {
        var bytes: [UInt8]
        var start: Int
        var fdCount: Int
        var isAcknowledgement: Bool
    }

    struct Write {
        var range: Range<Int>
        /// Indexes (into `fdInodes`) of the fds this write carries.
        var fds: Range<Int>
    }

    var frames: [Frame] = []
    var bytes: [UInt8] = []
    var writes: [Write] = []
    /// Stream offset at which the sender attached each frame's fds, by frame index (frames without fds: nil).
    var attachOffsets: [Int?] = []

    init(random: inout SplitMix64, frameCount: Int) {
        for _ in 0..<frameCount {
            let isAck = random.next() % 8 == 0
            let fdCount = isAck ? 0 : [0, 0, 1, 1, 2, 3][Int(random.next() % 6)]
            let frameBytes: [UInt8]
            if isAck {
                frameBytes = FrameEncoder.acknowledgementFrame(count: 0)
            } else {
                let size = 8 + Int(random.next() % 300)
                frameBytes = FrameEncoder.payloadFrame(random.bytes(size), fdCount: fdCount)
            }
            frames.append(Frame(bytes: frameBytes, start: bytes.count, fdCount: fdCount, isAcknowledgement: isAck))
            bytes += frameBytes
        }
        // Where each frame's fds go: any byte of the frame.
        var cuts = Set<Int>()
        var attachAt: [Int: Int] = [:]  // offset → frame index
        for (index, frame) in frames.enumerated() {
            guard frame.fdCount > 0 else { attachOffsets.append(nil); continue }
            let offset = frame.start + Int(random.next() % UInt64(frame.bytes.count))
            attachOffsets.append(offset)
            attachAt[offset] = index
            cuts.insert(offset)
        }
        for _ in 0..<(bytes.count / 40) { cuts.insert(1 + Int(random.next() % UInt64(bytes.count - 1))) }
        cuts.insert(0)
        let boundaries = cuts.sorted() + [bytes.count]
        var nextFD = 0
        for (start, end) in zip(boundaries, boundaries.dropFirst()) where start < end {
            let count = attachAt[start].map { frames[$0].fdCount } ?? 0
            writes.append(Write(range: start..<end, fds: nextFD..<(nextFD + count)))
            nextFD += count
        }
    }

    var fdTotal: Int { writes.last?.fds.upperBound ?? 0 }
}

/// What a receiver saw when reading one byte at a time: each batch of fds with the stream offset of the
/// byte it came with (the first byte of the socket buffer the proxy attached it to).
struct ByteByByteReceipt {
    var bytes: [UInt8] = []
    var fdsAt: [(offset: Int, inodes: [UInt64])] = []
}

func receiveByteByByte(_ fd: Int32, count: Int) throws -> ByteByByteReceipt {
    var receipt = ByteByByteReceipt()
    var byte: UInt8 = 0
    while receipt.bytes.count < count {
        let chunk = try withUnsafeMutableBytes(of: &byte) { raw in
            try SocketMessaging.receiveMessage(fd, into: raw, flags: Int32(MSG_CMSG_CLOEXEC))
        }
        if chunk.byteCount == 0 && chunk.fds.isEmpty { break }
        if !chunk.fds.isEmpty {
            receipt.fdsAt.append((receipt.bytes.count, try chunk.fds.map { try Descriptor.info($0).inode }))
            Descriptor.closeAll(chunk.fds)
        }
        if chunk.byteCount == 1 { receipt.bytes.append(byte) }
    }
    return receipt
}

/// Waits until the relay has read everything written on `fd` (its send queue is empty), so the next write
/// tends to reach the relay as a chunk of its own. It only shapes the chunking, never the outcome: the
/// property tests hold for any chunking, so a relay that is slower than this bounded wait merely merges two
/// chunks (the kernel has no event for "the peer read it", hence the polling).
func waitUntilDrained(_ fd: Int32) {
    for _ in 0..<5_000 where ipcs_siocoutq(fd) > 0 { usleep(200) }
}

@Suite(.serialized) struct RelayPropertyTests {
    /// Any chunking of any valid stream, with each frame's fds on any write from the frame's first byte to its
    /// last, is relayed unchanged — bytes, fds in order, each fd no later than the sender put it and not
    /// before its frame — and every frame is recorded once with the right fds.
    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func anyChunkingAndFDPlacementIsRelayedAndRecordedExactly(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let stream = ChunkedStream(random: &random, frameCount: 60)
        var pipes: [(Int32, Int32)] = []
        for _ in 0..<stream.fdTotal { pipes.append(try Pipe.makeRaw()) }
        defer { for pipe in pipes { Descriptor.close(pipe.0); Descriptor.close(pipe.1) } }
        let inodes = try pipes.map { try Descriptor.info($0.0).inode }

        let harness = try RelayHarness()
        defer { harness.close() }
        let programA = harness.programA
        let drainEach = (0..<stream.writes.count).map { _ in random.next() % 2 == 0 }
        let sendFailure = Mutex<String?>(nil)
        let senderFDs = pipes.map(\.0)
        let sender = try OSThread(name: "test-sender") {
            for (write, drain) in zip(stream.writes, drainEach) {
                do {
                    try send(programA, Array(stream.bytes[write.range]), fds: write.fds.map { senderFDs[$0] })
                } catch {
                    sendFailure.withLock { $0 = "\(error)" }
                    return
                }
                if drain { waitUntilDrained(programA) }
            }
        }
        let receipt = try receiveByteByByte(harness.programB, count: stream.bytes.count)
        sender.join()
        #expect(sendFailure.withLock { $0 } == nil)

        // Bytes and fds unchanged.
        #expect(receipt.bytes.count == stream.bytes.count)
        #expect(receipt.bytes == stream.bytes, "seed \(seed)")
        #expect(receipt.fdsAt.flatMap(\.inodes) == inodes, "seed \(seed)")
        // Each frame's fds arrive between its first byte and the byte the sender attached them to.
        var fdIndex = 0
        var arrivalOffsetOfFD: [Int] = []
        for batch in receipt.fdsAt { arrivalOffsetOfFD += Array(repeating: batch.offset, count: batch.inodes.count) }
        for (index, frame) in stream.frames.enumerated() where frame.fdCount > 0 {
            let attach = try #require(stream.attachOffsets[index])
            for _ in 0..<frame.fdCount where fdIndex < arrivalOffsetOfFD.count {
                let arrived = arrivalOffsetOfFD[fdIndex]
                #expect((frame.start...attach).contains(arrived),
                        "seed \(seed): frame \(index) at \(frame.start), fds attached at \(attach), arrived at \(arrived); writes \(stream.writes.filter { abs($0.range.lowerBound - attach) < 400 }.map { "\($0.range) fds \($0.fds)" }), frames \(stream.frames[max(0, index - 3)...index].map { "\($0.start)+\($0.bytes.count) fds \($0.fdCount)" }), receipt \(receipt.fdsAt.map { "\($0.offset):\($0.inodes.count)" })")
                fdIndex += 1
            }
        }

        // Records: every payload frame once, in order, with its fds described; no violations.
        let payloadFrames = stream.frames.filter { !$0.isAcknowledgement }
        #expect(harness.sink.wait { $0.payloads.count == payloadFrames.count })
        let recorded = harness.sink.payloads
        #expect(recorded.map { Int($0.1.payloadSize) } == payloadFrames.map { $0.bytes.count - FrameHeader.size })
        #expect(recorded.flatMap { $0.3.map(\.inode) } == inodes, "seed \(seed)")
        #expect(recorded.allSatisfy { $0.3.allSatisfy { $0.kind == .pipe } })
        #expect(harness.sink.violations.isEmpty, "seed \(seed): \(harness.sink.violations)")
    }

    /// The case found in the wild: the first 6 header bytes in one write, the rest of the frame and its fd in
    /// the next, each reaching the relay on its own.
    @Test func aHeaderSplitBeforeItsFDsIsRelayed() throws {
        let harness = try RelayHarness()
        defer { harness.close() }
        let pipe = try Pipe.makeRaw()
        defer { Descriptor.close(pipe.readEnd); Descriptor.close(pipe.writeEnd) }
        let frame = FrameEncoder.payloadFrame([UInt8](repeating: 3, count: 100), fdCount: 1)
        try send(harness.programA, Array(frame[0..<6]))
        waitUntilDrained(harness.programA)
        try send(harness.programA, Array(frame[6...]), fds: [pipe.readEnd])
        let receipt = try receiveByteByByte(harness.programB, count: frame.count)
        #expect(receipt.bytes == frame)
        #expect(receipt.fdsAt.map(\.offset) == [6])
        #expect(receipt.fdsAt.flatMap(\.inodes) == [try Descriptor.info(pipe.readEnd).inode])
        #expect(harness.sink.wait { $0.payloads.count == 1 })
        #expect(harness.sink.payloads.first?.3.map(\.kind) == [.pipe])
    }
}
