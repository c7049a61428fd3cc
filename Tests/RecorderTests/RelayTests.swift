import CSystemShims
import Glibc
import IPCTransport
import IPCWire
@testable import Recorder
import Synchronization
import TestSupport
import Testing

/// Collects relay events, copying what the relay only lends.
final class CollectingSink: RelayEventSink {
    enum Event: Equatable {
        case payload(Direction, FrameHeader, [UInt8], [RelayedFD])
        case acknowledgement(Direction, UInt32)
        case lateFDs(Direction, frameIndex: UInt64, [RelayedFD])
        case violation(Direction, Violation)
        case queueDepths(Direction, QueueDepths)
        case endOfStream(Direction, EndOfStream)
    }

    let events = Mutex<[Event]>([])
    /// Reported apart from `events`, which the other tests compare whole.
    let credentialLosses = Mutex<[CredentialsNotPreserved]>([])
    let classifications = Mutex<[ChannelClassification]>([])
    /// When the relay had each frame (payload and ack) and when it reported frames delivered, apart from
    /// `events` too.
    let frameTimes = Mutex<[(direction: Direction, index: UInt64, time: UInt64)]>([])
    let deliveries = Mutex<[(direction: Direction, frames: FramesDelivered, time: UInt64)]>([])

    func channelClassified(_ channel: ChannelID, time: UInt64, _ classification: ChannelClassification) {
        classifications.withLock { $0.append(classification) }
    }

    func record(channel: ChannelID, direction: Direction, time: UInt64, _ event: RelayEvent) {
        let copy: Event
        switch event {
        case .payload(let frame, let fds):
            frameTimes.withLock { $0.append((direction, frame.frameIndex, time)) }
            copy = .payload(direction, frame.header, Array(frame.capturedPayload), fds)
        case .acknowledgement(let ack):
            frameTimes.withLock { $0.append((direction, ack.frameIndex, time)) }
            copy = .acknowledgement(direction, ack.count)
        case .framesDelivered(let frames):
            deliveries.withLock { $0.append((direction, frames, time)) }
            return
        case .lateFDs(let frameIndex, let fds): copy = .lateFDs(direction, frameIndex: frameIndex, fds)
        case .violation(let violation): copy = .violation(direction, violation)
        case .queueDepths(let depths): copy = .queueDepths(direction, depths)
        case .endOfStream(let end): copy = .endOfStream(direction, end)
        case .credentialsNotPreserved(let loss):
            credentialLosses.withLock { $0.append(loss) }
            return
        case .endpointIdentified, .chunkTotals, .unknownFrame: return  // not part of what these tests compare
        }
        events.withLock { $0.append(copy) }
    }

    var snapshot: [Event] { events.withLock { $0 } }

    var payloads: [(Direction, FrameHeader, [UInt8], [RelayedFD])] {
        snapshot.compactMap { if case .payload(let d, let h, let b, let f) = $0 { (d, h, b, f) } else { nil } }
    }

    var lateFDs: [(frameIndex: UInt64, fds: [RelayedFD])] {
        snapshot.compactMap { if case .lateFDs(_, let index, let fds) = $0 { (index, fds) } else { nil } }
    }

    var violations: [Violation] {
        snapshot.compactMap { if case .violation(_, let v) = $0 { v } else { nil } }
    }

    func endOfStream(_ direction: Direction) -> EndOfStream? {
        snapshot.lazy.compactMap { event -> EndOfStream? in
            if case .endOfStream(let d, let end) = event, d == direction { return end }
            return nil
        }.first
    }

    /// Waits (bounded) until `condition` holds for the collected events.
    func wait(timeout: Duration = .seconds(5), until condition: (CollectingSink) -> Bool) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(self) { return true }
            usleep(2_000)
        }
        return condition(self)
    }
}

/// Two programs' sockets with a relayed channel between them: `programA` ⇄ proxy ⇄ `programB`.
struct RelayHarness {
    let programA: Int32
    let programB: Int32
    let channel: RelayedChannel
    let sink = CollectingSink()

    /// `prepareProxyEnds` may set options on the proxy's ends (facing A, facing B) before relaying starts.
    init(captureLimit: Int = 4096, sendBufferSize: Int32? = nil,
         prepareProxyEnds: (_ endA: Int32, _ endB: Int32) throws -> Void = { _, _ in }) throws {
        let a = try SocketPair.makeRaw()
        let b = try SocketPair.makeRaw()
        programA = a.first
        programB = b.first
        try prepareProxyEnds(a.second, b.second)
        var options = RelayedChannel.Options(captureLimit: captureLimit)
        options.sendBufferSize = sendBufferSize
        channel = try RelayedChannel(id: 1, endA: OwnedFD(adopting: a.second), endB: OwnedFD(adopting: b.second), options: options, sink: sink)
    }

    func close() {
        Descriptor.close(programA)
        Descriptor.close(programB)
        channel.join()
    }
}

func send(_ fd: Int32, _ bytes: [UInt8], fds: [Int32] = []) throws {
    var offset = 0
    var pending = fds
    while offset < bytes.count {
        let rest = Array(bytes[offset...])
        offset += try SocketMessaging.sendMessage(fd, bytes: rest, fds: pending)
        pending = []
    }
}

/// Reads exactly `count` bytes (blocking), collecting fds and remembering the byte offset each batch came at.
func receive(_ fd: Int32, count: Int, maxPerRead: Int = 1 << 20) throws -> (bytes: [UInt8], fdsAt: [(Int, [Int32])]) {
    try Descriptor.setNonBlocking(fd, false)
    var bytes: [UInt8] = []
    var fdsAt: [(Int, [Int32])] = []
    var buffer = [UInt8](repeating: 0, count: maxPerRead)
    while bytes.count < count {
        let want = min(maxPerRead, count - bytes.count)
        let chunk = try buffer.withUnsafeMutableBytes { raw in
            try SocketMessaging.receiveMessage(fd, into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<want]),
                                               flags: Int32(MSG_CMSG_CLOEXEC))
        }
        if chunk.byteCount == 0 && chunk.fds.isEmpty { break }
        if !chunk.fds.isEmpty { fdsAt.append((bytes.count, chunk.fds)) }
        bytes += buffer[0..<chunk.byteCount]
    }
    return (bytes, fdsAt)
}

/// One send on a non-blocking socket; nil when the socket is full.
func sendUnlessFull(_ fd: Int32, _ bytes: [UInt8]) -> Int? {
    bytes.withUnsafeBytes { raw in
        let sent = Glibc.send(fd, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL))  // fd is non-blocking
        return sent >= 0 ? sent : nil
    }
}

@Suite(.serialized) struct RelayTests {
    @Test func forwardsBytesAndFDsUnchanged() throws {
        let harness = try RelayHarness()
        defer { harness.close() }
        let pipe = try Pipe.makeRaw()
        defer { Descriptor.close(pipe.readEnd); Descriptor.close(pipe.writeEnd) }
        let first = FrameEncoder.payloadFrame(Array("hello".utf8))
        let second = FrameEncoder.payloadFrame([1, 2, 3, 4], fdCount: 1)
        let third = FrameEncoder.payloadFrame([UInt8](repeating: 7, count: 10_000))
        try send(harness.programA, first)
        try send(harness.programA, second, fds: [pipe.writeEnd])
        try send(harness.programA, third)

        let received = try receive(harness.programB, count: first.count + second.count + third.count)
        #expect(received.bytes == first + second + third)
        #expect(received.fdsAt.count == 1)
        let forwarded = try #require(received.fdsAt.first?.1.first)
        defer { Descriptor.close(forwarded) }
        #expect(try Descriptor.info(forwarded).inode == Descriptor.info(pipe.writeEnd).inode)

        #expect(harness.sink.wait { $0.payloads.count == 3 })
        let payloads = harness.sink.payloads
        #expect(payloads.map(\.1.payloadSize) == [5, 4, 10_000])
        #expect(payloads[1].3.map(\.kind) == [.pipe])
        #expect(payloads[1].3.first?.inode == (try Descriptor.info(pipe.writeEnd).inode))
        #expect(payloads[2].2.count == 4096)  // capture limit
        #expect(harness.sink.violations.isEmpty)
    }

    /// The relay reads small frames 32 KiB at a time and larger payloads in larger reads: frames on both
    /// sides of that size, back to back, still arrive byte for byte and are each reported once.
    @Test func framesSmallerAndLargerThanOneReadArriveUnchanged() throws {
        let harness = try RelayHarness()
        defer { harness.close() }
        var random = SplitMix64(seed: 64)
        let sizes = [3 << 20, 10, 70_000, 1, 32_764, 32_765, 65_532, 65_533, 300_000, 0, 1 << 20, 5]
        let frames = sizes.map { size in FrameEncoder.payloadFrame((0..<size).map { _ in UInt8(truncatingIfNeeded: random.next()) }) }
        let stream = frames.flatMap { $0 }
        let programA = harness.programA
        try Descriptor.setNonBlocking(programA, false)
        let sender = try OSThread(name: "test-sender") {
            do { try Descriptor.writeAll(programA, stream) } catch { Issue.record("sending failed: \(error)") }
            shutdown(programA, Int32(SHUT_WR))  // ends the receive below even if sending failed
        }
        let received = try receive(harness.programB, count: stream.count, maxPerRead: 100_000)
        sender.join()
        #expect(received.bytes.count == stream.count)
        // Not #expect(a == b): on a mismatch it would diff two 5 MiB arrays for ever. Name the first difference.
        let firstDifference = (0..<min(received.bytes.count, stream.count)).first { received.bytes[$0] != stream[$0] }
        #expect(firstDifference == nil, "first difference at byte \(firstDifference ?? -1)")
        #expect(harness.sink.wait { $0.payloads.count == sizes.count })
        let payloads = harness.sink.payloads
        #expect(payloads.map { Int($0.1.payloadSize) } == sizes)
        for (frame, payload) in zip(frames, payloads) {
            #expect(payload.2 == Array(frame.dropFirst(FrameHeader.size).prefix(4096)))
        }
    }

    @Test func fdsTravelWithTheirFramesFirstByte() throws {
        let harness = try RelayHarness()
        defer { harness.close() }
        let pipe = try Pipe.makeRaw()
        defer { Descriptor.close(pipe.readEnd); Descriptor.close(pipe.writeEnd) }
        let plain = FrameEncoder.payloadFrame(Array("no fds here".utf8))
        let carrier = FrameEncoder.payloadFrame([9], fdCount: 1)
        // The sender attaches the fd at the start of a write holding both frames (allowed: fds may
        // precede their frame). The relay must forward it with the carrier's first byte instead.
        try send(harness.programA, plain + carrier, fds: [pipe.readEnd])
        #expect(harness.sink.wait { $0.payloads.count == 2 })
        let firstRead = try receive(harness.programB, count: plain.count)
        #expect(firstRead.bytes == plain)
        #expect(firstRead.fdsAt.isEmpty)
        let secondRead = try receive(harness.programB, count: carrier.count)
        #expect(secondRead.bytes == carrier)
        #expect(secondRead.fdsAt.first?.0 == 0)
        Descriptor.closeAll(secondRead.fdsAt.flatMap(\.1))
    }

    @Test func halfCloseIsForwardedAndTheOtherDirectionKeepsFlowing() throws {
        let harness = try RelayHarness()
        defer { harness.close() }
        shutdown(harness.programA, Int32(SHUT_WR))
        #expect(harness.sink.wait { $0.endOfStream(.aToB) != nil })
        #expect(harness.sink.endOfStream(.aToB)?.kind == .peerClosed)
        let eof = try receive(harness.programB, count: 1)
        #expect(eof.bytes.isEmpty)
        let reply = FrameEncoder.payloadFrame([42])
        try send(harness.programB, reply)
        #expect(try receive(harness.programA, count: reply.count).bytes == reply)
    }

    @Test func aReceiverThatStopsReadingBlocksOnlyItsDirection() throws {
        let harness = try RelayHarness()
        defer { harness.close() }
        try Descriptor.setNonBlocking(harness.programA, true)
        let frame = FrameEncoder.payloadFrame([UInt8](repeating: 1, count: 65_536 - 12))
        var written = 0
        var stalled = false
        // programB never reads: A keeps writing whenever its socket has room again. A proxy that buffered
        // without bound would keep making room and the byte bound below fails; a bounded one stops draining
        // A, so poll sees no room for a whole second. The second only ends the loop: the verdict is the byte bound.
        while written < 8 * 1024 * 1024 {
            if let count = sendUnlessFull(harness.programA, frame) {
                written += count
                continue
            }
            var room = pollfd(fd: harness.programA, events: Int16(POLLOUT), revents: 0)
            if poll(&room, 1, 1000) == 0 {
                stalled = true
                break
            }
        }
        #expect(stalled)
        #expect(written < 8 * 1024 * 1024, "the proxy buffered \(written) bytes")
        // The other direction is unaffected.
        let reply = FrameEncoder.payloadFrame([5, 5])
        try send(harness.programB, reply)
        #expect(try receive(harness.programA, count: reply.count).bytes == reply)
    }

    @Test func reportsViolationsAndBlamesTheDisconnectOnThem() throws {
        let harness = try RelayHarness()
        defer { Descriptor.close(harness.programA); harness.channel.join() }
        try send(harness.programA, FrameHeader(type: .payload, payloadSize: 0, fdCount: 200).bytes)
        #expect(harness.sink.wait { !$0.violations.isEmpty })
        #expect(harness.sink.violations.map(\.kind) == [.tooManyFDsInFrame])
        #expect(harness.sink.violations.first?.limit == 128)
        // The victim disconnects, as Ladybird would.
        Descriptor.close(harness.programB)
        #expect(harness.sink.wait { $0.endOfStream(.bToA) != nil })
        #expect(harness.sink.endOfStream(.bToA)?.likelyCause?.kind == .tooManyFDsInFrame)
    }

    @Test func overAcknowledgementNeedsBothDirections() throws {
        let harness = try RelayHarness()
        defer { harness.close() }
        let pipe = try Pipe.makeRaw()
        defer { Descriptor.close(pipe.readEnd); Descriptor.close(pipe.writeEnd) }
        let carrier = FrameEncoder.payloadFrame([1], fdCount: 1)
        try send(harness.programA, carrier, fds: [pipe.readEnd])
        let got = try receive(harness.programB, count: carrier.count)
        Descriptor.closeAll(got.fdsAt.flatMap(\.1))
        try send(harness.programB, FrameEncoder.acknowledgementFrame(count: 1))
        try send(harness.programB, FrameEncoder.acknowledgementFrame(count: 1))
        #expect(harness.sink.wait { !$0.violations.isEmpty })
        #expect(harness.sink.violations.map(\.kind) == [.overAcknowledgement])
        #expect(harness.sink.violations.first?.limit == 0)
    }

    @Test func stoppingRecordsIpcscopeStopped() throws {
        let harness = try RelayHarness()
        defer { harness.close() }
        harness.channel.stop()
        #expect(harness.sink.wait { $0.endOfStream(.aToB) != nil && $0.endOfStream(.bToA) != nil })
        #expect(harness.sink.endOfStream(.aToB)?.kind == .ipcscopeStopped)
        #expect(harness.sink.endOfStream(.bToA)?.kind == .ipcscopeStopped)
    }
}

/// Queue depths tell the truth about what the proxy holds (issue 10, finding 1, in part).
@Suite(.serialized) struct ProxyHeldBytesTests {
    /// While the receiver does not read, the relay holds part of a chunk: the samples taken while it waits
    /// show those bytes; once everything is delivered the direction's last sample shows 0.
    @Test func samplesShowTheBytesTheProxyHoldsWhileTheReceiverIsBlocked() throws {
        let harness = try RelayHarness()
        defer { harness.close() }
        let frame = FrameEncoder.payloadFrame([UInt8](repeating: 0x42, count: 1 << 20))
        let programA = harness.programA
        try Descriptor.setNonBlocking(programA, false)
        let sender = try OSThread(name: "test-sender") {
            do { try Descriptor.writeAll(programA, frame) } catch { Issue.record("sending failed: \(error)") }
            shutdown(programA, Int32(SHUT_WR))
        }
        func samples(_ sink: CollectingSink) -> [QueueDepths] {
            sink.snapshot.compactMap { if case .queueDepths(.aToB, let depths) = $0 { depths } else { nil } }
        }
        // programB reads nothing yet: the relay fills its socket and then waits, holding the rest of a chunk.
        #expect(harness.sink.wait { samples($0).contains { $0.proxyBufferedBytes > 0 } },
                "no sample showed the bytes the proxy holds: \(samples(harness.sink).map(\.proxyBufferedBytes))")
        let held = samples(harness.sink).map(\.proxyBufferedBytes).max() ?? 0
        #expect(held <= 256 * 1024, "the proxy holds at most one read")
        let received = try receive(harness.programB, count: frame.count)
        sender.join()
        #expect(received.bytes.count == frame.count)
        #expect(harness.sink.wait { $0.endOfStream(.aToB) != nil })
        #expect(samples(harness.sink).last?.proxyBufferedBytes == 0)
    }
}
