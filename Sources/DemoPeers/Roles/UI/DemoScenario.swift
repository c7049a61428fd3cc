import Glibc

/// What `ipcscope demo` prints and whether it succeeded.
public struct DemoResult: Sendable {
    public var succeeded: Bool
    /// The report for stdout: misbehaviour table (if any), summary table and the final line.
    public var report: String
    /// What failed, for stderr; nil on success.
    public var failure: String?
}

/// The UI side of the demo, run in the calling process: starts WebContent and RequestServer with
/// `helperLauncher`, drives the scenario (see docs/demo.md), and reports.
public enum DemoScenario {
    public static func run(_ options: DemoOptions, helperLauncher: some DemoHelperLauncher) -> DemoResult {
        signal(SIGPIPE, SIG_IGN)
        let demoProtocol: DemoProtocol
        do {
            demoProtocol = try DemoProtocol.load()
        } catch {
            return DemoResult(succeeded: false, report: "", failure: "ipcscope demo: FAILED at step '\(error.step)': \(error.reason)")
        }
        return UIPeer(options: options, demoProtocol: demoProtocol).run(helperLauncher: helperLauncher)
    }

    /// About how many messages the scenario sends besides the bulk traffic (measured; only used to size
    /// the bulk so that the total comes close to `--messages`).
    static func fixedMessageEstimate(misbehave: Bool) -> Int {
        95 + (misbehave ? 36 : 0)
    }
}
