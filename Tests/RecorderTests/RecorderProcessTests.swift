import CSystemShims
import Foundation
import Glibc
import IPCTransport
import IPCWire
import Recorder
import Synchronization
import TestSupport
import Testing
import TraceFormat

/// The `ipcscope` executable `swift test` builds next to the test bundle.
func ipcscopeExecutable() throws -> String {
    guard let found = BuiltProducts.executable("ipcscope") else { throw BuiltProducts.Missing(what: "ipcscope") }
    return found
}

/// An upstream LibIPC server for socket-path recording: accepts clients and drains what they send.
final class DrainingServer: Sendable {
    let path: String
    private let listener: Int32
    let bytesReceived = Atomic<Int>(0)

    init(path: String) throws {
        self.path = path
        listener = try StreamSocketPath.listen(at: path).release()  // closed by stop()
        let listener = listener
        _ = try OSThread(name: "drain-accept") { [self] in
            while true {
                let client = accept(listener, nil, nil)
                if client < 0 { return }
                _ = try? OSThread(name: "drain") { [self] in
                    var buffer = [UInt8](repeating: 0, count: 65536)
                    while true {
                        let count = buffer.withUnsafeMutableBytes { read(client, $0.baseAddress, $0.count) }
                        if count <= 0 { break }
                        bytesReceived.add(count, ordering: .relaxed)
                    }
                    close(client)
                }
            }
        }
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }
}

func waitForFile(_ path: String, timeout: Duration = .seconds(10)) -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if access(path, F_OK) == 0 { return true }
        usleep(10_000)
    }
    return false
}

/// `ipcscope record --listen … --upstream …` in its own process, in front of a draining server.
struct SocketPathRecording {
    let trace: String
    let listen: String
    let server: DrainingServer
    let recorder: ChildProcess

    init(traceName: String, standardError: ProcessSpawner.Output) throws {
        let directory = makeScratchDirectory()
        trace = directory + "/" + traceName
        listen = directory + "/listen.sock"
        server = try DrainingServer(path: directory + "/upstream.sock")
        recorder = try ProcessSpawner.spawn(
            executable: try ipcscopeExecutable(),
            arguments: ["record", "-o", trace, "--listen", listen, "--upstream", server.path],
            standardOutput: .discard, standardError: standardError)
        #expect(waitForFile(listen))
    }
}

@Suite(.serialized) struct RecorderProcessTests {
    /// `ipcscope record --listen` in its own process, killed with SIGKILL mid-stream: every complete
    /// record reads back and `ipcscope check` accepts the trace.
    @Test func aKilledRecorderLeavesATraceThatChecks() throws {
        let proxy = try SocketPathRecording(traceName: "killed.ipctrace", standardError: .discard)
        defer { proxy.server.stop() }
        let (trace, listen, recorder) = (proxy.trace, proxy.listen, proxy.recorder)
        let socket = try StreamSocketPath.connect(to: listen)
        let client = try IPCTransport(adopting: socket)
        for index in 0..<2_000 {
            try client.send(payload: [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: 1000))
        }
        client.flush(timeout: .seconds(5))
        // Kill it while more traffic is in flight, so the trace may end inside a record.
        for index in 0..<200 {
            try? client.send(payload: [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: 1000))
        }
        usleep(20_000)
        recorder.kill(SIGKILL)
        #expect(recorder.wait() == .signaled(SIGKILL))
        client.close()

        let report = try TraceReader(path: trace).validate()
        #expect(report.corruptions.isEmpty)
        #expect(report.frameCount > 100)
        #expect(report.countsByKind[.end] == nil)  // it never stopped cleanly

        let check = try ProcessSpawner.spawn(executable: try ipcscopeExecutable(), arguments: ["check", trace],
                                             standardOutput: .discard, standardError: .discard)
        #expect(check.wait() == .exited(0))
    }

    @Test func sigintStopsCleanlyWithASummaryAndPrivateFiles() throws {
        let proxy = try SocketPathRecording(traceName: "clean.ipctrace", standardError: .capture)
        defer { proxy.server.stop() }
        let (trace, listen, recorder) = (proxy.trace, proxy.listen, proxy.recorder)
        var info = stat()
        #expect(stat(listen, &info) == 0 && info.st_mode & 0o777 == 0o600)
        for _ in 0..<2 {
            let client = try IPCTransport(adopting: try StreamSocketPath.connect(to: listen))
            for _ in 0..<10 { try client.send(payload: [1, 2, 3]) }
            client.flush(timeout: .seconds(5))
            client.close()
        }
        usleep(100_000)
        recorder.kill(SIGINT)
        #expect(recorder.wait() == .exited(0))
        let stderr = String(decoding: try recorder.readStandardError(), as: UTF8.self)
        #expect(stderr.contains("2 channels, 20 payload frames"))
        #expect(stderr.contains(trace))
        #expect(access(listen, F_OK) != 0, "the listening socket is removed")
        #expect(stat(trace, &info) == 0 && info.st_mode & 0o777 == 0o600)
        let report = try TraceReader(path: trace).validate()
        #expect(report.corruptions.isEmpty && report.truncatedTail == nil)
        #expect(report.countsByKind[.end] == 1)
        #expect(report.frameCount == 20)
    }

    /// A helper launched under a nested `record` whose outer recorder is gone still gets its socket.
    @Test func aTakenOverSocketThatCannotBeRelayedReachesTheCommandUnrecorded() throws {
        let pair = try SocketPair.makeRaw()
        defer { Descriptor.close(pair.first) }
        let run = try ProcessSpawner.spawn(
            executable: try ipcscopeExecutable(), arguments: ["record", "--", "/bin/sh", "-c", "echo hello >&3; exit 3"],
            environment: ["SOCKET_TAKEOVER": "WebContent:3", "IPCSCOPE_CONTROL": "/nonexistent/control.sock"],
            passing: [(childFD: 3, parentFD: pair.second)], standardOutput: .discard, standardError: .capture)
        Descriptor.close(pair.second)
        #expect(run.wait() == .exited(3))
        #expect(try Descriptor.readToEnd(pair.first) == Array("hello\n".utf8))
        #expect(String(decoding: try run.readStandardError(), as: UTF8.self).contains("not recording the WebContent socket"))
    }

    @Test func badArgumentsFailWithAMessage() throws {
        let run = try ProcessSpawner.spawn(executable: try ipcscopeExecutable(),
                                           arguments: ["record", "-o", "/tmp/x.ipctrace", "--listen", "/tmp/a"],
                                           standardOutput: .discard, standardError: .capture)
        let status = run.wait()
        #expect(status != .exited(0))
        #expect(String(decoding: try run.readStandardError(), as: UTF8.self).contains("--upstream"))
    }
}

