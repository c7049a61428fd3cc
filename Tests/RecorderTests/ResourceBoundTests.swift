import Foundation
import Glibc
import IPCTransport
import TestSupport
import Testing
import TraceFormat

/// Resources through the real `ipcscope record` (preload mode, IPCTestPeer's resource modes): fds and
/// channels pass through and none is left open in the recorder or in either peer; the recorder's memory
/// does not grow with the traffic. The peer reads the recorder's /proc entries (it is its parent) and
/// prints the figures; the test asserts on them. Long versions: docs/recording.md, "Resources".
@Suite(.serialized) struct ResourceBoundTests {
    @Test func aHundredThousandFdsPassAndNoneLeaks() throws {
        let run = try ResourceRun(mode: "fd-flood", argument: 100_000)
        #expect(run.figures["recorder-fds before"] == run.figures["recorder-fds after"], "\(run.line)")
        #expect(run.figures["self-fds before"] == run.figures["self-fds after"], "\(run.line)")
        let report = try TraceReader(path: run.trace).validate()
        #expect(report.corruptions.isEmpty)
        #expect(report.fdCount == 100_000)
    }

    @Test func tenThousandChannelsOpenAndCloseAndNoneLeaks() throws {
        let run = try ResourceRun(mode: "channel-churn", argument: 10_000)
        #expect(run.figures["recorder-fds before"] == run.figures["recorder-fds after"], "\(run.line)")
        #expect(run.figures["self-fds before"] == run.figures["self-fds after"], "\(run.line)")
        let grown = (run.figures["recorder-rss-kib after"] ?? .max) - (run.figures["recorder-rss-kib before"] ?? 0)
        #expect(grown <= 8 * 1024, "the recorder grew by \(grown) KiB over 10 000 channels: \(run.line)")
        let report = try TraceReader(path: run.trace).validate()
        #expect(report.countsByKind[.channelOpened] == 10_001)
        #expect(report.countsByKind[.channelClosed] == 10_001)
    }

    /// CI's one-minute soak; `IPCSCOPE_SOAK_SECONDS=600` is the ten-minute one.
    @Test func theRecordersMemoryStaysFlatUnderSustainedTraffic() throws {
        let seconds = ProcessInfo.processInfo.environment["IPCSCOPE_SOAK_SECONDS"].flatMap(Int.init) ?? 60
        let run = try ResourceRun(mode: "soak", argument: seconds)
        let first = try #require(run.figures["recorder-rss-kib first"])
        let peak = try #require(run.figures["recorder-rss-kib max"])
        #expect(peak - first <= 8 * 1024, "the recorder grew by \(peak - first) KiB: \(run.line)")
        print("soak, \(seconds) s: \(run.line)")
    }
}

/// `ipcscope record -o TRACE -- IPCTestPeer MODE N`, and the figures its last line prints (`name=value`
/// pairs, a bare word before them naming the group: `recorder-fds before=3 after=3` gives "recorder-fds before").
private struct ResourceRun {
    let trace: String
    let line: String
    let figures: [String: Int]

    init(mode: String, argument: Int) throws {
        trace = makeScratchDirectory() + "/\(mode).ipctrace"
        let peer = try #require(BuiltProducts.executable("IPCTestPeer"))
        let recorder = try ProcessSpawner.spawn(
            executable: try ipcscopeExecutable(), arguments: ["record", "-o", trace, "--", peer, mode, String(argument)],
            standardOutput: .capture, standardError: .capture)
        let output = String(decoding: try recorder.readStandardOutput(), as: UTF8.self)
        let errors = String(decoding: try recorder.readStandardError(), as: UTF8.self)
        #expect(recorder.wait() == .exited(0), "\(mode): \(errors)")
        line = output.split(separator: "\n").last.map(String.init) ?? ""
        figures = PeerFigures.parse(line)
    }
}

/// The figures of IPCTestPeer's last line: `group name=value …` → `["group name": value]` (a word without
/// `=` starts a group).
enum PeerFigures {
    static func parse(_ line: String) -> [String: Int] {
        var figures: [String: Int] = [:]
        var group = ""
        for word in line.split(separator: " ") {
            if let equals = word.firstIndex(of: "=") {
                if let value = Int(word[word.index(after: equals)...]) { figures["\(group) \(word[..<equals])"] = value }
            } else {
                group = String(word)
            }
        }
        return figures
    }
}
