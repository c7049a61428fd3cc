import Foundation
import TestSupport
import Testing

/// `stats --json` is one JSON document of the documented shape on the shipped traces; the exit codes are
/// those of show and export.
@Suite struct StatsCommandCLITests {
    static let traces = ["demo.ipctrace", "demo-misbehave.ipctrace"].map {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Traces/\($0)").standardizedFileURL.path
    }

    @Test(arguments: traces) func jsonParsesWithTheDocumentedFields(trace: String) throws {
        let result = try CommandRunner.run(try SchemaCommandTests.ipcscopeBinary(), ["stats", "--json", trace])
        #expect(result.status == 0, "\(result.stderr)")
        let stats = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(stats["format"] as? String == "ipcscope-stats/1")
        for field in ["trace", "filter", "recording", "events", "channels", "kinds", "pairs", "messages", "sync", "queues",
                      "unacknowledged_fds", "violations", "warnings", "eofs", "damage"] {
            #expect(stats.keys.contains(field), "\(field)")
        }
        #expect(stats["recording"] as? String == "complete")
        let pairs = try #require(stats["pairs"] as? [[String: Any]])
        #expect(pairs.allSatisfy { Set($0.keys) == ["sender", "receiver", "frames", "bytes", "fds", "requests", "responses", "latency_ns"] })
    }

    /// Usage errors exit 64; a trace that does not exist, 66 (README, "Exit status").
    @Test func usageErrorsExit64() throws {
        let binary = try SchemaCommandTests.ipcscopeBinary()
        #expect(try CommandRunner.run(binary, ["stats", Self.traces[0], "-f", "chanel == 1"]).status == 64)
        #expect(try CommandRunner.run(binary, ["stats", Self.traces[0], "--schema", "/nonexistent/x.ipc"]).status == 64)
        #expect(try CommandRunner.run(binary, ["stats", "/nonexistent/trace.ipctrace"]).status == 66)
    }
}
