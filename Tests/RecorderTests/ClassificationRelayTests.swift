import Glibc
import IPCTransport
import IPCWire
@testable import Recorder
import Synchronization
import Testing
import TraceFormat

/// `programA` ⇄ a real RelayedChannel ⇄ `programB`, classified by its traffic as preload channels are.
private struct ClassifyingHarness {
    let programA: Int32
    let programB: Int32
    let channel: RelayedChannel
    let sink = CollectingSink()
    private let closed = Closed()

    private final class Closed: Sendable {
        let traffic = Mutex<ChannelTraffic?>(nil)
    }

    init(_ mode: ClassificationMode = .byTraffic) throws {
        let a = try SocketPair.makeRaw()
        let b = try SocketPair.makeRaw()
        programA = a.first
        programB = b.first
        // The programs block on their reads and writes, as the tests expect.
        try Descriptor.setNonBlocking(programA, false)
        try Descriptor.setNonBlocking(programB, false)
        var options = RelayedChannel.Options()
        options.classification = mode
        let closed = closed
        channel = try RelayedChannel(id: 1, endA: OwnedFD(adopting: a.second), endB: OwnedFD(adopting: b.second), options: options, sink: sink,
                                     onClosed: { _, traffic in closed.traffic.withLock { $0 = traffic } })
    }

    var classifications: [ChannelClassification] { sink.classifications.withLock { $0 } }

    /// Both programs hang up; returns what the channel reported relaying when it closed.
    func finish() -> ChannelTraffic? {
        Descriptor.close(programA)
        Descriptor.close(programB)
        channel.join()
        return closed.traffic.withLock { $0 }
    }
}

/// Sends `bytes` from `from` and waits until all of them reached `to`, so that each call is one read of
/// the relay. Returns the fds that arrived (room for the kernel's maximum, 253).
private func deliver(_ bytes: [UInt8], fds: [Int32] = [], from: Int32, to: Int32) throws -> [Int32] {
    try send(from, bytes, fds: fds)
    var received: [UInt8] = []
    var arrived: [Int32] = []
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while received.count < bytes.count {
        let want = bytes.count - received.count
        let chunk = try buffer.withUnsafeMutableBytes { raw in
            try SocketMessaging.receiveMessage(to, into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<min(want, raw.count)]),
                                               maxFDs: 253, flags: Int32(MSG_CMSG_CLOEXEC))
        }
        if chunk.byteCount == 0 && chunk.fds.isEmpty { break }
        received += buffer[0..<chunk.byteCount]
        arrived += chunk.fds
    }
    #expect(received == bytes)
    return arrived
}

/// A pickled dict as Python's multiprocessing.Connection sends it: u32 big-endian length, then the pickle.
private let pickledMessage: [UInt8] = {
    let pickle: [UInt8] = [0x80, 0x05, 0x95, 0x0E, 0, 0, 0, 0, 0, 0, 0, 0x7D, 0x94, 0x8C, 0x01, 0x61, 0x94, 0x4B, 0x01, 0x73, 0x2E]
    return [0, 0, 0, UInt8(pickle.count)] + pickle
}()

@Suite(.serialized) struct ClassificationRelayTests {
    /// asyncio's self-pipe: one zero byte per wake-up. Parsed as LibIPC every 12 of them were a 0-byte
    /// "frame"; now the channel is not LibIPC, both directions are relayed unchanged and nothing is parsed.
    @Test func singleZeroBytesAreRelayedOneByOneAndNeverParsed() throws {
        let harness = try ClassifyingHarness()
        for _ in 0..<100 { _ = try deliver([0], from: harness.programA, to: harness.programB) }
        // Bytes the other way that would be a frame if the channel were parsed.
        let frameLike = FrameEncoder.payloadFrame(Array("12345678".utf8))
        _ = try deliver(frameLike, from: harness.programB, to: harness.programA)
        let traffic = try #require(harness.finish())

        #expect(harness.sink.payloads.isEmpty)
        #expect(harness.sink.violations.isEmpty)
        #expect(!harness.sink.snapshot.contains { if case .acknowledgement = $0 { true } else { false } })
        #expect(harness.classifications == [ChannelClassification(
            .notLibIPC, reason: "payload frame of 0 bytes, shorter than any LibIPC message (8)", decidedBy: .aToB,
            evidence: [0, 0, 0, 0, 0, 0, 0, 0])])
        #expect(traffic.aToB == DirectionTraffic(bytes: 100, reads: 100, fds: 0))
        #expect(traffic.bToA.bytes == UInt64(frameLike.count))
        // A not-LibIPC stream ends with no incomplete frame: it was never cut into frames.
        #expect(harness.sink.endOfStream(.aToB)?.incompleteFrameBytes == 0)
        #expect(harness.sink.endOfStream(.bToA)?.incompleteFrameBytes == 0)
    }

    /// multiprocessing.reduction.sendfds: one byte carrying the fds, then length-prefixed pickles. The fd
    /// arrives with the byte it came with; no frame, no violation.
    @Test func lengthPrefixedPicklesAndTheirFDsAreRelayedByteForByte() throws {
        let harness = try ClassifyingHarness()
        let pipe = try Pipe.makeRaw()
        defer { Descriptor.close(pipe.readEnd); Descriptor.close(pipe.writeEnd) }
        try send(harness.programA, [1], fds: [pipe.readEnd])
        try send(harness.programA, pickledMessage)
        try send(harness.programA, pickledMessage)
        let received = try receive(harness.programB, count: 1 + 2 * pickledMessage.count)
        #expect(received.bytes == [1] + pickledMessage + pickledMessage)
        #expect(received.fdsAt.map(\.0) == [0])
        let forwarded = received.fdsAt.flatMap(\.1)
        defer { Descriptor.closeAll(forwarded) }
        #expect(try forwarded.map { try Descriptor.info($0).inode } == [Descriptor.info(pipe.readEnd).inode])
        _ = try deliver(pickledMessage, from: harness.programB, to: harness.programA)
        let traffic = try #require(harness.finish())

        #expect(harness.sink.payloads.isEmpty)
        #expect(harness.sink.violations.isEmpty)
        #expect(harness.classifications.map(\.channelProtocol) == [.notLibIPC])
        // Byte 1 reads as an ack; the pickle's length byte and first bytes (15 80 05 95) as its payload size.
        #expect(harness.classifications.first?.reason == "fd acknowledgement with a 2500165653-byte payload")
        #expect(traffic.aToB.bytes == UInt64(1 + 2 * pickledMessage.count))
        #expect(traffic.aToB.fds == 1)
        #expect(traffic.bToA == DirectionTraffic(bytes: UInt64(pickledMessage.count), reads: 1, fds: 0))
    }

    /// Sent back to back, a pickle and the byte carrying an fd reach the relay's queue together, and one
    /// read would return both. The receiver reads each pickle with plain reads (which throw fds away) and
    /// the fd byte with recvmsg, as multiprocessing does: every fd must arrive with its own byte.
    @Test func anFDStaysWithTheByteItWasSentWithWhenSendsArriveTogether() throws {
        let harness = try ClassifyingHarness()
        let pipe = try Pipe.makeRaw()
        defer { Descriptor.close(pipe.readEnd); Descriptor.close(pipe.writeEnd) }
        let rounds = 200
        let programA = harness.programA
        let readEnd = pipe.readEnd
        let sender = try OSThread(name: "test-sender") {
            do {
                // Blocking sends, whole (the shared `send` helper does not wait for room).
                func blockingSend(_ bytes: [UInt8], fds: [Int32]) throws {
                    let sent = try bytes.withUnsafeBytes { raw in
                        try SocketMessaging.sendMessage(programA, bytes: raw, fds: fds, flags: Int32(MSG_NOSIGNAL))
                    }
                    guard sent == bytes.count else { throw SystemError(errno: EMSGSIZE, operation: "short send") }
                }
                for _ in 0..<rounds {
                    try blockingSend(pickledMessage, fds: [])
                    try blockingSend([1], fds: [readEnd])
                }
            } catch {
                Issue.record("sending failed: \(error)")
            }
            shutdown(programA, Int32(SHUT_WR))  // ends the reads below even if sending failed
        }
        defer { sender.join() }
        var scratch = [UInt8](repeating: 0, count: pickledMessage.count)
        for round in 0..<rounds {
            var got = 0
            while got < scratch.count {
                let count = scratch.withUnsafeMutableBytes { Glibc.read(harness.programB, $0.baseAddress! + got, $0.count - got) }
                try #require(count > 0, "round \(round): read failed")
                got += count
            }
            #expect(scratch == pickledMessage, "round \(round)")
            var byte: UInt8 = 0
            let chunk = try withUnsafeMutableBytes(of: &byte) { raw in
                try SocketMessaging.receiveMessage(harness.programB, into: raw, flags: Int32(MSG_CMSG_CLOEXEC))
            }
            Descriptor.closeAll(chunk.fds)
            try #require(chunk.byteCount == 1 && byte == 1, "round \(round)")
            try #require(chunk.fds.count == 1, "round \(round): the fd did not come with its byte")
        }
        sender.join()
        let traffic = try #require(harness.finish())
        #expect(traffic.aToB.fds == UInt64(rounds))
        #expect(harness.sink.payloads.isEmpty && harness.sink.violations.isEmpty)
    }

    /// Bytes parsed before the decision can already break a read limit (129 fds in one sendmsg). On a
    /// channel that turns out not to be LibIPC that violation is dropped…
    @Test func aViolationFoundBeforeTheDecisionIsDroppedWhenTheChannelIsNotLibIPC() throws {
        let harness = try ClassifyingHarness()
        let pipe = try Pipe.makeRaw()
        defer { Descriptor.close(pipe.readEnd); Descriptor.close(pipe.writeEnd) }
        let arrived = try deliver([1], fds: Array(repeating: pipe.readEnd, count: 129), from: harness.programA, to: harness.programB)
        Descriptor.closeAll(arrived)
        #expect(arrived.count == 129)
        _ = try deliver(pickledMessage, from: harness.programA, to: harness.programB)
        _ = harness.finish()
        #expect(harness.classifications.map(\.channelProtocol) == [.notLibIPC])
        #expect(harness.sink.violations.isEmpty, "\(harness.sink.violations)")
    }

    /// …and on a LibIPC channel it is recorded, before the violations of the header that decided.
    @Test func aViolationFoundBeforeTheDecisionIsRecordedWhenTheChannelIsLibIPC() throws {
        let harness = try ClassifyingHarness()
        let pipe = try Pipe.makeRaw()
        defer { Descriptor.close(pipe.readEnd); Descriptor.close(pipe.writeEnd) }
        let frame = FrameHeader(type: .payload, payloadSize: 8, fdCount: 129).bytes + [1, 0, 0, 0, 2, 0, 0, 0]
        let arrived = try deliver([frame[0]], fds: Array(repeating: pipe.readEnd, count: 129),
                                  from: harness.programA, to: harness.programB)
        Descriptor.closeAll(arrived)
        #expect(arrived.count == 129)
        _ = try deliver(Array(frame[1...]), from: harness.programA, to: harness.programB)
        _ = harness.finish()
        #expect(harness.classifications.map(\.channelProtocol) == [.libIPC])
        #expect(harness.sink.violations.filter { $0.severity == .violation }.map(\.kind) == [.tooManyFDsInOneSend, .tooManyFDsInFrame])
        #expect(harness.sink.payloads.map(\.1) == [FrameHeader(type: .payload, payloadSize: 8, fdCount: 129)])
        #expect(harness.sink.payloads.first?.3.count == 129)
    }

    /// A LibIPC stream whose first header arrives a byte at a time is parsed from its first byte.
    @Test func aLibIPCStreamWhoseFirstHeaderComesInPiecesIsParsedFromItsFirstByte() throws {
        let harness = try ClassifyingHarness()
        var encoder = IPCEncoder()
        encoder.envelope(magic: EndpointMagic.of("WebContentServer"), id: 3)
        encoder.string("hello")
        let stream = FrameEncoder.payloadFrame(encoder.bytes) + FrameEncoder.payloadFrame(encoder.bytes + [9])
        for index in 0..<11 { _ = try deliver([stream[index]], from: harness.programA, to: harness.programB) }
        _ = try deliver(Array(stream[11...]), from: harness.programA, to: harness.programB)
        let reply = FrameEncoder.payloadFrame(encoder.bytes)
        _ = try deliver(reply, from: harness.programB, to: harness.programA)
        _ = harness.finish()
        #expect(harness.classifications == [ChannelClassification(
            .libIPC, reason: "first frame header: payload of \(encoder.bytes.count) bytes, 0 fds", decidedBy: .aToB,
            evidence: Array(stream.prefix(12)))])
        #expect(harness.sink.payloads.map { $0.0 } == [.aToB, .aToB, .bToA])
        #expect(harness.sink.payloads.map { Int($0.1.payloadSize) } == [encoder.bytes.count, encoder.bytes.count + 1, encoder.bytes.count])
        #expect(harness.sink.payloads.first?.2 == encoder.bytes)
        #expect(harness.sink.violations.isEmpty)
    }

    /// Whichever direction shows a whole header first decides for both: after text from B, a frame from
    /// A (whose first bytes alone allowed LibIPC) is relayed but not parsed.
    @Test func theFirstDirectionToDecideDecidesForBoth() throws {
        let harness = try ClassifyingHarness()
        let frame = FrameEncoder.payloadFrame([1, 0, 0, 0, 2, 0, 0, 0])
        _ = try deliver(Array(frame.prefix(3)), from: harness.programA, to: harness.programB)
        _ = try deliver(Array("hello?\n".utf8), from: harness.programB, to: harness.programA)
        _ = try deliver(Array(frame.dropFirst(3)) + frame, from: harness.programA, to: harness.programB)
        _ = harness.finish()
        #expect(harness.classifications.map(\.channelProtocol) == [.notLibIPC])
        #expect(harness.classifications.first?.decidedBy == .bToA)
        #expect(harness.sink.payloads.isEmpty)
        #expect(harness.sink.violations.isEmpty)
    }

    @Test func aChannelThatEndsBeforeAWholeHeaderIsUndetermined() throws {
        let harness = try ClassifyingHarness()
        _ = try deliver([0, 0, 0], from: harness.programA, to: harness.programB)
        let traffic = try #require(harness.finish())
        #expect(harness.classifications == [ChannelClassification(
            .undetermined, reason: "ended after 3 bytes A→B and 0 bytes B→A, too few to tell")])
        #expect(traffic.aToB == DirectionTraffic(bytes: 3, reads: 1, fds: 0))
        #expect(harness.sink.payloads.isEmpty && harness.sink.violations.isEmpty)
    }

    /// A socket that travelled in a LibIPC frame is a LibIPC transport: a misbehaving first frame (the
    /// demo's `--misbehave` writes one) is a violation on a LibIPC channel, not a reason to stop parsing.
    @Test func aSocketCarriedInALibIPCFrameIsLibIPCWhateverItsFirstFrame() throws {
        let harness = try ClassifyingHarness()
        harness.channel.noteCarriedInLibIPCFrame()
        #expect(harness.channel.channelProtocol == .libIPC)
        _ = try deliver(FrameHeader(rawType: 7, payloadSize: 0, fdCount: 0).bytes, from: harness.programA, to: harness.programB)
        _ = harness.finish()
        #expect(harness.classifications == [ChannelClassification(.libIPC, reason: "its socket travelled in a LibIPC frame")])
        #expect(harness.sink.violations.map(\.kind) == [.unknownFrameType])
    }

    @Test func aChannelKnownToBeLibIPCIsClassifiedBeforeAnyTraffic() throws {
        let harness = try ClassifyingHarness(.known(reason: "a LibIPC helper's SOCKET_TAKEOVER socket"))
        #expect(harness.classifications == [ChannelClassification(.libIPC, reason: "a LibIPC helper's SOCKET_TAKEOVER socket")])
        _ = try deliver([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], from: harness.programA, to: harness.programB)
        _ = harness.finish()
        #expect(harness.sink.payloads.count == 1)
        #expect(harness.classifications.count == 1)
    }
}
