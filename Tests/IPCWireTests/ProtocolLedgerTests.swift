@testable import IPCWire
import Testing

/// The rules the relay, the fuzzer and the analysis share (ChannelParser.swift): fd acknowledgements and
/// sync request/response pairing.
@Suite("Protocol ledgers")
struct ProtocolLedgerTests {
    private func ack(_ count: UInt32, index: UInt64 = 0, offset: UInt64 = 0) -> AcknowledgementEvent {
        AcknowledgementEvent(header: FrameHeader(type: .fdAcknowledgement, payloadSize: 0, fdCount: count),
                             frameIndex: index, streamOffset: offset)
    }

    @Test func acknowledgementsSettleWhatWasSent() {
        var ledger = FDAcknowledgementLedger()
        ledger.recordSent(3)
        ledger.recordSent(2)
        #expect(ledger.outstanding == 5)
        #expect(ledger.settle(ack(4)) == nil)
        #expect(ledger.outstanding == 1)
        #expect(ledger.settle(ack(1)) == nil)
        #expect(ledger.outstanding == 0)
    }

    @Test func overAcknowledgementIsAViolationAndCountsOnlyWhatWasOutstanding() {
        var ledger = FDAcknowledgementLedger()
        ledger.recordSent(2)
        let violation = ledger.settle(ack(5, index: 7, offset: 84))
        #expect(violation == Violation(kind: .overAcknowledgement, limit: 2, observed: 5, streamOffset: 84, frameIndex: 7))
        #expect(ledger.acknowledged == 2)
        #expect(ledger.outstanding == 0)
        // The excess is not banked: fds sent afterwards are outstanding again.
        ledger.recordSent(1)
        #expect(ledger.outstanding == 1)
        #expect(ledger.settle(ack(0)) == nil)  // acknowledging nothing is valid
    }

    @Test func responsesAnswerTheOtherDirectionsOldestRequestByOrder() {
        var pairing = SyncPairing()
        #expect(pairing.record(.request, direction: .aToB) == .requestPending)
        #expect(pairing.record(.request, direction: .aToB) == .requestPending)
        #expect(pairing.record(.request, direction: .bToA) == .requestPending)
        #expect(pairing.pending(.aToB) == 2)
        #expect(pairing.pending(.bToA) == 1)
        // A response travelling B→A answers A's requests, oldest first; one travelling A→B answers B's.
        #expect(pairing.record(.response, direction: .bToA) == .answered(requestOrdinal: 0))
        #expect(pairing.record(.response, direction: .aToB) == .answered(requestOrdinal: 0))
        #expect(pairing.record(.response, direction: .bToA) == .answered(requestOrdinal: 1))
        #expect(pairing.pending(.aToB) == 0)
        #expect(pairing.pending(.bToA) == 0)
    }

    @Test func anUnsolicitedResponseSettlesNothing() {
        var pairing = SyncPairing()
        #expect(pairing.record(.response, direction: .aToB) == .unsolicitedResponse)
        #expect(pairing.pending(.aToB) == 0 && pairing.pending(.bToA) == 0)
        // It does not pre-pay a later request either.
        #expect(pairing.record(.request, direction: .bToA) == .requestPending)
        #expect(pairing.pending(.bToA) == 1)
        #expect(pairing.record(.response, direction: .aToB) == .answered(requestOrdinal: 0))
    }

    @Test func asyncAndUnknownMessagesChangeNothing() {
        var pairing = SyncPairing()
        pairing.record(.request, direction: .aToB)
        #expect(pairing.record(.async, direction: .bToA) == SyncPairing.Outcome.none)
        #expect(pairing.record(nil, direction: .bToA) == SyncPairing.Outcome.none)
        #expect(pairing.pending(.aToB) == 1)
    }

    @Test func channelParserSettlesAcknowledgementsWithTheSameLedger() {
        var channel = ChannelParser()
        var violations: [Violation] = []
        channel.feed(.bToA, FrameEncoder.payloadFrame([1], fdCount: 1), fdCount: 1) { _ in }
        channel.feed(.aToB, FrameEncoder.acknowledgementFrame(count: 3)) { event in
            if case .violation(let violation) = event { violations.append(violation) }
        }
        var reference = FDAcknowledgementLedger()
        reference.recordSent(1)
        #expect(violations == [reference.settle(ack(3))].compactMap { $0 })
        #expect(channel.sentByB == reference)
    }
}
