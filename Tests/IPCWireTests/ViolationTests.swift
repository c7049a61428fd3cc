import Testing
@testable import IPCWire

@Suite struct ViolationTests {
    func header(type: UInt8 = 0, size: UInt32 = 0, fds: UInt32 = 0) -> [UInt8] {
        FrameHeader(rawType: type, payloadSize: size, fdCount: fds).bytes
    }

    @Test func payloadSizeOverTheLimit() {
        var parser = FrameStreamParser()
        let found = violations(parser.collect(header(size: 64 * 1024 * 1024 + 1)))
        #expect(found == [Violation(kind: .payloadTooLarge, limit: 67_108_864, observed: 67_108_865,
                                    streamOffset: 0, frameIndex: 0)])
    }

    @Test func fdCountOverTheLimit() {
        var parser = FrameStreamParser()
        let found = violations(parser.collect(FrameEncoder.payloadFrame([1], fdCount: 129), fds: 128))
        #expect(found.map(\.kind) == [.tooManyFDsInFrame])
        #expect(found.first?.limit == 128)
        #expect(found.first?.observed == 129)
    }

    @Test func moreFDsInOneReadThanTheReceiverAccepts() {
        var parser = FrameStreamParser()
        let found = violations(parser.collect(FrameEncoder.payloadFrame([1], fdCount: 100), fds: 129))
        #expect(found.contains { $0.kind == .tooManyFDsInOneSend && $0.limit == 128 && $0.observed == 129 })
    }

    @Test func unknownFrameTypeIsSkippedByItsLength() {
        var parser = FrameStreamParser()
        let events = parser.collect(header(type: 7, size: 3) + [1, 2, 3] + FrameEncoder.payloadFrame([42]))
        let found = violations(events)
        #expect(found == [Violation(kind: .unknownFrameType, limit: 0, observed: 7, streamOffset: 0,
                                    frameIndex: 0, continuation: .resyncAssumed)])
        // The frame has a record of its own: its header as sent, where it starts.
        #expect(events.contains(.unknown(header: FrameHeader(rawType: 7, payloadSize: 3, fdCount: 0), index: 0, offset: 0)))
        #expect(events.last == .payload(header: .payload(size: 1, fdCount: 0), index: 1, offset: 15,
                                        bytes: [42], fds: 0..<0))
    }

    @Test func acknowledgementCarryingAPayload() {
        var parser = FrameStreamParser()
        let events = parser.collect(header(type: 1, size: 2, fds: 1) + [0, 0])
        #expect(violations(events).map(\.kind) == [.acknowledgementWithPayload])
        #expect(violations(events).first?.observed == 2)
        #expect(events.last == .ack(count: 1, index: 0, offset: 0))
    }

    @Test func overAcknowledgementNeedsBothDirections() {
        var channel = ChannelParser()
        var events: [RecordedEvent] = []
        channel.feed(.aToB, FrameEncoder.payloadFrame([1], fdCount: 2), fdCount: 2) { events.append(.init($0)) }
        #expect(channel.unacknowledgedFDs(.aToB) == 2)
        channel.feed(.bToA, FrameEncoder.acknowledgementFrame(count: 2)) { events.append(.init($0)) }
        #expect(channel.unacknowledgedFDs(.aToB) == 0)
        #expect(violations(events).isEmpty)
        channel.feed(.bToA, FrameEncoder.acknowledgementFrame(count: 1)) { events.append(.init($0)) }
        #expect(violations(events) == [Violation(kind: .overAcknowledgement, limit: 0, observed: 1,
                                                 streamOffset: 12, frameIndex: 1)])
    }

    @Test func unprocessedFDsOverTheLimit() {
        var parser = FrameStreamParser(configuration: .init(reportsWarnings: false))
        var found: [Violation] = []
        // Fds with no frame to claim them pile up in the receiver: 4 × 128 is the limit, one more breaks it.
        for _ in 0..<4 { found += violations(parser.collect([0], fds: 128)) }
        #expect(found.isEmpty)
        found += violations(parser.collect([0], fds: 1))
        #expect(found == [Violation(kind: .unprocessedFDsOverflow, limit: 512, observed: 513, streamOffset: 4)])
    }

    @Test func unprocessedBytesOverTheLimit() {
        var parser = FrameStreamParser(configuration: .init(reportsWarnings: false))
        var found: [Violation] = []
        // A frame whose fd never comes stalls the receiver; two 64 MiB frames behind it overflow 128 MiB.
        found += violations(parser.collect(FrameEncoder.payloadFrame([], fdCount: 1)))
        let chunk = [UInt8](repeating: 0, count: 1 << 20)
        for _ in 0..<2 {
            found += violations(parser.collect(header(size: 64 * 1024 * 1024)))
            for _ in 0..<64 { found += violations(parser.collect(chunk)) }
        }
        #expect(found.map(\.kind) == [.unprocessedBytesOverflow])
        #expect(found.first?.limit == 128 * 1024 * 1024)
        #expect((found.first?.observed ?? 0) > 128 * 1024 * 1024)
        #expect(parser.retainedBytes < 16 * 1024)
    }

    @Test func checkedFDCountersOverflowInOneReadPass() {
        var parser = FrameStreamParser(configuration: .init(reportsWarnings: false))
        let frames = header(fds: .max) + header(fds: 2)
        let found = violations(parser.collect(frames))
        #expect(found.contains { $0.kind == .counterOverflow && $0.limit == UInt64(UInt32.max) })
    }

    @Test func warnsPastEightyPercent() {
        var parser = FrameStreamParser()
        let found = violations(parser.collect(FrameEncoder.payloadFrame([1], fdCount: 103), fds: 103))
        #expect(found.map(\.severity) == [.warning])
        #expect(found.first?.kind == .tooManyFDsInFrame)
        var quiet = FrameStreamParser()
        #expect(violations(quiet.collect(FrameEncoder.payloadFrame([1], fdCount: 102), fds: 102)).isEmpty)
    }

    /// Exactly the legal maximum is no breach: a warning, worded as near the limit.
    @Test func aFrameAtExactlyTheLimitIsANearLimitWarningNotAViolation() {
        var parser = FrameStreamParser()
        let found = violations(parser.collect(FrameEncoder.payloadFrame([1], fdCount: 128), fds: 128))
            .filter { $0.kind == .tooManyFDsInFrame }
        #expect(found.map(\.severity) == [.warning])
        #expect(found.first?.observed == 128 && found.first?.limit == 128)
        let text = found.first?.description ?? ""
        #expect(text.hasPrefix("near limit too-many-fds-in-frame: observed 128 of limit 128, not over it"), "\(text)")
        #expect(!text.contains("violation"))
    }

    @Test func everyFrameLevelKindIsReportedOnce() {
        // One misbehaving stream per kind, each reported exactly once with its limit.
        let cases: [(Violation.Kind, [UInt8], Int, UInt64)] = [
            (.payloadTooLarge, header(size: 67_108_865), 0, 67_108_864),
            (.tooManyFDsInFrame, header(fds: 129), 0, 128),
            (.unknownFrameType, header(type: 2), 0, 0),
            (.acknowledgementWithPayload, header(type: 1, size: 1) + [0], 0, 0),
            (.tooManyFDsInOneSend, header(fds: 1), 200, 128),
        ]
        for (kind, bytes, fds, limit) in cases {
            var parser = FrameStreamParser(configuration: .init(reportsWarnings: false))
            let found = violations(parser.collect(bytes, fds: fds)).filter { $0.kind == kind }
            #expect(found.count == 1, "\(kind)")
            #expect(found.first?.limit == limit, "\(kind)")
        }
    }
}
