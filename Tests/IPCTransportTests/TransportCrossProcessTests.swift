import Glibc
import IPCTransport
import IPCWire
import Testing

/// IPCTransport against IPCTestPeer, spawned the way Ladybird spawns helpers (SOCKET_TAKEOVER).
@Suite("Transport across processes")
struct TransportCrossProcessTests {
    @Test func framesAndFDsAreEchoedByAnotherProcess() throws {
        let (transport, process) = try TestPeer.spawn(["echo"])
        defer { TestPeer.finish(transport, process) }
        let pipe = try TestPipe()
        defer { pipe.close() }
        for index in 0..<10 {
            let fds = try (0..<(index % 4)).map { _ in try pipe.duplicateWriteEnd() }
            try transport.send(payload: patternedPayload(count: 100 * index, seed: UInt8(index)), attachments: fds)
        }
        for index in 0..<10 {
            let message = try #require(expectMessage(transport))
            #expect(message.payload == patternedPayload(count: 100 * index, seed: UInt8(index)))
            #expect(message.fds.count == index % 4)
            #expect(try message.fds.allSatisfy { try Descriptor.info($0).inode == pipe.inode })
            Descriptor.closeAll(message.fds)
        }
    }

    @Test func aPassedPipeFDWritesIntoTheSamePipe() throws {
        let (transport, process) = try TestPeer.spawn(["pipe-writer"])
        defer { TestPeer.finish(transport, process) }
        let pipe = try TestPipe()
        defer { pipe.close() }
        try transport.send(payload: Array("written by the peer".utf8), attachments: [pipe.duplicateWriteEnd()])
        #expect(expectMessage(transport)?.payload == Array("wrote 1".utf8))
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = read(pipe.readEnd, &buffer, buffer.count)
        #expect(count == 19)
        #expect(text(Array(buffer[0..<max(count, 0)])) == "written by the peer")
    }

    @Test func acknowledgementsBringRetainedFDsBackToZero() throws {
        let (transport, process) = try TestPeer.spawn(["fd-sink", "5"])
        defer { TestPeer.finish(transport, process) }
        let pipe = try TestPipe()
        defer { pipe.close() }
        for _ in 0..<5 { try transport.send(payload: [0], attachments: (0..<20).map { _ in try pipe.duplicateWriteEnd() }) }
        #expect(expectMessage(transport)?.payload == Array("messages=5 fds=100".utf8))
        #expect(waitUntil { transport.statistics.retainedFDs == 0 })
        let stats = transport.statistics
        #expect(stats.fdsSent == 100)
        #expect(stats.fdsAcknowledgedByPeer == 100)
        #expect(stats.acknowledgementsReceived >= 1)
        #expect(pipe.openCount == 2)
    }

    @Test func tenThousandFDsRoundTripWithoutLeaking() throws {
        let pipe = try TestPipe()
        defer { pipe.close() }
        let before = pipe.openCount
        do {
            let (transport, process) = try TestPeer.spawn(["echo"])
            defer { TestPeer.finish(transport, process) }
            var received = 0
            for round in 0..<100 {
                try transport.send(payload: [UInt8(truncatingIfNeeded: round)], attachments: (0..<100).map { _ in try pipe.duplicateWriteEnd() })
                // Keep a few messages in flight, not all 10 000 fds at once.
                if round >= 4, let message = expectMessage(transport) {
                    received += message.fds.count
                    Descriptor.closeAll(message.fds)
                }
            }
            while received < 10_000, let message = expectMessage(transport) {
                received += message.fds.count
                Descriptor.closeAll(message.fds)
            }
            #expect(received == 10_000)
            #expect(waitUntil { transport.statistics.retainedFDs == 0 })
            #expect(transport.statistics.fdsSent == 10_000)
            #expect(transport.statistics.fdsAcknowledgedByPeer == 10_000)
            #expect(transport.statistics.fdsReceived == 10_000)
            #expect(transport.statistics.acknowledgementsSent >= 1)
        }
        #expect(pipe.openCount == before)
    }

    @Test func deliberateCloseByThePeerIsEOFAfterItsMessages() throws {
        let (transport, process) = try TestPeer.spawn(["close-after", "3"])
        defer { TestPeer.finish(transport, process) }
        for index in 0..<3 { try transport.send(payload: [UInt8(index)]) }
        for index in 0..<3 { #expect(expectMessage(transport)?.payload == [UInt8(index)]) }
        #expect(transport.receive(timeout: testTimeout) == .eof(.peerClosed))
    }

    @Test func peerHandsItsSocketToANewTransportWithoutEOF() throws {
        let (transport, process) = try TestPeer.spawn(["transfer"])
        defer { TestPeer.finish(transport, process) }
        let pipe = try TestPipe()
        defer { pipe.close() }
        try transport.send(payload: Array("before".utf8))
        #expect(expectMessage(transport)?.payload == Array("before".utf8))
        try transport.send(payload: Array("release".utf8))
        #expect(expectMessage(transport)?.payload == Array("continued".utf8))
        try transport.send(payload: Array("after".utf8), attachments: [pipe.duplicateWriteEnd()])
        let message = try #require(expectMessage(transport))
        #expect(message.payload == Array("after".utf8))
        #expect(try message.fds.map { try Descriptor.info($0).inode } == [pipe.inode])
        Descriptor.closeAll(message.fds)
        #expect(transport.isOpen)
        #expect(waitUntil { transport.statistics.retainedFDs == 0 })
    }

    @Test func ourHandOffContinuesTheConversationWithThePeer() throws {
        let (transport, process) = try TestPeer.spawn(["echo"])
        try transport.send(payload: [1])
        #expect(expectMessage(transport)?.payload == [1])
        let fd = try transport.releaseForTransfer()
        #expect(transport.receive(timeout: .zero) == .released)
        let successor = try IPCTransport(adopting: fd)
        defer { TestPeer.finish(successor, process) }
        try successor.send(payload: [2])
        #expect(expectMessage(successor)?.payload == [2])
        #expect(process.tryWait() == nil)  // the peer saw no EOF
    }
}
