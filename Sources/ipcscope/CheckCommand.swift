import ArgumentParser
import Foundation
import TraceAnalysis
import TraceFormat

/// `ipcscope check FILE…`: verifies checksums and structure of trace files and summarises them.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Verify trace files: checksums, record structure, header; print a short summary.",
        discussion: """
            Exit status 0 when every file is intact (a truncated tail, left when a recorder is killed, \
            is reported but is not damage; so is a trace whose recorder stopped writing because of a write \
            error — its end record says where and why); 1 when a file is damaged, unreadable or not a trace.

            Totals are worded as `record`'s closing line words them (docs/trace-format.md §5.9): payload \
            frames and acks apart, bytes with their 12-byte headers, the fds that arrived, violations \
            (rules broken) apart from near-limit warnings (a value over 80 % of its limit, not over it).
            """
    )

    @Argument(help: "Trace files to check.")
    var files: [String]

    @Flag(help: "Print a machine-readable JSON array with one report per file.")
    var json = false

    func run() throws {
        var allGood = true
        var jsonReports: [CheckJSON.Entry] = []
        for (number, path) in files.enumerated() {
            do {
                let report = try TraceReader(path: path).validate()
                allGood = allGood && report.isIntact
                if json {
                    jsonReports.append(.report(report))
                } else {
                    if number > 0 { print("") }
                    print(CheckText.render(report), terminator: "")
                }
            } catch {
                allGood = false
                if json {
                    jsonReports.append(.unreadable(path: path, error: "\(error)"))
                } else {
                    printToStandardError("ipcscope check: \(error)")
                }
            }
        }
        if json { print(CheckJSON.render(jsonReports)) }
        if !allGood { throw ExitCode(1) }
    }
}

private func printToStandardError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
