import Foundation
import Glibc
import IPCTransport
import IPCWire
import Recorder
import TestSupport
import Testing
import TraceFormat

/// `ipcscope record -o T -- PROGRAM` around unmodified C programs that talk LibIPC framing
/// (Tests/Fixtures/LibIPCForkFixture, LibIPCHandoffFixture): the programs' own checks still pass, and
/// the trace holds exactly the frames, fds and acks they report having sent (their `--manifest`).
@Suite(.serialized, .timeLimit(.minutes(10))) struct WrappedProgramTests {
    // MARK: the fixtures on their own

    @Test(arguments: [("LibIPCForkFixture", "fork fixture ok: sent 100 frames"), ("LibIPCHandoffFixture", "handoff fixture ok")])
    func fixturePassesWithoutTheRecorder(_ fixture: String, _ okLine: String) throws {
        let run = try ProgramRun.run(try builtProduct(fixture), [])
        #expect(run.status == .exited(0), "\(run.summary)")
        #expect(run.standardOutput.contains(okLine), "\(run.summary)")
    }

    // MARK: fork fixture

    @Test func forkFixtureIsRecordedFrameForFrame() throws {
        let directory = try TemporaryDirectory()
        let trace = directory.file("fork.ipctrace")
        let run = try ProgramRun.run(try ipcscopeExecutable(), [
            "record", "-o", trace, "--snaplen", "65536", "--lossless", "--",
            try builtProduct("LibIPCForkFixture"), "--manifest",
        ])
        #expect(run.status == .exited(0), "\(run.summary)")
        let manifest = SentManifest(run.standardOutput)
        let parent = manifest.frames(from: "parent")
        let child = manifest.frames(from: "child")
        #expect(parent.map(\.index) == Array(0..<50), "\(run.summary)")
        #expect(child.map(\.index) == Array(0..<50), "\(run.summary)")
        let parentFDs = parent.reduce(0) { $0 + $1.fdKinds.count }
        let childFDs = child.reduce(0) { $0 + $1.fdKinds.count }
        #expect(run.standardOutput.contains("fork fixture ok: sent 100 frames, \(parentFDs + childFDs) fds"), "\(run.summary)")
        // The schedule really exercises what this test is about.
        let kinds = Set((parent + child).flatMap(\.fdKinds))
        #expect(kinds == [.pipe, .memfd])
        #expect((parent + child).contains { $0.fdKinds.count == 3 })
        #expect((parent + child).contains { $0.size > 4096 })

        let recorded = try RecordedTrace(path: trace)
        recorded.expectIntact()
        try #require(recorded.opened.count == 1, "\(recorded.opened)")
        let channel = recorded.opened[0]
        #expect(channel.discovery == .preload)
        #expect(channel.transferredBy == nil)
        #expect(channel.endpointA.pid > 0)
        #expect(channel.endpointA.command.contains("LibIPCForkFixture"), "\(channel.endpointA)")

        // The parent writes sv[0], which the recorder reads as endpoint A.
        recorded.expectFrames(channel.channel, .aToB, equal: parent, "parent → child")
        recorded.expectFrames(channel.channel, .bToA, equal: child, "child → parent")
        // Each side acknowledges, in the other direction, exactly the fds it received.
        #expect(recorded.acknowledged(channel.channel, .bToA) == UInt64(parentFDs))
        #expect(recorded.acknowledged(channel.channel, .aToB) == UInt64(childFDs))
        #expect(recorded.acks.allSatisfy { $0.count > 0 })
        #expect(recorded.acks.count > 1, "acks come after each read pass, not once at the end")
        #expect(recorded.violations.isEmpty, "\(recorded.violations)")
        #expect(recorded.captureLosses.isEmpty, "\(recorded.captureLosses)")
        // Both sides half-close when done: one EOF per direction, each a plain close.
        recorded.expectCleanEOFs(channel.channel)
        #expect(run.standardError.contains("1 channel, 100 payload frames"), "\(run.standardError)")
        #expect(run.standardError.contains("\(parentFDs + childFDs) fds, 0 violations"), "\(run.standardError)")
    }

    @Test func noPreloadRunsTheFixtureButRecordsNoChannel() throws {
        let directory = try TemporaryDirectory()
        let trace = directory.file("no-preload.ipctrace")
        let run = try ProgramRun.run(try ipcscopeExecutable(), [
            "record", "--no-preload", "-o", trace, "--", try builtProduct("LibIPCForkFixture"),
        ])
        #expect(run.status == .exited(0), "\(run.summary)")
        #expect(run.standardOutput.contains("fork fixture ok: sent 100 frames"), "\(run.summary)")
        let recorded = try RecordedTrace(path: trace)
        recorded.expectIntact()
        #expect(recorded.opened.isEmpty, "\(recorded.opened)")
        #expect(recorded.frames.isEmpty && recorded.acks.isEmpty)
    }

    // MARK: handoff fixture

    @Test func handoffFixtureKeepsTheHandedOffChannel() throws {
        let directory = try TemporaryDirectory()
        let trace = directory.file("handoff.ipctrace")
        let run = try ProgramRun.run(try ipcscopeExecutable(), [
            "record", "-o", trace, "--snaplen", "65536", "--lossless", "--",
            try builtProduct("LibIPCHandoffFixture"), "--manifest",
        ])
        #expect(run.status == .exited(0), "\(run.summary)")
        #expect(run.standardOutput.contains("handoff fixture ok"), "\(run.summary)")
        let manifest = SentManifest(run.standardOutput)
        let handoff = manifest.frames(from: "A parent")
        let report = manifest.frames(from: "A child1")
        let requests = manifest.frames(from: "B child1")
        let responses = manifest.frames(from: "B child2")
        #expect(handoff.count == 1 && handoff.first?.fdKinds == [.socket], "\(run.summary)")
        #expect(report.count == 1 && report.first?.fdKinds == [], "\(run.summary)")
        #expect(requests.map(\.index) == Array(0..<20), "\(run.summary)")
        #expect(responses.map(\.index) == Array(0..<20), "\(run.summary)")

        let recorded = try RecordedTrace(path: trace)
        recorded.expectIntact()
        // Both socketpairs, found by the interposer; B's end travelling over A is no new channel: the
        // recorder already relays it.
        try #require(recorded.opened.count == 2, "\(recorded.opened)")
        #expect(recorded.opened.allSatisfy { $0.discovery == .preload }, "\(recorded.opened)")
        let carriers = recorded.frames.filter { $0.fds.contains { $0.kind == .socket } }
        try #require(carriers.count == 1, "\(carriers)")
        let carrier = carriers[0]
        let channelA = carrier.channel
        let channelB = try #require(recorded.opened.map(\.channel).first { $0 != channelA })
        #expect(recorded.opened.map(\.channel) == [channelA, channelB], "A is created (and opened) first")
        #expect(carrier.direction == .aToB)
        #expect(carrier.fds.map(\.kind) == [.socket])
        #expect(carrier.fds.first?.interposed == false, "an already relayed end is forwarded as is")

        recorded.expectFrames(channelA, .aToB, equal: handoff, "parent → child 1 on A")
        recorded.expectFrames(channelA, .bToA, equal: report, "child 1 → parent on A")
        #expect(recorded.acknowledged(channelA, .bToA) == 1)
        #expect(recorded.acknowledged(channelA, .aToB) == 0)
        // Child 1 got B[0] (endpoint A of B), child 2 kept B[1]: their traffic goes straight over B.
        recorded.expectFrames(channelB, .aToB, equal: requests, "child 1 → child 2 on B")
        recorded.expectFrames(channelB, .bToA, equal: responses, "child 2 → child 1 on B")
        #expect(recorded.acknowledged(channelB, .bToA) == UInt64(requests.reduce(0) { $0 + $1.fdKinds.count }))
        #expect(recorded.acknowledged(channelB, .aToB) == UInt64(responses.reduce(0) { $0 + $1.fdKinds.count }))
        #expect(recorded.frames.allSatisfy { $0.channel == channelA || $0.channel == channelB })
        #expect(recorded.violations.isEmpty, "\(recorded.violations)")
        #expect(recorded.captureLosses.isEmpty, "\(recorded.captureLosses)")
        recorded.expectCleanEOFs(channelA)
        recorded.expectCleanEOFs(channelB)
    }

    // MARK: credentials

    @Test func withoutTheRecorderTheCredentialsFixtureSeesItsChild() throws {
        let run = try ProgramRun.run(try builtProduct("PreloadFixture"), ["creds"])
        #expect(run.status == .exited(0) && run.standardOutput.contains("fixture ok"), "\(run.summary)")
        let report = try #require(CredentialsReport(run.standardOutput), "\(run.summary)")
        #expect(report.values["pid"] == report.values["child"], "\(run.summary)")
        #expect(report.values["mixed"] == 0)
        #expect(report.values["peer-pid"] == report.values["self"], "a socketpair's peer is its creator")
    }

    /// Through `record` (the preload relays the fixture's socketpair), the parent's SO_PASSCRED reads carry
    /// the child's credentials when the recorder is root — CI runs as root — and the recorder's otherwise.
    /// SO_PEERCRED of a relayed socketpair still names its creator: the program made both pairs itself.
    @Test func underRecordAReceiverSeesTheWritersCredentials() throws {
        let directory = try TemporaryDirectory()
        let trace = directory.file("creds.ipctrace")
        let run = try ProgramRun.run(try ipcscopeExecutable(), [
            "record", "-o", trace, "--", try builtProduct("PreloadFixture"), "creds",
        ])
        #expect(run.status == .exited(0) && run.standardOutput.contains("fixture ok"), "\(run.summary)")
        let report = try #require(CredentialsReport(run.standardOutput), "\(run.summary)")
        let recorded = try RecordedTrace(path: trace)
        recorded.expectIntact()
        #expect(recorded.opened.count == 1 && recorded.opened.first?.discovery == .preload, "relayed: \(recorded.opened)")
        #expect(report.values["mixed"] == 0, "\(run.summary)")
        #expect(report.values["uid"] == Int64(getuid()) && report.values["gid"] == Int64(getgid()), "\(run.summary)")
        if geteuid() == 0 {
            #expect(report.values["pid"] == report.values["child"], "\(run.summary)")
            #expect(!run.standardError.contains("SCM_CREDENTIALS"), "\(run.standardError)")
        } else {
            #expect(report.values["pid"] == Int64(run.pid), "the recorder's pid: \(run.summary)")
            #expect(run.standardError.contains("SCM_CREDENTIALS not preserved in 1 direction"), "\(run.standardError)")
        }
        #expect(report.values["peer-pid"] == report.values["self"], "\(run.summary)")
    }

    /// The fallback, end to end, even where the tests run as root: a recorder without privileges may not
    /// claim its child's pid. The reader sees the recorder's pid, the traffic is intact, the summary says so.
    @Test(.enabled(if: geteuid() == 0 && access("/usr/bin/setpriv", X_OK) == 0, "needs root to drop privileges"))
    func anUnprivilegedRecorderForwardsItsOwnCredentialsAndSaysSo() throws {
        let directory = try TemporaryDirectory()
        #expect(chmod(directory.path, 0o777) == 0)
        let trace = directory.file("creds.ipctrace")
        let nobody: UInt32 = 65534
        let run = try ProgramRun.run("/usr/bin/setpriv", [
            "--reuid=\(nobody)", "--regid=\(nobody)", "--clear-groups",
            try ipcscopeExecutable(), "record", "-o", trace, "--", try builtProduct("PreloadFixture"), "creds",
        ])
        #expect(run.status == .exited(0) && run.standardOutput.contains("fixture ok"), "\(run.summary)")
        let report = try #require(CredentialsReport(run.standardOutput), "\(run.summary)")
        // setpriv execs ipcscope: the recorder has the pid the test started.
        #expect(report.values["pid"] == Int64(run.pid), "\(run.summary)")
        #expect(report.values["uid"] == Int64(nobody) && report.values["gid"] == Int64(nobody), "\(run.summary)")
        #expect(report.values["mixed"] == 0, "\(run.summary)")
        #expect(run.standardError.contains("senders' SCM_CREDENTIALS not preserved in 1 direction (needs root)"),
                "\(run.standardError)")
        let recorded = try RecordedTrace(path: trace)
        recorded.expectIntact()
        #expect(recorded.opened.count == 1, "\(recorded.opened)")
    }

    // MARK: exit status

    @Test func exitStatusIsTheCommands() throws {
        let directory = try TemporaryDirectory()
        let run = try ProgramRun.run(try ipcscopeExecutable(),
                                     ["record", "-o", directory.file("exit.ipctrace"), "--", "/bin/sh", "-c", "exit 7"])
        #expect(run.status == .exited(7), "\(run.summary)")
    }

    @Test func deathBySignalIsTheCommands() throws {
        let directory = try TemporaryDirectory()
        let run = try ProgramRun.run(try ipcscopeExecutable(),
                                     ["record", "-o", directory.file("signal.ipctrace"), "--", "/bin/sh", "-c", "kill -TERM $$"])
        #expect(run.status == .signaled(SIGTERM), "\(run.summary)")
    }

    // MARK: a closed peer

    /// Writing to a socket whose peer has closed kills the writer with SIGPIPE — also when the recorder
    /// relays the socketpair (preload): the proxy closes the matching end as soon as the peer closes, and
    /// does not accept the byte and drop it.
    @Test func aWriteToAClosedPeerDiesOfSIGPIPEAsWithoutTheRecorder() throws {
        let perl = "/usr/bin/perl"
        try #require(access(perl, X_OK) == 0, "this test runs a perl one-liner")
        // The pause is the program's own (it stands for work done meanwhile); the proxy reacts to the close
        // at once, not at the write.
        let script = #"use Socket; socketpair(my $x, my $y, AF_UNIX, SOCK_STREAM, 0) or die "socketpair: $!"; "#
            + #"close $y; select(undef, undef, undef, 0.2); syswrite($x, "x") or die "write: $!""#
        let plain = try ProgramRun.run(perl, ["-e", script])
        #expect(plain.status == .signaled(SIGPIPE), "\(plain.summary)")

        let directory = try TemporaryDirectory()
        let trace = directory.file("closed-peer.ipctrace")
        let run = try ProgramRun.run(try ipcscopeExecutable(), ["record", "-o", trace, "--", perl, "-e", script])
        #expect(run.status == plain.status, "\(run.summary)")
        let recorded = try RecordedTrace(path: trace)
        recorded.expectIntact()
        try #require(recorded.opened.count == 1, "\(recorded.opened)")
        let channel = recorded.opened[0].channel
        // $y is endpoint B: it closed; $x's direction ended because its receiver had gone (EPIPE).
        let ends = Dictionary(grouping: recorded.eofs.filter { $0.channel == channel }, by: \.direction)
        #expect(ends[.bToA]?.map(\.kind) == [.peerClosed], "\(recorded.eofs)")
        #expect(ends[.aToB]?.map(\.kind) == [.reset], "\(recorded.eofs)")
        #expect(ends[.aToB]?.first?.errorNumber == EPIPE, "\(recorded.eofs)")
        #expect(recorded.frames.isEmpty, "the byte must not have crossed: \(recorded.frames)")
    }
}

// MARK: - Support

/// A binary `swift build` put next to the test bundle.
private func builtProduct(_ name: String) throws -> String {
    guard let found = BuiltProducts.executable(name) else { throw BuiltProducts.Missing(what: name) }
    return found
}

/// One run of a program with stdout and stderr captured (posix_spawn, never Foundation.Process).
struct ProgramRun {
    var status: IPCTransport::ExitStatus?
    var pid: pid_t
    var standardOutput: String
    var standardError: String

    var summary: String {
        "status \(status.map(String.init(describing:)) ?? "timeout"), stdout: \(standardOutput.suffix(2000)), stderr: \(standardError.suffix(2000))"
    }

    /// Generous for a loaded 2-core machine; the fixtures give up on their own after 120 s.
    static func run(_ executable: String, _ arguments: [String], timeout: Duration = .seconds(240)) throws -> ProgramRun {
        // Not nested under an outer recording and no inherited preload, whatever this test's environment says.
        let process = try ProcessSpawner.spawn(
            executable: executable, arguments: arguments,
            environment: [ControlEnvironment.controlVariable: "", PreloadLibrary.environmentVariable: ""],
            standardOutput: .capture, standardError: .capture)
        var streams = [process.standardOutput, process.standardError].compactMap { $0 }
        var collected: [Int32: [UInt8]] = [:]
        for fd in streams { collected[fd] = [] }
        let deadline = ContinuousClock.now + timeout
        var status: IPCTransport::ExitStatus?
        var drainDeadline: ContinuousClock.Instant?
        var buffer = [UInt8](repeating: 0, count: 65536)
        // Read both pipes while waiting, so a chatty program never blocks on a full pipe.
        while true {
            var polled = streams.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if !polled.isEmpty { _ = poll(&polled, nfds_t(polled.count), 50) } else { usleep(20_000) }
            for entry in polled where entry.revents != 0 {
                let count = buffer.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    collected[entry.fd, default: []].append(contentsOf: buffer[0..<count])
                } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                    streams.removeAll { $0 == entry.fd }
                }
            }
            if status == nil, let exited = process.tryWait() {
                status = exited
                drainDeadline = ContinuousClock.now + .seconds(10)
            }
            if let drainDeadline, streams.isEmpty || ContinuousClock.now > drainDeadline { break }
            if status == nil, ContinuousClock.now > deadline {
                process.kill(SIGKILL)
                process.wait()
                break
            }
        }
        return ProgramRun(
            status: status, pid: process.pid,
            standardOutput: String(decoding: process.standardOutput.flatMap { collected[$0] } ?? [], as: UTF8.self),
            standardError: String(decoding: process.standardError.flatMap { collected[$0] } ?? [], as: UTF8.self))
    }
}

/// PreloadFixture creds' line: `creds pid=… uid=… gid=… reads=… mixed=… child=… self=… peer-pid=… …`.
private struct CredentialsReport {
    var values: [String: Int64] = [:]

    init?(_ output: String) {
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("creds ") }) else { return nil }
        for field in line.split(separator: " ").dropFirst() {
            let parts = field.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let value = Int64(parts[1]) else { return nil }
            values[String(parts[0])] = value
        }
    }
}

/// A frame as a fixture's `--manifest` line describes it, or as the trace recorded it.
private struct FrameSummary: Equatable, CustomStringConvertible {
    var size: UInt32
    var fdKinds: [FDKind]
    var hash: UInt64

    var description: String { "\(size)B \(fdKinds) \(String(hash, radix: 16))" }
}

private struct SentFrame {
    var index: Int
    var size: UInt32
    var fdKinds: [FDKind]
    var hash: UInt64

    var summary: FrameSummary { FrameSummary(size: size, fdKinds: fdKinds, hash: hash) }
}

/// `frame <stream…> <index> size=<n> fds=<kind,…|-> fnv=<hex>` lines, grouped by stream ("parent",
/// "A child1", …) and sorted by index.
private struct SentManifest {
    var streams: [String: [SentFrame]] = [:]

    init(_ output: String) {
        for line in output.split(separator: "\n") where line.hasPrefix("frame ") {
            let words = line.split(separator: " ").map(String.init)
            guard words.count >= 6,
                  let index = Int(words[words.count - 4]),
                  let size = UInt32(words[words.count - 3].dropFirst("size=".count)),
                  let hash = UInt64(words[words.count - 1].dropFirst("fnv=".count), radix: 16)
            else { continue }
            let kindList = words[words.count - 2].dropFirst("fds=".count)
            let kinds: [FDKind] = kindList == "-" ? [] : kindList.split(separator: ",").map { name in
                switch name {
                case "pipe": .pipe
                case "memfd": .memfd
                case "socket": .socket
                default: .unknown
                }
            }
            let stream = words[1..<(words.count - 4)].joined(separator: " ")
            streams[stream, default: []].append(SentFrame(index: index, size: size, fdKinds: kinds, hash: hash))
        }
        for key in streams.keys { streams[key]?.sort { $0.index < $1.index } }
    }

    func frames(from stream: String) -> [SentFrame] { streams[stream] ?? [] }
}

private func fnv1a64(_ bytes: [UInt8]) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes {
        hash ^= UInt64(byte)
        hash = hash &* 0x0000_0100_0000_01b3
    }
    return hash
}

/// The records of a finished trace, by kind.
struct RecordedTrace {
    let report: CheckReport
    var opened: [ChannelOpenedRecord] = []
    var frames: [PayloadFrameRecord] = []
    var acks: [AcknowledgementRecord] = []
    var eofs: [EOFRecord] = []
    var violations: [ViolationRecord] = []
    var captureLosses: [CaptureLossRecord] = []
    var ends: [EndRecord] = []

    init(path: String) throws {
        let reader = try TraceReader(path: path)
        report = reader.validate()
        for (_, record) in reader.records() {
            switch record {
            case .channelOpened(let r): opened.append(r)
            case .payloadFrame(let r): frames.append(r)
            case .acknowledgement(let r): acks.append(r)
            case .eof(let r): eofs.append(r)
            case .violation(let r): violations.append(r)
            case .captureLoss(let r): captureLosses.append(r)
            case .end(let r): ends.append(r)
            default: break
            }
        }
    }

    func expectIntact(sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        #expect(report.corruptions.isEmpty, "\(report.corruptions)", sourceLocation: sourceLocation)
        #expect(report.truncatedTail == nil, sourceLocation: sourceLocation)
        #expect(ends.count == 1 && ends.first?.cleanStop == true, "\(ends)", sourceLocation: sourceLocation)
    }

    func frames(_ channel: UInt32, _ direction: Direction) -> [PayloadFrameRecord] {
        frames.filter { $0.channel == channel && $0.direction == direction }.sorted { $0.frameIndex < $1.frameIndex }
    }

    func acknowledged(_ channel: UInt32, _ direction: Direction) -> UInt64 {
        acks.filter { $0.channel == channel && $0.direction == direction }.reduce(0) { $0 + UInt64($1.count) }
    }

    /// The recorded payload frames of one direction are, in order, exactly `sent`: sizes, fd counts and
    /// kinds, and (fully captured) payload bytes.
    fileprivate func expectFrames(
        _ channel: UInt32, _ direction: Direction, equal sent: [SentFrame], _ what: String,
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) {
        let recorded = frames(channel, direction)
        #expect(recorded.count == sent.count, "\(what): \(recorded.count) frames recorded, \(sent.count) sent",
                sourceLocation: sourceLocation)
        #expect(recorded.allSatisfy { $0.header.rawType == 0 && $0.header.fdCount == UInt32($0.fds.count) },
                "\(what): payload headers", sourceLocation: sourceLocation)
        #expect(recorded.allSatisfy { $0.isPayloadComplete }, "\(what): payload capture", sourceLocation: sourceLocation)
        let summaries = recorded.map {
            FrameSummary(size: $0.header.payloadSize, fdKinds: $0.fds.map(\.kind), hash: fnv1a64($0.capturedPayload))
        }
        #expect(summaries == sent.map(\.summary), "\(what)", sourceLocation: sourceLocation)
    }

    /// One EOF per direction, each a plain close by the program.
    func expectCleanEOFs(_ channel: UInt32, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        for direction in Direction.allCases {
            let ends = eofs.filter { $0.channel == channel && $0.direction == direction }
            #expect(ends.map(\.kind) == [.peerClosed], "channel \(channel) \(direction): \(ends)",
                    sourceLocation: sourceLocation)
        }
    }
}
