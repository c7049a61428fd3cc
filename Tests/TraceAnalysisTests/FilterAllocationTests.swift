import Foundation
import TestSupport
import Testing

/// Evaluation allocates nothing per event, measured: FilterBench replaces the process's malloc family with
/// counting forwarders (CAllocationCounter) and reports the mallocs of each evaluation loop, after a warm-up
/// pass (the runtime allocates once when a type is first used). Run here as built by the tests (debug:
/// nothing specialised or inlined, the least favourable case). The `param.…` filter decodes payloads, so
/// its count is not 0: that shows the counter sees what evaluation allocates.
@Suite struct FilterAllocationTests {
    @Test func evaluationDoesNotAllocatePerEvent() throws {
        guard let bench = BuiltProducts.executable("FilterBench") else { throw BuiltProducts.Missing(what: "FilterBench") }
        let trace = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Traces/demo.ipctrace").standardizedFileURL.path
        let run = try CommandRunner.run(bench, [trace, "20000"])
        // Non-zero when a compiled filter and its hand-written twin disagree on any event.
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let reports = run.stdout.split(separator: "\n").filter { $0.hasSuffix(" mallocs") }
        #expect(reports.count == 7, "\(run.stdout)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        for (index, line) in lines.enumerated() where line.hasSuffix(" mallocs") {
            let filter = lines[index - 1]
            let mallocs = Int(line.split(separator: " ").dropLast().last ?? "") ?? -1
            if filter.hasPrefix("param.") {
                #expect(mallocs > 0, "\(filter): \(line)")
            } else {
                #expect(mallocs == 0, "\(filter): \(line)")
            }
        }
    }
}
