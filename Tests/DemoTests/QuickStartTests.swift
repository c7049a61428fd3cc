import Foundation
import IPCWire
import Testing
import TestSupport
import TraceFormat

/// Issue 10, finding 7: `swift run ipcscope demo` on a fresh clone builds only the executable, so the demo
/// finds no interposer library and records through helper takeover. It must still record every frame and
/// every transfer: the 2 MessagePort messages the UI had read before handing the port over are recovered
/// from the carrying message, and each hand-over has its channel-transferred record.
@Suite("Quick start", .serialized)
struct QuickStartTests {
    /// The demo's default run: 301 messages and 3 transports handed over (docs/demo.md).
    static let frames = 301
    static let transfers = 3

    @Test("without the preload library (as after `swift run ipcscope demo`) the demo records all 301 frames and 3 transfers")
    func withoutPreloadLibrary() throws {
        let directory = try DemoScratch.make()
        let executable = try Self.copyWithoutPreloadLibrary(into: directory)
        let trace = directory + "/demo.ipctrace"
        let result = try CommandRunner.run(executable, ["demo", "-o", trace])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("recording via helper takeover instead"), "\(result.stderr)")
        let takeover = try RecordedDemo(trace)
        #expect(takeover.report.frameCount == Self.frames, "\(takeover.report.countsByKind)")
        #expect(takeover.report.end?.summary.frames == UInt64(Self.frames))
        #expect(takeover.report.transferCount == Self.transfers)
        #expect(takeover.report.count(of: .channelTransferred) == Self.transfers)
        // The recovered frames are the port's first A→B frames, flagged by the channel-transferred record.
        let adopted = takeover.records.compactMap { record -> ChannelTransferredRecord? in
            if case .channelTransferred(let r) = record, r.adoption != nil { return r }
            return nil
        }
        #expect(adopted.count == 2)
        #expect(adopted.map { $0.adoption?.recoveredFrames ?? 0 }.sorted() == [0, 2])

        // Through the preload library the same run records the same frames; the port's frames match.
        let preloadTrace = directory + "/demo-preload.ipctrace"
        let preloadRun = try DemoBinary.run(["demo", "-o", preloadTrace, "--via", "preload"])
        #expect(preloadRun.status == 0, "stderr: \(preloadRun.stderr)")
        let preload = try RecordedDemo(preloadTrace)
        #expect(preload.report.frameCount == Self.frames)
        #expect(preload.report.transferCount == Self.transfers)
        #expect(preload.report.payloadBytes == takeover.report.payloadBytes)
        #expect(takeover.portPayloads(.aToB) == preload.portPayloads(.aToB))
        #expect(takeover.portPayloads(.aToB).count == 5)
        #expect(takeover.portFrameIndices(.aToB) == [0, 1, 2, 3, 4], "indices continue after the recovered frames")
    }

    /// `ipcscope` and the demo's schemas in a folder of their own, without libIPCScopePreload.so beside it.
    static func copyWithoutPreloadLibrary(into directory: String) throws -> String {
        guard let built = DemoBinary.path else { throw BuiltProducts.Missing(what: "ipcscope") }
        let source = URL(fileURLWithPath: built).deletingLastPathComponent()
        let manager = FileManager.default
        let executable = directory + "/ipcscope"
        try manager.copyItem(atPath: built, toPath: executable)
        let resources = "ipcscope_DemoPeers.resources"
        try manager.copyItem(atPath: source.appendingPathComponent(resources).path, toPath: directory + "/" + resources)
        #expect(!manager.fileExists(atPath: directory + "/libIPCScopePreload.so"))
        return executable
    }
}

/// A recorded demo trace and what a reader derives from it.
struct RecordedDemo {
    let records: [TraceRecord]
    let report: CheckReport
    /// The message port: the channel whose payloads carry no endpoint envelope the schemas know.
    let portChannel: UInt32?

    init(_ path: String) throws {
        let reader = try TraceReader(path: path)
        records = try reader.records().map(\.record)
        report = reader.validate()
        let identities = try TraceIdentities(records)
        portChannel = identities.framesWithoutEnvelope.first
    }

    private var portFrames: [PayloadFrameRecord] {
        records.compactMap { record in
            if case .payloadFrame(let frame) = record, frame.channel == portChannel { return frame }
            return nil
        }
    }

    func portPayloads(_ direction: Direction) -> [[UInt8]] {
        portFrames.filter { $0.direction == direction }.sorted { $0.frameIndex < $1.frameIndex }.map(\.capturedPayload)
    }

    func portFrameIndices(_ direction: Direction) -> [UInt64] {
        portFrames.filter { $0.direction == direction }.map(\.frameIndex).sorted()
    }
}
