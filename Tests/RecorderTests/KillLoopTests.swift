import CSystemShims
import Foundation
import Glibc
import IPCTransport
import IPCWire
import Recorder
import TestSupport
import Testing
import TraceFormat

/// Crash safety: `ipcscope record` SIGKILLed at a random point, run after run, in each recording mode.
/// After every kill the trace reads back up to its last complete record (`ipcscope check` exits 0) and
/// every process of the recorded tree ends (its channels see EOF), never hangs.
///
/// CI runs a few kills per mode; `IPCSCOPE_KILL_LOOP_RUNS=100 swift test --filter KillLoopTests` is the
/// long run (docs/recording.md, "Crash safety"). Each run's kill point comes from a seed printed on failure.
@Suite(.serialized) struct KillLoopTests {
    enum Mode: String, CaseIterable, CustomTestStringConvertible {
        case socketPath = "socket path"
        case preload = "wrap, preload"
        case takeover = "wrap, takeover"
        var testDescription: String { rawValue }
    }

    static var runs: Int {
        ProcessInfo.processInfo.environment["IPCSCOPE_KILL_LOOP_RUNS"].flatMap(Int.init).map { max(1, $0) } ?? 6
    }

    @Test(arguments: Mode.allCases) func everyKillLeavesACheckableTraceAndNoHungProcess(mode: Mode) throws {
        var outcomes: [String: Int] = [:]
        for run in 0..<Self.runs {
            let seed = 0x6B11_0000 &+ UInt64(run) &* 7919 &+ UInt64(Mode.allCases.firstIndex(of: mode)!)
            outcomes[try killOnce(mode: mode, seed: seed), default: 0] += 1
        }
        // The figures for docs/recording.md's table come from this line of the long run.
        print("kill loop, \(mode.rawValue): \(Self.runs) runs: \(outcomes.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))")
        // At least one kill must land while traffic flows (how many does depends on the machine's load).
        #expect(outcomes["killed mid-run", default: 0] >= 1, "outcomes: \(outcomes)")
    }

    /// One recording killed once its trace holds a random number of bytes. Returns what the kill hit.
    private func killOnce(mode: Mode, seed: UInt64) throws -> String {
        var random = SplitMix64(seed: seed)
        let directory = makeScratchDirectory()
        let trace = directory + "/killed.ipctrace"
        let ipcscope = try ipcscopeExecutable()
        var arguments = [ipcscope, "record", "-o", trace]
        var server: DrainingServer?
        switch mode {
        case .socketPath:
            server = try DrainingServer(path: directory + "/upstream.sock")
            arguments += ["--listen", directory + "/listen.sock", "--upstream", directory + "/upstream.sock"]
        case .preload:
            arguments += ["--", ipcscope, "demo", "--no-record", "--messages", "3000", "--seed", String(seed % 1000)]
        case .takeover:
            arguments += ["--no-preload", "--", ipcscope, "demo", "--no-record", "--messages", "3000", "--seed", String(seed % 1000),
                          "--wrap-helpers"]
        }
        defer { server?.stop() }
        // Its own session, so every process of the recorded tree can be found after the recorder is gone.
        let recorder = try ProcessSpawner.spawn(
            executable: "/usr/bin/setsid", arguments: arguments, standardOutput: .discard, standardError: .discard)
        var client: SocketPathClient?
        if mode == .socketPath {
            #expect(waitForFile(directory + "/listen.sock"), "seed \(seed): the proxy never listened")
            client = try SocketPathClient(path: directory + "/listen.sock", seed: seed)
        }

        // The kill point is a random amount of recorded trace, not a random delay: where in the recording the
        // kill lands does not depend on how fast this machine is today.
        waitForTrace(in: directory, toHold: random.next() % 200_000, while: { recorder.tryWait() == nil })
        let wasRunning = recorder.tryWait() == nil
        recorder.kill(SIGKILL)
        let status = recorder.wait()

        // Everything the recorder relayed sees EOF: the client, and every process of the tree exits.
        if let client {
            #expect(client.waitForEndOfStream(), "seed \(seed): the socket-path client never saw EOF")
        }
        let survivors = waitForSessionToEnd(recorder.pid, bound: .seconds(60))
        #expect(survivors.isEmpty, "seed \(seed) (\(mode.rawValue)): still running after the kill: \(survivors)")
        for pid in survivors.keys { kill(pid, SIGKILL) }

        guard access(trace, F_OK) == 0 else {
            // Killed before the trace was renamed into place: FILE must not exist half-made.
            return "killed before start"
        }
        let check = try ProcessSpawner.spawn(
            executable: ipcscope, arguments: ["check", trace], standardOutput: .discard, standardError: .capture)
        let checkStatus = check.wait()
        let complaint = String(decoding: try check.readStandardError(), as: UTF8.self)
        #expect(checkStatus == .exited(0), "seed \(seed) (\(mode.rawValue)): check \(trace): \(complaint)")
        if checkStatus == .exited(0) { removeTree(directory) }
        return wasRunning && status == .signaled(SIGKILL) ? "killed mid-run" : "finished before the kill"
    }
}

/// A client of a socket-path recording that writes LibIPC frames until its connection breaks.
private final class SocketPathClient: @unchecked Sendable {
    private let socket: Int32
    private let writer: Thread

    init(path: String, seed: UInt64) throws {
        socket = try StreamSocketPath.connect(to: path).release()  // closed in waitForEndOfStream
        let socket = socket
        var random = SplitMix64(seed: seed)
        let frames = (0..<16).map { _ in FrameEncoder.payloadFrame(random.bytes(Int(random.next() % 3000) + 8)) }
        writer = Thread {
            var index = 0
            while true {
                let frame = frames[index % frames.count]
                let sent = frame.withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if sent <= 0 { return }
                index += 1
            }
        }
        writer.start()
    }

    /// Reads until end of stream or an error (reset): bounded, so a proxy that left the connection open fails.
    func waitForEndOfStream() -> Bool {
        defer { close(socket) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        var entry = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        while poll(&entry, 1, 30_000) == 1 {
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count == 0 || (count < 0 && errno != EAGAIN && errno != EINTR) { return true }
        }
        return false
    }
}

/// Polls (a step of 1 ms, bounded at 60 s) until the trace files in `directory` (the output, or its temporary
/// `killed.*.ipctrace.tmp` before the rename) hold `bytes`, or `running` turns false.
private func waitForTrace(in directory: String, toHold bytes: UInt64, while running: () -> Bool) {
    let deadline = ContinuousClock.now + .seconds(60)
    while running(), ContinuousClock.now < deadline {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var held: UInt64 = 0
        for name in names where name.hasPrefix("killed.") {
            var info = stat()
            if stat(directory + "/" + name, &info) == 0 { held += UInt64(info.st_size) }
        }
        if held >= bytes { return }
        usleep(1000)
    }
}

/// Waits until no process is left in session `session` (a bounded wait: it ends as soon as they are gone).
/// Returns the survivors' pids and command lines.
private func waitForSessionToEnd(_ session: pid_t, bound: Duration) -> [pid_t: String] {
    let deadline = ContinuousClock.now + bound
    var survivors = processes(inSession: session)
    while !survivors.isEmpty, ContinuousClock.now < deadline {
        usleep(20_000)
        survivors = processes(inSession: session)
    }
    return survivors
}

/// Live (not zombie) processes whose session id is `session`, from /proc/PID/stat.
private func processes(inSession session: pid_t) -> [pid_t: String] {
    var found: [pid_t: String] = [:]
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return found }
    for entry in entries {
        guard let pid = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")")
        else { continue }
        // After "pid (comm) ": state ppid pgrp session …
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 3, fields[0] != "Z", pid_t(fields[3]) == session else { continue }
        let commandLine = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(entry)/cmdline"))).map {
            String(decoding: $0.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
        }
        found[pid] = commandLine ?? "?"
    }
    return found
}

private func removeTree(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)  // scratch directory: a failure leaves /tmp litter only
}
