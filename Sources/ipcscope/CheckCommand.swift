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
            error — its end record says where and why); 65 when a file is damaged or not a trace; 66 when a \
            file cannot be opened (over 65 when both happen); 74 for an I/O error while reading.

            Totals are worded as `record`'s closing line words them (docs/trace-format.md §5.9): payload \
            frames and acks apart, bytes with their 12-byte headers, the fds that arrived, violations \
            (rules broken) apart from near-limit warnings (a value over 80 % of its limit, not over it).

            Examples:
              ipcscope check t.ipctrace
              ipcscope check --json *.ipctrace | jq '.[] | select(.ok | not) | .path'
            """
    )

    @Argument(help: "Trace files to check.")
    var files: [String]

    @Flag(help: "Print a machine-readable JSON array with one report per file.")
    var json = false

    func run() throws {
        var status: Int32 = 0
        var jsonReports: [CheckJSON.Entry] = []
        for (number, path) in files.enumerated() {
            do {
                let report = try TraceReader(path: path).validate()
                if !report.isIntact { status = worse(status, CLIStatus.dataError) }
                if json {
                    jsonReports.append(.report(report))
                } else {
                    if number > 0 { print("") }
                    print(CheckText.render(report), terminator: "")
                }
            } catch {
                status = worse(status, CLIStatus.reading(error))
                if json {
                    jsonReports.append(.unreadable(path: path, error: "\(error)"))
                } else {
                    ErrorLine.write("check", "\(error)")
                }
            }
        }
        if json { print(CheckJSON.render(jsonReports)) }
        if status != 0 { throw ExitCode(status) }
    }

    /// Several files: a file that cannot be opened (66) outranks a damaged one (65); I/O errors outrank both.
    private func worse(_ a: Int32, _ b: Int32) -> Int32 {
        let rank: [Int32: Int] = [0: 0, CLIStatus.dataError: 1, CLIStatus.noInput: 2, CLIStatus.failure: 3, CLIStatus.ioError: 4]
        return (rank[a] ?? 3) >= (rank[b] ?? 3) ? a : b
    }
}
