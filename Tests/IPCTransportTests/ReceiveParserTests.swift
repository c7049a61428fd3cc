@testable import IPCTransport
import IPCWire
import Testing

@Suite("Transport receive parser (§1.4, §2)")
struct ReceiveParserTests {
    let requestHeader = bytes("00 00 00 00 10 00 00 00 00 00 00 00")
    let requestPayload = bytes("44 95 c1 4b 0a 00 00 00 04 00 00 00 68 74 74 70")

    @Test func goldenRequestFrameParses() {
        var parser = ReceiveParser()
        #expect(parser.accept(requestHeader + requestPayload) == nil)
        let batch = parser.parse()
        #expect(batch.messages == [IncomingMessage(payload: requestPayload, fds: [])])
        #expect(batch.violation == nil)
        #expect(parser.unprocessedByteCount == 0)
    }

    @Test func framesArriveByteByByte() {
        var parser = ReceiveParser()
        let stream = requestHeader + requestPayload + FrameEncoder.payloadFrame([9])
        var messages: [IncomingMessage] = []
        for byte in stream {
            #expect(parser.accept([byte]) == nil)
            messages += parser.parse().messages
        }
        #expect(messages.map(\.payload) == [requestPayload, [9]])
    }

    @Test func aFrameWaitsForItsFDsAndTakesThemFIFO() {
        var parser = ReceiveParser()
        #expect(parser.accept(FrameEncoder.payloadFrame([1], fdCount: 2), fds: [100]) == nil)
        #expect(parser.parse().messages.isEmpty)  // one fd short
        #expect(parser.accept([], fds: [101, 102]) == nil)
        let batch = parser.parse()
        #expect(batch.messages == [IncomingMessage(payload: [1], fds: [100, 101])])
        #expect(batch.receivedFDCount == 2)
        #expect(parser.unmatchedFDCount == 1)
        #expect(parser.takeUnmatchedFDs() == [102])
    }

    @Test func acknowledgementsAreSummedPerBatch() {
        var parser = ReceiveParser()
        _ = parser.accept(FrameEncoder.acknowledgementFrame(count: 3) + FrameEncoder.acknowledgementFrame(count: 4))
        let batch = parser.parse()
        #expect(batch.acknowledgedFDCount == 7)
        #expect(batch.acknowledgementFrames == 2)
        #expect(batch.messages.isEmpty)
    }

    static let smallLimits: ReceiveLimits = {
        var limits = ReceiveLimits()
        limits.maxUnprocessedBytes = 1000
        limits.maxUnprocessedFDs = 8
        return limits
    }()

    /// Streams that break one rule each, after a valid frame that must still be delivered.
    static let hostileStreams: [(Violation.Kind, [UInt8], [Int32])] = [
        (.payloadTooLarge, FrameHeader.payload(size: 64 * 1024 * 1024 + 1, fdCount: 0).bytes, []),
        (.tooManyFDsInFrame, FrameHeader.payload(size: 0, fdCount: 129).bytes, []),
        (.unknownFrameType, FrameHeader(rawType: 2, payloadSize: 0, fdCount: 0).bytes, []),
        (.acknowledgementWithPayload, FrameHeader(type: .fdAcknowledgement, payloadSize: 1, fdCount: 1).bytes + [0], []),
        (.counterOverflow, FrameEncoder.acknowledgementFrame(count: Int(UInt32.max)) + FrameEncoder.acknowledgementFrame(count: 1), []),
        (.unprocessedBytesOverflow, FrameHeader.payload(size: 8, fdCount: 1).bytes + Array(repeating: 0, count: 1000), []),
        (.unprocessedFDsOverflow, FrameHeader.payload(size: 100, fdCount: 0).bytes, Array(0..<9)),
    ]

    @Test(arguments: hostileStreams.indices)
    func violationsStopParsingAfterEarlierFrames(index: Int) {
        let (kind, stream, fds) = Self.hostileStreams[index]
        var parser = ReceiveParser(limits: Self.smallLimits)
        #expect(parser.accept(FrameEncoder.payloadFrame([7])) == nil)
        let early = parser.parse()
        #expect(early.messages.count == 1)
        let acceptViolation = parser.accept(stream, fds: fds)
        let batch = parser.parse()
        let violation = acceptViolation ?? batch.violation
        #expect(violation?.kind == kind)
        // Located at the offending frame: after the 13-byte valid frame (and, for the overflow, the first ack).
        #expect(violation?.streamOffset == (kind == .counterOverflow ? 25 : 13))
    }

    @Test func aHeaderNeverCausesAnAllocationItClaims() {
        var parser = ReceiveParser()
        _ = parser.accept(FrameHeader.payload(size: 64 * 1024 * 1024, fdCount: 0).bytes + [1, 2, 3])
        #expect(parser.parse().messages.isEmpty)
        #expect(parser.unprocessedByteCount == 15)
    }
}
