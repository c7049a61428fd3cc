import Foundation
import TestSupport
import Testing
import TraceFormat

/// Started by a bare name from PATH, as a user types it, the demo records command lines that read the same
/// way: the recorder's and the demo processes' start with `ipcscope`, not with a build tree's path.
@Suite struct InvocationNameTests {
    @Test func aDemoStartedFromPATHRecordsTheNameItWasStartedBy() throws {
        let binary = try #require(DemoBinary.path)
        let binDirectory = URL(fileURLWithPath: binary).deletingLastPathComponent().path
        let directory = try DemoScratch.make()
        let trace = directory + "/typed.ipctrace"
        let path = binDirectory + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let run = try CommandRunner.run(
            "/usr/bin/env", ["PATH=\(path)", "ipcscope", "demo", "-o", trace, "--messages", "20"])
        #expect(run.status == 0, "\(run.stderr)")
        let reader = try TraceReader(path: trace)
        let commandLine = try #require(reader.header?.commandLine)
        #expect(commandLine.first == "ipcscope", "\(commandLine)")
        let wrapped = try #require(commandLine.firstIndex(of: "--"))
        #expect(commandLine[commandLine.index(after: wrapped)] == "ipcscope", "\(commandLine)")
        let processes = reader.records().compactMap { if case .process(let p) = $0.record { p } else { nil } }
        #expect(processes.count == 3)
        #expect(processes.allSatisfy { $0.arguments.first == "ipcscope" }, "\(processes.map(\.arguments))")
    }
}
