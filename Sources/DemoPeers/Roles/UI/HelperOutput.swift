import Glibc
import IPCTransport

/// A helper's stderr as the UI sees it: its statistics line is kept for the summary, every other line is
/// passed through to our stderr with the helper's name in front.
final class HelperOutput: Sendable {
    struct Report: Sendable {
        var pid: Int32
        var ok: Bool
        var statistics: ProcessStatistics
    }

    private let collector: TextCollector?
    private let report = Locked<Report?>(nil)

    /// Takes ownership of `fd` (nil when the launcher did not capture stderr).
    init(fd: Int32?, name: String) throws(SystemError) {
        guard let fd else {
            collector = nil
            return
        }
        let report = self.report
        collector = try TextCollector(fd: fd, name: "demo \(name) err") { line in
            if let parsed = ProcessStatistics.parse(line: line) {
                report.withLock { $0 = Report(pid: parsed.pid, ok: parsed.ok, statistics: parsed.statistics) }
            } else {
                StandardError.write("[\(name)] \(line)\n")
            }
        }
    }

    /// Waits for the helper to close its stderr (it has exited), then returns its statistics line.
    func finish() -> Report? {
        _ = collector?.finish()
        return report.withLock { $0 }
    }
}
