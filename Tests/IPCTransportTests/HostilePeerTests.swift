import Glibc
import IPCTransport
import IPCWire
import Testing

/// Every §2 rule a peer can break on the socket makes the transport disconnect with that reason, after
/// delivering the valid message sent before it, and without crashing or leaking the peer's fds.
@Suite("Transport against hostile peers (§2)")
struct HostilePeerTests {
    static let kinds: [Violation.Kind] = [
        .payloadTooLarge, .tooManyFDsInFrame, .unknownFrameType, .acknowledgementWithPayload,
        .overAcknowledgement, .counterOverflow, .unprocessedFDsOverflow, .tooManyFDsInOneSend,
        .unprocessedBytesOverflow,
    ]

    @Test(arguments: kinds)
    func disconnectsWithTheViolatedRule(kind: Violation.Kind) throws {
        let (transport, process) = try TestPeer.spawn(["hostile", kind.rawValue])
        defer { TestPeer.finish(transport, process) }
        #expect(expectMessage(transport, timeout: .seconds(30))?.payload == Array("before".utf8))
        let event = transport.receive(timeout: .seconds(30))
        guard case .eof(let reason) = event else {
            Issue.record("expected EOF, got \(event)")
            return
        }
        #expect(reason.violationKind == kind, "\(reason)")
        if kind == .overAcknowledgement {
            #expect(reason == .peerOverAcknowledged(acknowledged: 3, outstanding: 0))
        }
        #expect(!transport.isOpen)
        #expect(throws: TransportError.disconnected(reason)) { try transport.send(payload: [1]) }
    }
}
