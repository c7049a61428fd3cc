import Foundation
import TestSupport
import Testing

/// The synthetic-traffic check on the repository's own endpoint files: random values for every message,
/// encoded by IPCEncoder, sent through the real `ipcscope record` (with real fds), decoded back from the
/// trace equal to what was sent, 0 undecoded.
@Suite struct SyntheticTrafficTests {
    @Test func fixturesAndDemoSchemasDecodeCompletelyAfterRecording() throws {
        let binary = try SchemaCommandTests.ipcscopeBinary()
        let tool = URL(fileURLWithPath: binary).deletingLastPathComponent().appendingPathComponent("IPCSyntheticTraffic").path
        let repository = SchemaCommandTests.repository
        let result = try CommandRunner.run(tool, [
            "check", "--ipcscope", binary, "--rounds", "3",
            repository.appendingPathComponent("Tests/IPCWireTests/Fixtures").path,
            repository.appendingPathComponent("Sources/DemoPeers/Schemas").path,
        ])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("undecoded: 0, different: 0"), "\(result.stdout)")
        // Something was really sent: every fixture message id that resolves, three times.
        let sent = result.stdout.split(separator: "\n").first { $0.hasPrefix("sent ") && $0.contains("through ipcscope record") }
        let counts = sent.map { $0.split(separator: " ").compactMap { Int($0) } } ?? []
        #expect(counts.count == 2 && counts[0] > 300 && counts[0] == counts[1], "\(result.stdout)")
    }
}
