import Glibc
import IPCTransport
import IPCWire
import Testing

/// One IPCTransport against a raw socket or a second IPCTransport in this process.
@Suite("Transport in process")
struct TransportInProcessTests {
    // docs/protocol.md §3.3 worked frames.
    let requestHeader = bytes("00 00 00 00 10 00 00 00 00 00 00 00")
    let requestPayload = bytes("44 95 c1 4b 0a 00 00 00 04 00 00 00 68 74 74 70")
    let fdFrameHeader = bytes("00 00 00 00 10 00 00 00 01 00 00 00")
    let fdFramePayload = bytes("a0 a8 90 59 01 00 00 00 07 00 00 00 00 00 00 00")
    let oneFDAcknowledgement = bytes("01 00 00 00 00 00 00 00 01 00 00 00")

    /// The pair's other end is owned by whoever holds the pair: dropped unhanded (an error path), it is
    /// closed, and the transport sees its peer close.
    @Test func aPairsPeerEndDroppedUnhandedIsClosed() throws {
        let transport: IPCTransport
        do {
            let pair = try IPCTransport.makePair()
            transport = pair.transport
        }
        #expect(transport.receive(timeout: testTimeout) == .eof(.peerClosed))
    }

    @Test func receivesTheGoldenRequestFrameWrittenRaw() throws {
        let (transport, raw) = try IPCTransport.makeRawPair()
        defer { Descriptor.close(raw) }
        try Descriptor.writeAll(raw, requestHeader + requestPayload)
        #expect(expectMessage(transport) == IncomingMessage(payload: requestPayload, fds: []))
        #expect(staysSilent(raw))  // no fds, so no ack
    }

    @Test func sendsGoldenBytesAndAcknowledgesOneFD() throws {
        let (transport, raw) = try IPCTransport.makeRawPair()
        let pipe = try TestPipe()
        defer { Descriptor.close(raw); pipe.close() }

        // What we send for request_started + 1 fd is the golden header and payload, fd in SCM_RIGHTS.
        try transport.send(payload: fdFramePayload, attachments: [pipe.duplicateWriteEnd()])
        let frame = try receiveExactly(raw, count: 28)
        #expect(Array(frame.bytes[0..<12]) == fdFrameHeader)
        #expect(Array(frame.bytes[12...]) == fdFramePayload)
        #expect(frame.fds.count == 1)
        #expect(try frame.fds.map { try Descriptor.info($0).inode } == [pipe.inode])
        Descriptor.closeAll(frame.fds)
        #expect(transport.statistics.retainedFDs == 1)

        // Our ack releases the retained fd.
        try Descriptor.writeAll(raw, oneFDAcknowledgement)
        #expect(waitUntil { transport.statistics.retainedFDs == 0 })
        #expect(transport.statistics.fdsAcknowledgedByPeer == 1)

        // A 1-fd frame from the peer is answered with exactly the golden ack.
        _ = try SocketMessaging.sendMessage(raw, bytes: fdFrameHeader + fdFramePayload, fds: [pipe.readEnd])
        let message = try #require(expectMessage(transport))
        #expect(message.payload == fdFramePayload)
        #expect(message.fds.count == 1)
        Descriptor.closeAll(message.fds)
        let ack = try receiveExactly(raw, count: 12)
        #expect(ack.bytes == oneFDAcknowledgement)
        #expect(ack.fds.isEmpty)
        #expect(waitUntil { pipe.openCount == 2 })
    }

    @Test func largePayloadsSurvive() throws {
        let (a, rawB) = try IPCTransport.makeRawPair()
        let b = try IPCTransport(adopting: rawB)
        let small = patternedPayload(count: 5000, seed: 1)
        let large = patternedPayload(count: 5 * 1024 * 1024, seed: 2)
        try a.send(payload: small)
        try a.send(payload: large)
        try b.send(payload: large)
        #expect(expectMessage(b)?.payload == small)
        #expect(expectMessage(b)?.payload == large)
        #expect(expectMessage(a)?.payload == large)
        #expect(a.statistics.payloadBytesSent == small.count + large.count)
        #expect(b.statistics.messagesReceived == 2)
    }

    @Test func twoHundredFDsInTwoMessagesMatchTheirFrames() throws {
        let (a, rawB) = try IPCTransport.makeRawPair()
        let b = try IPCTransport(adopting: rawB)
        let first = try TestPipe()
        let second = try TestPipe()
        defer { first.close(); second.close() }
        try a.send(payload: [1], attachments: (0..<128).map { _ in try first.duplicateWriteEnd() })
        try a.send(payload: [2], attachments: (0..<72).map { _ in try second.duplicateWriteEnd() })
        let one = try #require(expectMessage(b))
        let two = try #require(expectMessage(b))
        #expect(one.payload == [1] && one.fds.count == 128)
        #expect(two.payload == [2] && two.fds.count == 72)
        #expect(try one.fds.allSatisfy { try Descriptor.info($0).inode == first.inode })
        #expect(try two.fds.allSatisfy { try Descriptor.info($0).inode == second.inode })
        Descriptor.closeAll(one.fds + two.fds)
        #expect(waitUntil { a.statistics.retainedFDs == 0 })
        #expect(a.statistics.fdsAcknowledgedByPeer == 200)
        #expect(b.statistics.fdsReceived == 200)
    }

    @Test func closeIsSeenAsEOFAfterEveryMessage() throws {
        let (a, rawB) = try IPCTransport.makeRawPair()
        let b = try IPCTransport(adopting: rawB)
        for index in 0..<100 { try a.send(payload: [UInt8(index)]) }
        a.closeAfterSendingAllPendingMessages()
        for index in 0..<100 { #expect(expectMessage(b)?.payload == [UInt8(index)]) }
        #expect(b.receive(timeout: testTimeout) == .eof(.peerClosed))
        #expect(b.receive(timeout: .zero) == .eof(.peerClosed))  // EOF repeats
        #expect(a.receive(timeout: .zero) == .eof(.localClose))
        #expect(throws: TransportError.notOpen) { try a.send(payload: [1]) }
        #expect(throws: TransportError.disconnected(.peerClosed)) { try b.send(payload: [1]) }
    }

    @Test func receiveAllReturnsMessagesThenEOF() throws {
        let (a, rawB) = try IPCTransport.makeRawPair()
        let b = try IPCTransport(adopting: rawB)
        try a.send(payload: [1])
        try a.send(payload: [2])
        a.closeAfterSendingAllPendingMessages()
        // EOF is published together with the last messages, so once it is visible they are all queued.
        #expect(waitUntil { !b.isOpen })
        let batch = b.receiveAll()
        #expect(batch.messages.map(\.payload) == [[1], [2]])
        #expect(batch.eof == .peerClosed)
        #expect(!batch.released)
    }

    @Test func releaseForTransferPublishesNoEOFAndTheFDCarriesOn() throws {
        let (a, rawB) = try IPCTransport.makeRawPair()
        let b = try IPCTransport(adopting: rawB)
        try a.send(payload: Array("one".utf8))
        #expect(expectMessage(b)?.payload == Array("one".utf8))
        try b.send(payload: Array("queued before release".utf8))
        #expect(waitUntil { a.statistics.messagesReceived == 1 })

        let fd = try a.releaseForTransfer()
        #expect(Descriptor.isOpen(fd))
        #expect(a.receive(timeout: .zero) == .message(payload: Array("queued before release".utf8), fds: []))
        #expect(a.receive(timeout: .zero) == .released)
        #expect(throws: TransportError.notOpen) { try a.send(payload: [0]) }
        #expect(throws: TransportError.notOpen) { try a.releaseForTransfer() }
        #expect(b.receive(timeout: .milliseconds(100)) == .timedOut)  // the peer saw no EOF

        let a2 = try IPCTransport(adopting: fd)
        try a2.send(payload: Array("two".utf8))
        #expect(expectMessage(b)?.payload == Array("two".utf8))
        try b.send(payload: Array("three".utf8))
        #expect(expectMessage(a2)?.payload == Array("three".utf8))
    }

    /// docs/protocol.md §1.5 caveat: retained fds stay with the old object, so a late ack is an over-ack.
    @Test func lateAcknowledgementAfterHandOffIsAnOverAcknowledgement() throws {
        let (a, raw) = try IPCTransport.makeRawPair()
        let pipe = try TestPipe()
        defer { Descriptor.close(raw); pipe.close() }
        try a.send(payload: [1], attachments: [pipe.duplicateWriteEnd()])
        Descriptor.closeAll(try receiveExactly(raw, count: 13).fds)
        let fd = try a.releaseForTransfer()
        #expect(pipe.openCount == 2)  // the retained copy was dropped with the old transport
        let a2 = try IPCTransport(adopting: fd)
        try Descriptor.writeAll(raw, FrameEncoder.acknowledgementFrame(count: 1))
        let event = a2.receive(timeout: testTimeout)
        #expect(event == .eof(.peerOverAcknowledged(acknowledged: 1, outstanding: 0)))
    }

    @Test func sendRefusesWhatLadybirdWouldCrashOn() throws {
        let (a, raw) = try IPCTransport.makeRawPair()
        let pipe = try TestPipe()
        defer { Descriptor.close(raw); pipe.close() }
        let tooMany = try (0..<129).map { _ in try pipe.duplicateWriteEnd() }
        #expect(throws: TransportError.tooManyAttachments(count: 129, limit: 128)) {
            try a.send(payload: [], attachments: tooMany)
        }
        #expect(pipe.openCount == 2)  // the attachments were consumed (closed)
        let huge = [UInt8](repeating: 0, count: 64 * 1024 * 1024 + 1)
        #expect(throws: TransportError.payloadTooLarge(size: huge.count, limit: 64 * 1024 * 1024)) {
            try a.send(payload: huge)
        }
        #expect(a.receive(timeout: .milliseconds(20)) == .timedOut)
        a.close()
        #expect(a.receive(timeout: .zero) == .eof(.localClose))
        #expect(throws: TransportError.notOpen) { try a.send(payload: []) }
    }

    @Test func flushWaitsUntilEverythingIsHandedToTheKernel() throws {
        let (a, raw) = try IPCTransport.makeRawPair()
        defer { Descriptor.close(raw) }
        // 2 MiB do not fit the socket buffers, so the queue drains only as we read.
        let payload = patternedPayload(count: 2 * 1024 * 1024)
        try a.send(payload: payload)
        #expect(a.flush(timeout: .milliseconds(50)) == false)
        let frame = try receiveExactly(raw, count: 12 + payload.count)
        #expect(Array(frame.bytes[12...]) == payload)
        #expect(a.flush(timeout: testTimeout))
        #expect(a.statistics.messagesSent == 1)
    }
}
