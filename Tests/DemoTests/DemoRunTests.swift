import Testing

/// `ipcscope demo` end to end: three real processes talking LibIPC. Serialized so the runs do not compete
/// for the two cores with each other.
@Suite("Demo runs", .serialized)
struct DemoRunTests {
    @Test("demo --no-record succeeds with fds and transfers, and no fd left unacknowledged")
    func defaultRun() throws {
        let result = try DemoBinary.run(["demo", "--no-record"])
        #expect(!result.timedOut)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stderr.isEmpty, "nothing on stderr when all goes well: \(result.stderr)")
        let summary = DemoSummary(result.stdout)
        #expect(summary.ok, "\(result.stdout)")
        #expect(summary.fds > 0)
        #expect(summary.transfers > 0)
        #expect(abs(summary.messages - 300) <= 30, "about 300 messages by default, got \(summary.messages)")
        #expect(Set(summary.rows.keys) == ["UI", "WebContent", "RequestServer"], "\(result.stdout)")
        for (process, row) in summary.rows {
            #expect(row.retained == 0, "\(process) retained fds")
            #expect(row.messagesSent > 0 && row.messagesReceived > 0, "\(process) talked")
            #expect(row.fdsAcknowledged == row.fdsSent, "\(process): every fd sent was acknowledged")
            #expect(row.violations == 0)
        }
        // Transfers: RequestServer → UI → WebContent (connect_new_client), UI → WebContent (message port).
        #expect(summary.rows["RequestServer"]?.transfersOut == 1)
        #expect(summary.rows["UI"]?.transfersIn == 1)
        #expect(summary.rows["UI"]?.transfersOut == 2)
        #expect(summary.rows["WebContent"]?.transfersIn == 2)
        let sent = summary.rows.values.reduce(0) { $0 + $1.messagesSent }
        let received = summary.rows.values.reduce(0) { $0 + $1.messagesReceived }
        #expect(sent == summary.messages && received == sent, "every message sent was received")
        // Distinct processes.
        #expect(Set(summary.rows.values.map(\.pid)).count == 3)
    }

    @Test("--messages 2000 scales the traffic")
    func scaledRun() throws {
        let result = try DemoBinary.run(["demo", "--no-record", "--messages", "2000", "--seed", "7"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let summary = DemoSummary(result.stdout)
        #expect(summary.ok)
        #expect(abs(summary.messages - 2000) <= 200, "about 2000 messages, got \(summary.messages)")
        // The bulk is input from UI to WebContent: it dominates what the UI sends.
        #expect((summary.rows["UI"]?.messagesSent ?? 0) > 1_200)
        #expect((summary.rows["WebContent"]?.messagesReceived ?? 0) > 1_200)
        // Repaints carry memfds: more fds than the default run's handful.
        #expect(summary.fds > 40)
        for (process, row) in summary.rows { #expect(row.retained == 0, "\(process) retained fds") }
    }

    @Test("--misbehave: every broken rule is detected and the victim disconnects")
    func misbehavingRun() throws {
        let result = try DemoBinary.run(["demo", "--no-record", "--misbehave"])
        #expect(result.status == 0, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        for kind in ["too-many-fds-in-frame", "payload-too-large", "unknown-frame-type", "ack-with-payload",
                     "over-acknowledgement", "decoded-size-too-large"] {
            #expect(lines.contains { $0.contains(" \(kind) ") && $0.contains("detected: RequestServer client") && !$0.contains("NOT") },
                    "\(kind) detected")
        }
        #expect(result.stdout.contains("misbehave: 6 of 6 kinds detected"))
        let summary = DemoSummary(result.stdout)
        #expect(summary.ok)
        #expect(summary.rows["RequestServer"]?.violations == 6)
        for (process, row) in summary.rows { #expect(row.retained == 0, "\(process) retained fds") }
    }

    @Test("without --no-record the demo says recording is not built and runs anyway")
    func recordingNotBuilt() throws {
        let result = try DemoBinary.run(["demo", "--messages", "0"])
        #expect(result.status == 0)
        #expect(result.stderr.contains("ipcscope demo: recording is not built yet; running with --no-record"))
        #expect(DemoSummary(result.stdout).ok)
    }

    @Test("demo-peer refuses an unknown role and fails cleanly without SOCKET_TAKEOVER")
    func demoPeerErrors() throws {
        let unknown = try DemoBinary.run(["demo-peer", "compositor"])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("unknown role"))
        let alone = try DemoBinary.run(["demo-peer", "webcontent"])
        #expect(alone.status == 1)
        #expect(alone.stderr.contains("SOCKET_TAKEOVER"))
    }
}
