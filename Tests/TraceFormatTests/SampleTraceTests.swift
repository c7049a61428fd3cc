import Foundation
import IPCWire
import Testing
import TraceFormat

/// The traces shipped in Traces/ (recorded from the demo by Scripts/regenerate-traces.sh) still read back
/// and still show what they were recorded to show.
@Suite struct SampleTraceTests {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().appendingPathComponent("../../Traces").standardizedFileURL

    /// The same demo runs recorded in format 1.0, kept to prove that older traces still read.
    static let version10Directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().appendingPathComponent("Fixtures/format-1.0").standardizedFileURL

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

    /// Traces written before format 1.1 still read, as recordings that stopped complete, every channel parsed
    /// as LibIPC.
    @Test(arguments: ["demo.ipctrace", "demo-misbehave.ipctrace"])
    func version10TracesStillRead(name: String) throws {
        let reader = try TraceReader(path: Self.version10Directory.appendingPathComponent(name).path)
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

    /// The shipped traces are of the current version and read like a user's recording: the commands are
    /// typed names and relative paths, nothing from a build tree; the quick start's demo is all there (301
    /// frames, 3 transfers), every side of every channel names a recorded process, and every frame of the
    /// plain demo was delivered.
    @Test(arguments: ["demo.ipctrace", "demo-misbehave.ipctrace"])
    func shippedTracesAreCurrentAndReadLikeAUsers(name: String) throws {
        let reader = try TraceReader(path: Self.directory.appendingPathComponent(name).path)
        #expect(reader.version == TraceFileLayout.currentVersion)
        let header = try #require(reader.header)
        #expect(header.commandLine.first == "ipcscope", "\(header.commandLine)")
        let records = reader.records().map(\.record)
        var texts = header.commandLine + header.schemas.map(\.path)
        var processes: [Int32: ProcessRecord] = [:]
        var sides: [UInt32: Set<UInt8>] = [:]
        var channels = Set<UInt32>()
        var frames: [String: UInt64] = [:]
        var delivered: [String: UInt64] = [:]
        var transfers = 0
        for record in records {
            switch record {
            case .process(let process):
                processes[process.pid] = process
                texts += process.arguments
            case .endpoint(let endpoint):
                #expect(processes[endpoint.pid] != nil, "endpoint names pid \(endpoint.pid) before its process record")
                sides[endpoint.channel, default: []].insert(endpoint.side == .a ? 0 : 1)
            case .channelOpened(let opened):
                channels.insert(opened.channel)
            case .channelTransferred:
                transfers += 1
            case .payloadFrame(let frame):
                frames["\(frame.channel)-\(frame.direction)", default: 0] += 1
            case .acknowledgement(let ack):
                frames["\(ack.channel)-\(ack.direction)", default: 0] += 1
            case .framesDelivered(let range):
                delivered["\(range.channel)-\(range.direction)", default: 0] += range.lastFrameIndex - range.firstFrameIndex + 1
            default:
                break
            }
        }
        #expect(!texts.contains { $0.contains(".build") || $0.hasPrefix("/") }, "\(texts)")
        #expect(processes.count == 3)
        #expect(channels.allSatisfy { sides[$0] == [0, 1] }, "\(sides)")
        if name == "demo.ipctrace" {
            #expect(records.filter { $0.kind == .payloadFrame }.count == 301)
            #expect(transfers == 3)
            #expect(delivered == frames)
        }
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
