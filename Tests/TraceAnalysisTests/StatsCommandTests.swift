import Foundation
import Glibc
import IPCWire
import TestSupport
import Testing
import TraceFormat

/// `ipcscope stats` through the built binary: its counts equal a hand count over TraceReader's records,
/// `show`'s lines and `export --format jsonl`'s events, per kind and per message; latencies, fds and
/// violations of a constructed trace are those built into it; damage is reported with a non-zero exit.
@Suite struct StatsCommandTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardizedFileURL
    static let traces = ["demo.ipctrace", "demo-misbehave.ipctrace"].map { root.appendingPathComponent("Traces/\($0)").path }

    static func run(_ arguments: [String]) throws -> CommandResult {
        try CommandRunner.run(try ShowCommandTests.ipcscope(), arguments)
    }

    static func statsJSON(_ arguments: [String]) throws -> (CommandResult, [String: Any]) {
        let result = try run(["stats", "--json"] + arguments)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)")
        return (result, object)
    }

    static func scratch() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("stats-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    /// Stats against the records, show and export of one trace.
    static func checkCountsAgree(_ trace: String) throws {
        let (result, stats) = try statsJSON([trace])
        #expect(result.status == 0, "\(result.stderr)")
        let kinds = try #require(stats["kinds"] as? [String: Int])

        // A hand count over the records.
        let records = try TraceReader(path: trace).records().map(\.record)
        var hand: [String: Int] = [:]
        for record in records where record.kind != .header { hand[record.kind.description, default: 0] += 1 }
        #expect(kinds == hand)
        #expect(stats["events"] as? Int == records.count - 1)

        // Export: one JSON line per event, its kind and message named.
        let export = try run(["export", trace, "--format", "jsonl"])
        #expect(export.status == 0, "\(export.stderr)")
        var exportedKinds: [String: Int] = [:]
        var exportedMessages: [String: Int] = [:]
        for line in export.stdout.split(separator: "\n") {
            let event = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            exportedKinds[event["kind"] as? String ?? "?", default: 0] += 1
            if let message = event["message"] as? String { exportedMessages[message, default: 0] += 1 }
        }
        #expect(exportedKinds == kinds)
        let messages = try #require(stats["messages"] as? [[String: Any]])
        let named = messages.filter { ($0["message"] as? String)?.contains("::") == true }
        #expect(!named.isEmpty)
        for row in named {
            #expect(exportedMessages[row["message"] as! String] == row["frames"] as? Int, "\(row)")
        }
        #expect(named.reduce(0) { $0 + ($1["frames"] as! Int) } == exportedMessages.values.reduce(0, +))
        #expect(messages.reduce(0) { $0 + ($1["frames"] as! Int) } == kinds["payload-frame"])
        let pairs = try #require(stats["pairs"] as? [[String: Any]])
        #expect(pairs.reduce(0) { $0 + ($1["frames"] as! Int) } == kinds["payload-frame"])

        // Show: a line per event but the header and queue samples; per kind and per message through -f.
        let shown = try run(["show", trace])
        #expect(ShowCommandTests.summaryLines(shown.stdout).count == (stats["events"] as! Int) - (kinds["queue-sample"] ?? 0))
        for (filter, kind) in [("kind == frame", "payload-frame"), ("kind == eof", "eof"), ("kind == violation", "violation"), ("kind == ack", "acknowledgement")] {
            let lines = ShowCommandTests.summaryLines(try run(["show", trace, "-f", filter]).stdout)
            #expect(lines.count == kinds[kind] ?? 0, "\(filter)")
        }
        for row in named.prefix(4) {
            let name = row["message"] as! String
            let lines = ShowCommandTests.summaryLines(try run(["show", trace, "-f", "message == \"\(name)\""]).stdout)
            #expect(lines.count == row["frames"] as? Int, "\(name)")
        }
        // Sync calls: each answered call counted once, in the request's message.
        let sync = try #require(stats["sync"] as? [String: Int])
        let calls = messages.compactMap { ($0["latency_ns"] as? [String: Any])?["calls"] as? Int }.reduce(0, +)
        #expect(calls == sync["answered"])
    }

    @Test(arguments: traces) func countsEqualShowExportAndTheRecords(trace: String) throws {
        try Self.checkCountsAgree(trace)
    }

    @Test func countsAgreeOnAFreshDemoRecording() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/demo.ipctrace"
        let demo = try CommandRunner.run(try ShowCommandTests.ipcscope(), ["demo", "-o", path, "--messages", "150"], timeoutSeconds: 120)
        #expect(demo.status == 0, "\(demo.stderr)")
        try Self.checkCountsAgree(path)
    }

    @Test func aConstructedTraceHasTheLatenciesFdsAndViolationsBuiltIntoIt() throws {
        let path = try ConstructedTrace.write()
        let (result, stats) = try Self.statsJSON([path])
        #expect(result.status == 0, "\(result.stderr)")
        let messages = try #require(stats["messages"] as? [[String: Any]])
        func latency(_ name: String) throws -> [String: Int] {
            let row = try #require(messages.first { $0["message"] as? String == name }, "\(name)")
            return try #require(row["latency_ns"] as? [String: Int])
        }
        // compute: 100 (channel 1), 40 and 70 (channel 2); ask: 140.
        #expect(try latency("TestServer::compute")["calls"] == 3 && latency("TestServer::compute")["max"] == 100)
        #expect(try latency("TestServer::compute")["p50"] == 70)
        #expect(try latency("TestClient::ask") == ["calls": 1, "p50": 140, "p99": 140, "max": 140])
        let unacknowledged = try #require(stats["unacknowledged_fds"] as? [[String: Any]])
        #expect(unacknowledged.count == 1)
        #expect(unacknowledged.first?["channel"] as? Int == 3 && unacknowledged.first?["fds"] as? Int == 201)
        #expect(unacknowledged.first?["frames"] as? [Int] == [1, 2])
        #expect(stats["violations"] as? [String: Int] == ["too-many-fds-in-frame": 1])
        #expect(stats["eofs"] as? [String: Int] == ["reset": 1])
        let pairs = try #require(stats["pairs"] as? [[String: Any]])
        let clientToServer = try #require(pairs.first { $0["sender"] as? String == "TestClient" })
        #expect(clientToServer["receiver"] as? String == "TestServer" && clientToServer["frames"] as? Int == 8)
        // -f counts only what it selects; names and latencies still come from the whole trace.
        let (_, filtered) = try Self.statsJSON([path, "-f", "channel == 2"])
        #expect(filtered["kinds"] as? [String: Int] == ["channel-opened": 1, "payload-frame": 4])
        let text = try Self.run(["stats", path])
        #expect(text.status == 0 && text.stdout.contains("TestServer::compute") && text.stdout.contains("too-many-fds-in-frame"))
        #expect(!text.stdout.contains("\u{1B}"), "no colour into a pipe")
    }

    @Test func damageIsReportedWithANonZeroExitAndTheRestCounted() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let original = try Data(contentsOf: URL(fileURLWithPath: Self.traces[0]))
        // Bit flips in the middle of the file: damaged records, skipped and reported.
        var flipped = original
        for position in stride(from: original.count / 3, to: original.count / 3 + 4000, by: 500) { flipped[position] ^= 0x5A }
        let damaged = directory + "/flipped.ipctrace"
        try flipped.write(to: URL(fileURLWithPath: damaged))
        let (result, stats) = try Self.statsJSON([damaged])
        #expect(result.status == 65)  // EX_DATAERR
        #expect(result.stderr.contains("damaged"), "\(result.stderr)")
        let damage = try #require(stats["damage"] as? [String: Any])
        #expect((damage["damaged_regions"] as? Int ?? 0) > 0)
        #expect((stats["events"] as? Int ?? 0) > 100)
        let text = try Self.run(["stats", damaged])
        #expect(text.status == 65 && text.stdout.contains("damaged region"))
        // A truncated copy (a killed recorder): no end record, the cut record reported as a truncated tail.
        let truncated = directory + "/truncated.ipctrace"
        try original.prefix(original.count / 2 + 7).write(to: URL(fileURLWithPath: truncated))
        let (cut, cutStats) = try Self.statsJSON([truncated])
        #expect(cut.status == 0, "a truncated tail is not damage (as check and show say)")
        #expect(cutStats["recording"] as? String == "no-end-record")
        #expect(((cutStats["damage"] as? [String: Any])?["truncated_tail_bytes"] as? Int ?? 0) > 0)
        // Not a trace at all.
        let garbage = directory + "/garbage.ipctrace"
        try Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 37) }).write(to: URL(fileURLWithPath: garbage))
        let refused = try Self.run(["stats", garbage])
        #expect(refused.status == 65 && refused.stderr.hasPrefix("ipcscope stats:") && refused.stdout.isEmpty)
    }

    @Test func outputFileUsageErrorsAndSchemas() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let out = directory + "/stats.json"
        let written = try Self.run(["stats", Self.traces[0], "--json", "-o", out])
        #expect(written.status == 0 && written.stdout.isEmpty)
        var info = stat()
        #expect(stat(out, &info) == 0 && info.st_mode & 0o777 == 0o600)
        #expect(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) is [String: Any])
        // Nothing left behind but the report.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["stats.json"])
        let badFilter = try Self.run(["stats", Self.traces[0], "-f", "size >"])
        #expect(badFilter.status == 64 && badFilter.stderr.contains("-f:"))
        let missing = try Self.run(["stats", directory + "/nope.ipctrace"])
        #expect(missing.status == 66)  // EX_NOINPUT
        let unwritable = try Self.run(["stats", Self.traces[0], "-o", directory + "/no/such/dir/out.txt"])
        #expect(unwritable.status == 73 && unwritable.stderr.hasPrefix("ipcscope stats:"))  // EX_CANTCREAT
        // --schema: a broken file named on the command line is an error naming its line; one found in a
        // directory is skipped with a warning; a good one found recursively is used.
        try "endpoint Broken {\n  oops(\n".write(toFile: directory + "/broken.ipc", atomically: true, encoding: .utf8)
        let broken = try Self.run(["stats", Self.traces[0], "--schema", directory + "/broken.ipc"])
        #expect(broken.status == 64 && broken.stderr.contains("broken.ipc:"), "\(broken.stderr)")
        try FileManager.default.createDirectory(atPath: directory + "/deep/er", withIntermediateDirectories: true)
        try FileManager.default.moveItem(atPath: directory + "/broken.ipc", toPath: directory + "/deep/broken.ipc")
        try ConstructedTrace.schema.write(toFile: directory + "/deep/er/test.ipc", atomically: true, encoding: .utf8)
        let searched = try Self.run(["stats", Self.traces[0], "--schema", directory + "/deep"])
        #expect(searched.status == 0 && searched.stderr.contains("warning: --schema skipped") && searched.stderr.contains("broken.ipc:"))
    }
}
