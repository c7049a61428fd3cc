import Foundation
import Testing
import TraceFormat

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

    @Test("demo records itself through the preload library and through helper takeover, with the same channels",
          arguments: ["preload", "takeover"])
    func recordedRun(via: String) throws {
        let directory = try DemoScratch.make()
        let trace = directory + "/demo-\(via).ipctrace"
        let result = try DemoBinary.run(["demo", "-o", trace, "--via", via, "--messages", "60"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(DemoSummary(result.stdout).ok)
        #expect(result.stderr.contains("4 channels"), "\(result.stderr)")
        let records = try TraceReader(path: trace).records().map(\.record)
        let opened = records.compactMap { (record: TraceRecord) -> ChannelOpenedRecord? in
            if case .channelOpened(let channel) = record { return channel }
            return nil
        }
        // UI↔WebContent, UI↔RequestServer, WebContent↔RequestServer (handed over), the message port.
        #expect(opened.count == 4)
        let frames = records.compactMap { (record: TraceRecord) -> PayloadFrameRecord? in
            if case .payloadFrame(let frame) = record { return frame }
            return nil
        }
        #expect(frames.count > 60)
        #expect(!records.contains { if case .violation = $0 { true } else { false } })
        // Every channel carried traffic.
        #expect(Set(frames.map(\.channel)) == Set(opened.map(\.channel)))
        // The sides are named from decoded messages (the trace embeds the demo's schemas) and their
        // holders found when each channel first carried traffic (DemoIdentityTests checks every side).
        let identities = try TraceIdentities(records)
        let names = Set(identities.endpoints.values.flatMap(\.values).map(\.endpointName))
        #expect(names.isSuperset(of: ["DemoWebContentServer", "DemoRequestServer", "DemoWebContentClient"]), "\(names)")
        #expect(identities.sideProcesses.contains { $0.commandLine.contains("demo-peer") })
        // 1.1 writers write endpoint records (kind 16) instead of endpoint-resolved (kind 11).
        #expect(!records.contains { if case .endpointResolved = $0 { true } else { false } })
        if via == "takeover" {
            // Without the preload library the handed-over transports are followed: each becomes a channel
            // linked to the frame that carried it, whose attachment is the interposed socket.
            let transferred = opened.filter { $0.discovery == .transfer }
            #expect(transferred.count == 2)
            for channel in transferred {
                let origin = try #require(channel.transferredBy)
                let carrier = frames.first {
                    $0.channel == origin.parentChannel && $0.direction == origin.direction && $0.frameIndex == origin.frameIndex
                }
                #expect(carrier?.fds.contains { $0.kind == .socket && $0.interposed } == true)
            }
        } else {
            #expect(opened.allSatisfy { $0.discovery == .preload })
            // Relayed from their creation, the handed-over transports are linked to the frames that carried
            // them by channel-transferred records.
            let carried = records.compactMap { (record: TraceRecord) -> ChannelTransferredRecord? in
                if case .channelTransferred(let transferred) = record { return transferred }
                return nil
            }
            #expect(Set(carried.map(\.channel)).count == 2, "\(carried)")
            for link in carried {
                let carrier = frames.first {
                    $0.channel == link.carriedBy.parentChannel && $0.direction == link.carriedBy.direction
                        && $0.frameIndex == link.carriedBy.frameIndex
                }
                #expect(carrier?.fds.contains { $0.kind == .socket } == true)
            }
        }
    }

    /// Every misbehaving connection's first frame breaks a rule — three of them (fd_count 129 with no
    /// payload, frame type 7, an ack with a payload) look like no LibIPC header at all. They are still
    /// LibIPC channels (their sockets travelled in LibIPC frames), so each violation is in the trace.
    @Test("a recorded --misbehave run records every violation, each on a LibIPC channel",
          arguments: ["preload", "takeover"])
    func recordedMisbehavingRun(via: String) throws {
        let directory = try DemoScratch.make()
        let trace = directory + "/misbehave-\(via).ipctrace"
        let result = try DemoBinary.run(["demo", "-o", trace, "--via", via, "--misbehave", "--messages", "60"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(!result.stderr.contains("not LibIPC"), "\(result.stderr)")
        let records = try TraceReader(path: trace).records().map(\.record)
        var protocols: [UInt32: ChannelProtocol] = [:]
        var violations: [(channel: UInt32, kind: String)] = []
        for record in records {
            switch record {
            case .channelClassified(let r): protocols[r.channel] = r.channelProtocol
            case .violation(let r) where r.severity == .violation: violations.append((r.channel, r.kindName))
            default: break
            }
        }
        #expect(protocols.count == records.filter { if case .channelOpened = $0 { true } else { false } }.count)
        #expect(protocols.values.allSatisfy { $0 == .libIPC }, "\(protocols)")
        #expect(Set(violations.map(\.kind)) == ["too-many-fds-in-frame", "payload-too-large", "unknown-frame-type",
                                                "ack-with-payload", "over-acknowledgement", "decoded-size-too-large"],
                "\(violations)")
        // One misbehaving connection each, apart from the ack with a payload, which also over-acknowledges.
        #expect(violations.count == 7, "\(violations)")
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

/// A private scratch folder for a test's files.
enum DemoScratch {
    static func make() throws -> String {
        let path = NSTemporaryDirectory() + "ipcscope-demo-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
