import DemoPeers
import IPCTransport
import Testing

/// `DemoScenario.run` called directly, as a recording front end will call it: the UI runs in the test
/// process, the helpers are the built `ipcscope` started by a launcher of our choosing.
@Suite("Demo scenario API", .serialized)
struct DemoScenarioTests {
    /// Starts the helpers with their roles swapped: WebContent's socket reaches a RequestServer.
    struct SwappedLauncher: DemoHelperLauncher {
        var executable: String
        func launch(_ role: DemoRole) throws -> DemoHelper {
            let other: DemoRole = role == .webContent ? .requestServer : .webContent
            let (transport, process) = try ProcessSpawner.spawnHelper(
                name: other.takeoverName, executable: executable, arguments: ["demo-peer", other.rawValue],
                standardError: .capture)
            return DemoHelper(transport: transport, process: process)
        }
    }

    @Test("runs in-process with a custom launcher")
    func inProcess() throws {
        let binary = try #require(DemoBinary.path)
        let result = DemoScenario.run(DemoOptions(messages: 500, seed: 99), helperLauncher: SelfExecutableLauncher(executable: binary))
        #expect(result.succeeded, "\(result.failure ?? "")")
        #expect(result.report.contains("demo ok: "))
        #expect(DemoSummary(result.report).rows.count == 3)
    }

    @Test("a helper that cannot do its part makes the demo fail, naming the step")
    func failureIsReported() throws {
        let binary = try #require(DemoBinary.path)
        let result = DemoScenario.run(DemoOptions(messages: 0), helperLauncher: SwappedLauncher(executable: binary))
        #expect(!result.succeeded)
        let failure = result.failure ?? ""
        #expect(failure.contains("FAILED at step 'ping → WebContent'"), "\(failure)")
        #expect(failure.contains("exited with 1"), "the helpers' exit statuses are reported: \(failure)")
        #expect(result.report.contains("demo FAILED"))
    }
}
