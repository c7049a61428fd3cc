import Glibc
import IPCTransport
import IPCWire

/// The demo's UI process: owns the page, starts the helpers, and runs the scenario step by step. Each step
/// lives in its own file (UIPeer+*.swift); this one holds the state and the overall run.
final class UIPeer {
    struct Helper {
        var role: DemoRole
        var process: ChildProcess
        var output: HelperOutput
        var connection: DemoConnection
    }

    let options: DemoOptions
    let runtime: PeerRuntime
    var demoProtocol: DemoProtocol { runtime.demoProtocol }
    var helpers: [DemoRole: Helper] = [:]
    let page: PageObserver
    var logCollector: TextCollector?
    var portRepliesReceived = 0
    var bulkInputs = 0
    /// RequestServer's reports of clients it dropped: (client number, reason).
    var disconnectReports: [(client: Int64, reason: String)] = []
    var cacheSizeReports: [(bytes: UInt64, entries: UInt64)] = []
    var misbehaviorOutcomes: [MisbehaviorOutcome] = []

    init(options: DemoOptions, demoProtocol: DemoProtocol) {
        self.options = options
        runtime = PeerRuntime(demoProtocol: demoProtocol)
        page = PageObserver(seed: options.seed)
    }

    func connection(_ role: DemoRole) throws(DemoFailure) -> DemoConnection {
        guard let connection = helpers[role]?.connection, connection.isOpen else {
            throw DemoFailure(step: "talk to \(role.takeoverName)", "no open connection")
        }
        return connection
    }

    func run(helperLauncher: some DemoHelperLauncher) -> DemoResult {
        let started = ContinuousClock.now
        var failure: DemoFailure?
        do {
            try launchHelpers(helperLauncher)
            try greetHelpers()
            try attachLogSink()
            try setUpPage()
            try connectWebContentToRequestServer()
            try loadPage()
            try queryPage()
            try transferMessagePort()
            try sendBulkInput()
            if options.misbehave { try misbehave() }
            try shutDown()
        } catch {
            failure = error
        }
        // After a failure: hang up everywhere so the helpers see EOF and exit too.
        do {
            try runtime.closeAll(step: "close all connections", timeout: .seconds(5), immediately: failure != nil)
        } catch {
            failure = failure ?? error
        }
        let finish = finishHelpers()
        let elapsed = ContinuousClock.now - started
        return report(failure: failure, helperProblems: finish.problems, helperReports: finish.reports, elapsed: elapsed)
    }

    /// Waits for each helper to exit (killing it after a grace period) and collects its statistics.
    private func finishHelpers() -> (reports: [DemoRole: HelperOutput.Report], problems: [String]) {
        var reports: [DemoRole: HelperOutput.Report] = [:]
        var problems: [String] = []
        for role in DemoRole.allCases {
            guard let helper = helpers[role] else { continue }
            let name = "\(role.takeoverName) (pid \(helper.process.pid))"
            var status = helper.process.wait(timeout: .seconds(10))
            if status == nil {
                problems.append("\(name) did not exit within 10 s after the UI hung up; killed it")
                helper.process.kill(SIGKILL)
                status = helper.process.wait()
            }
            if let status, status != .exited(0) { problems.append("\(name) \(status)") }
            if let report = helper.output.finish() {
                reports[role] = report
            } else {
                problems.append("\(name) did not report its statistics on stderr")
            }
        }
        return (reports, problems)
    }
}
