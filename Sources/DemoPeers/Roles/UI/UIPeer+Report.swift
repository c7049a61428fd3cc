import Foundation
import Glibc

/// The end of the run: every process's figures in one table, the cross-checks, and the verdict.
extension UIPeer {
    func report(
        failure: DemoFailure?, helperProblems: [String], helperReports: [DemoRole: HelperOutput.Report], elapsed: Duration
    ) -> DemoResult {
        var problems: [String] = []
        if let failure { problems.append("FAILED at step '\(failure.step)': \(failure.reason)") }
        problems += helperProblems
        if failure == nil, let logProblem = checkLog() { problems.append("FAILED at step '\(logProblem.step)': \(logProblem.reason)") }

        var rows = [SummaryTable.Row(process: "UI (pid \(getpid()))", statistics: runtime.statistics)]
        for role in DemoRole.allCases {
            guard let report = helperReports[role] else { continue }
            rows.append(SummaryTable.Row(process: "\(role.takeoverName) (pid \(report.pid))", statistics: report.statistics))
            if !report.ok { problems.append("\(role.takeoverName) (pid \(report.pid)) reported a failed step (see its stderr above)") }
        }
        for row in rows where row.statistics.retainedFDs != 0 {
            problems.append("\(row.process): \(row.statistics.retainedFDs) sent fds were never acknowledged")
        }

        let sent = rows.reduce(0) { $0 + $1.statistics.messagesSent }
        let received = rows.reduce(0) { $0 + $1.statistics.messagesReceived }
        let fds = rows.reduce(0) { $0 + $1.statistics.fdsSent }
        let transfers = rows.reduce(0) { $0 + $1.statistics.transfersOut }
        // Every message sent was received, plus the raw over-long message of --misbehave.
        let expectedReceived = sent + (options.misbehave ? 1 : 0)
        if failure == nil, helperReports.count == DemoRole.allCases.count, received != expectedReceived {
            problems.append("\(sent) messages sent but \(received) received (expected \(expectedReceived))")
        }
        if options.misbehave, failure == nil {
            let missed = misbehaviorOutcomes.filter { !$0.detected }.map(\.kind.rawValue)
            if misbehaviorOutcomes.count != Misbehavior.allCases.count || !missed.isEmpty {
                problems.append("misbehaviour not detected: \(missed.joined(separator: ", "))")
            }
        }

        var text: [String] = []
        if !misbehaviorOutcomes.isEmpty { text += [MisbehaviorReport.render(misbehaviorOutcomes), ""] }
        text.append(SummaryTable.render(rows))
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let figures = "\(sent) messages, \(fds) fds, \(transfers) transfers in \(String(format: "%.2f", seconds))s"
        if problems.isEmpty {
            text.append("demo ok: \(figures)")
            return DemoResult(succeeded: true, report: text.joined(separator: "\n") + "\n", failure: nil)
        }
        text.append("demo FAILED: \(figures)")
        let message = problems.map { "ipcscope demo: \($0)" }.joined(separator: "\n")
        return DemoResult(succeeded: false, report: text.joined(separator: "\n") + "\n", failure: message)
    }
}
