import Glibc
import IPCWire
import TestSupport
import Testing
import TraceFormat

/// Every one of LibIPC's limits travels through the real recorder: `ipcscope record -- IPCTestPeer
/// hostile-pair KIND` (a program that breaks one rule on a socketpair of its own, relayed through the
/// preload library), and the trace holds that violation with its limit and the value seen.
@Suite(.serialized, .timeLimit(.minutes(10))) struct EveryViolationRecordedTests {
    /// What each hostile program sends and what its violation record must say: the limit in force and the
    /// value observed (a range where the relay's read sizes decide the exact figure).
    struct Expectation: Sendable, CustomTestStringConvertible {
        var kind: Violation.Kind
        var limit: UInt64
        var observed: ClosedRange<UInt64>
        var testDescription: String { kind.rawValue }
    }

    static let expectations: [Expectation] = [
        Expectation(kind: .payloadTooLarge, limit: Limits.maxMessagePayloadSize,
                    observed: exactly(Limits.maxMessagePayloadSize + 1)),
        Expectation(kind: .tooManyFDsInFrame, limit: Limits.maxMessageFDCount, observed: exactly(Limits.maxMessageFDCount + 1)),
        Expectation(kind: .tooManyFDsInOneSend, limit: Limits.maxTransferFDs, observed: exactly(200)),
        // 128 MiB plus at most one read past it (the relay reads up to 256 KiB inside a large payload).
        Expectation(kind: .unprocessedBytesOverflow, limit: Limits.maxUnprocessedBufferSize,
                    observed: (Limits.maxUnprocessedBufferSize + 1)...(Limits.maxUnprocessedBufferSize + (1 << 18))),
        // Five sends of 128 fds that no frame claims: the fifth brings 512 + 128.
        Expectation(kind: .unprocessedFDsOverflow, limit: Limits.maxUnprocessedFDs, observed: exactly(640)),
        Expectation(kind: .unknownFrameType, limit: 0, observed: exactly(2)),
        Expectation(kind: .acknowledgementWithPayload, limit: 0, observed: exactly(4)),
        // Acknowledges 3 fds where none were sent the other way (limit: the fds outstanding).
        Expectation(kind: .overAcknowledgement, limit: 0, observed: exactly(3)),
        // Two acks in one read, u32.max and 1 fds: their checked u32 sum overflows.
        Expectation(kind: .counterOverflow, limit: UInt64(UInt32.max), observed: exactly(UInt64(UInt32.max) + 1)),
        Expectation(kind: .decodedSizeTooLarge, limit: Limits.maxDecodedSize, observed: exactly(Limits.maxDecodedSize + 1)),
    ]

    static func exactly(_ value: UInt64) -> ClosedRange<UInt64> { value...value }

    /// The endpoint whose first message takes a ByteString: the hostile program lies about its length.
    static let schema = """
        endpoint HostileSink
        {
            take(ByteString data) =|
        }

        """

    @Test func theTenLibIPCLimitsAreAllCovered() {
        // missing-fds is ipcscope's own finding, not a LibIPC limit (it has its own recorder tests).
        let limits = Set(Violation.Kind.allCases).subtracting([.missingFDs])
        #expect(Set(Self.expectations.map(\.kind)) == limits)
        #expect(limits.count == 10)
    }

    @Test(arguments: expectations)
    func violationIsRecordedThroughTheRealRecorder(_ expected: Expectation) throws {
        let directory = try TemporaryDirectory()
        let trace = directory.file("hostile.ipctrace")
        var record = ["record", "-o", trace]
        var peer = [try Self.builtProduct("IPCTestPeer"), "hostile-pair", expected.kind.rawValue]
        if expected.kind == .decodedSizeTooLarge {
            let schemaPath = directory.file("HostileSink.ipc")
            try Self.write(Self.schema, to: schemaPath)
            record += ["--schema", schemaPath]
            peer.append(schemaPath)
        }
        let run = try ProgramRun.run(try ipcscopeExecutable(), record + ["--"] + peer)
        #expect(run.status == .exited(0), "\(run.summary)")

        let recorded = try RecordedTrace(path: trace)
        recorded.expectIntact()
        try #require(recorded.opened.count == 1, "\(recorded.opened)")
        // The valid message before the bad bytes is recorded as a frame of its own.
        #expect(recorded.frames.first?.capturedPayload == Array("before: a valid message".utf8))
        let breaches = recorded.violations.filter { $0.kindName == expected.kind.rawValue && $0.severity == .violation }
        let first = try #require(breaches.first, "no \(expected.kind.rawValue) in \(recorded.violations)")
        #expect(first.limit == expected.limit, "\(first)")
        #expect(expected.observed.contains(first.observed), "\(first)")
        #expect(first.direction == recorded.frames.first?.direction, "on the hostile sender's direction")
        // The header names the limits it was judged against, and the end record counts it as a violation.
        let limits = Dictionary(uniqueKeysWithValues: (recorded.report.header?.limits ?? []).map { ($0.name, $0.value) })
        #expect(limits["MAX_MESSAGE_FD_COUNT"] == Limits.maxMessageFDCount)
        #expect(recorded.ends.first?.summary.violations == UInt64(recorded.violations.filter { $0.severity == .violation }.count))
    }

    private static func builtProduct(_ name: String) throws -> String {
        guard let found = BuiltProducts.executable(name) else { throw BuiltProducts.Missing(what: name) }
        return found
    }

    private static func write(_ text: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SystemCallFailed(call: "open", errno: errno) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let writeErrno = errno
        guard close(fd) == 0 else { throw SystemCallFailed(call: "close", errno: errno) }
        guard written == bytes.count else { throw SystemCallFailed(call: "write", errno: writeErrno) }
    }

    struct SystemCallFailed: Error {
        var call: String
        var errno: Int32
    }
}
