@testable import DemoPeers
import Glibc
import IPCTransport
import IPCWire
import Testing

/// Each misbehaviour's bytes, fed to a real IPCTransport in this process, must end the connection with
/// the violation the demo expects (the decoded-length one must pass the transport and fail decoding).
@Suite("Misbehaving frames")
struct MisbehaviorTests {
    @Test("transport-level misbehaviours end the connection with the expected violation",
          arguments: Misbehavior.allCases.filter { $0 != .decodedLengthTooLarge })
    func transportDetects(kind: Misbehavior) throws {
        let demoProtocol = try DemoProtocol.load()
        let (victim, raw) = try IPCTransport.makeRawPair()
        defer { Descriptor.close(raw) }
        try Descriptor.writeAll(raw, kind.frameBytes(demoProtocol))
        let event = victim.receive(timeout: .seconds(5))
        guard case .eof(let reason) = event else {
            Issue.record("expected EOF, got \(event)")
            return
        }
        #expect(reason.violationKind == kind.expectedViolation, "\(reason)")
    }

    @Test("the over-long length passes the transport and fails message decoding")
    func decoderDetects() throws {
        let demoProtocol = try DemoProtocol.load()
        let (victim, raw) = try IPCTransport.makeRawPair()
        defer { Descriptor.close(raw) }
        try Descriptor.writeAll(raw, Misbehavior.decodedLengthTooLarge.frameBytes(demoProtocol))
        guard case .message(let payload, let fds) = victim.receive(timeout: .seconds(5)) else {
            Issue.record("expected a message")
            return
        }
        #expect(fds.isEmpty)
        let decoded = demoProtocol.decoder.decode(payload: payload, attachmentCount: 0)
        #expect(decoded.message == "is_supported_protocol")
        guard case .violation(let violation) = decoded.outcome else {
            Issue.record("expected a violation, got \(decoded.outcome)")
            return
        }
        #expect(violation.kind == .decodedSizeTooLarge)
    }
}
