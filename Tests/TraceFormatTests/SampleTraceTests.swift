import Foundation
import IPCWire
import Testing
import TraceFormat

/// The traces shipped in Traces/ (recorded from the demo by Scripts/regenerate-traces.sh) still read back
/// and still show what they were recorded to show.
@Suite struct SampleTraceTests {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().appendingPathComponent("../../Traces").standardizedFileURL

    static func records(_ name: String) throws -> [TraceRecord] {
        try TraceReader(path: directory.appendingPathComponent(name).path).records().map(\.record)
    }

    @Test(arguments: ["demo.ipctrace", "demo-misbehave.ipctrace"])
    func shippedTracesAreIntact(name: String) throws {
        let report = try TraceReader(path: Self.directory.appendingPathComponent(name).path).validate()
        #expect(report.corruptions.isEmpty && report.truncatedTail == nil)
        #expect(report.end?.cleanStop == true)
        #expect((report.header?.schemas.count ?? 0) == 4, "the demo's schemas are embedded")
    }

    /// Traces written before format 1.1 still read: the shipped ones are 1.0, and read as recordings that
    /// stopped complete, every channel parsed as LibIPC.
    @Test(arguments: ["demo.ipctrace", "demo-misbehave.ipctrace"])
    func version10TracesStillRead(name: String) throws {
        let reader = try TraceReader(path: Self.directory.appendingPathComponent(name).path)
        #expect(reader.version == TraceFormatVersion(major: 1, minor: 0))
        #expect(TraceFileLayout.currentVersion == TraceFormatVersion(major: 1, minor: 1))
        let report = reader.validate()
        #expect(report.end?.stopReason == .complete)
        #expect(report.notLibIPCChannelCount == 0)
        #expect(reader.records().contains { if case .payloadFrame = $0.record { true } else { false } })
        // A 1.0 queue sample measured every field (flag bits 1–6 came with 1.1), and frames had one time.
        let samples = reader.records().compactMap { if case .queueSample(let q) = $0.record { q } else { nil } }
        #expect(!samples.isEmpty && samples.allSatisfy { $0.notMeasured.isEmpty })
        #expect(!reader.records().contains { $0.record.kind == .framesDelivered })
    }

    @Test func theDemoTraceHasEveryChannelAndEveryAcknowledgement() throws {
        let records = try Self.records("demo.ipctrace")
        let opened = records.compactMap { (record: TraceRecord) -> ChannelOpenedRecord? in
            if case .channelOpened(let channel) = record { return channel }
            return nil
        }
        #expect(opened.count == 4)
        var fdsSent: [String: UInt64] = [:]
        var acknowledged: [String: UInt64] = [:]
        for record in records {
            switch record {
            case .payloadFrame(let frame):
                fdsSent["\(frame.channel)-\(frame.direction)", default: 0] += UInt64(frame.header.fdCount)
            case .acknowledgement(let ack):
                acknowledged["\(ack.channel)-\(ack.direction.reversed)", default: 0] += UInt64(ack.count)
            case .violation(let violation):
                Issue.record("unexpected violation \(violation.kindName)")
            default:
                break
            }
        }
        #expect(fdsSent.values.reduce(0, +) > 0)
        #expect(fdsSent.filter { $0.value > 0 } == acknowledged.filter { $0.value > 0 })
    }

    @Test func theMisbehaveTraceShowsEveryLimitBrokenAndItsConsequence() throws {
        let records = try Self.records("demo-misbehave.ipctrace")
        let violations = records.compactMap { (record: TraceRecord) -> ViolationRecord? in
            if case .violation(let violation) = record, violation.severity == .violation { return violation }
            return nil
        }
        let expected: [Violation.Kind: UInt64] = [
            .tooManyFDsInFrame: 128, .payloadTooLarge: 67_108_864, .unknownFrameType: 0,
            .acknowledgementWithPayload: 0, .overAcknowledgement: 0, .decodedSizeTooLarge: 67_108_864,
        ]
        for (kind, limit) in expected {
            let found = violations.filter { $0.kind == kind }
            // The ack-with-payload misbehaviour acknowledges an fd nobody sent: an over-ack too.
            #expect(found.count == (kind == .overAcknowledgement ? 2 : 1), "\(kind)")
            #expect(found.first?.limit == limit, "\(kind)")
        }
        let causes = Set(records.compactMap { (record: TraceRecord) -> String? in
            if case .eof(let eof) = record { return eof.likelyCause }
            return nil
        })
        #expect(causes.count >= 5, "disconnects name the violation that caused them: \(causes)")
    }
}
