import CSystemShims
import Glibc
import IPCTransport
import Recorder
import Synchronization
import Testing

private let sockCloexec = Int32(SOCK_CLOEXEC.rawValue)
private let sockNonblock = Int32(SOCK_NONBLOCK.rawValue)

private func socketPairRequests(_ requests: [ControlRequest]) -> [(pid: Int32, flags: Int32)] {
    requests.compactMap { request in
        if case .socketPair(let pid, let flags, _, _, let inodes) = request, inodes.count == 2 { return (pid, flags) }
        return nil
    }
}

private func connectPaths(_ requests: [ControlRequest]) -> [String] {
    requests.compactMap { request in
        if case .connect(_, let path, _) = request { return path }
        return nil
    }
}

@Suite struct PreloadLibraryTests {
    @Test func locatesTheBuiltLibraryNextToTheExecutable() throws {
        let library = try #require(PreloadLibrary.locate())
        #expect(library.hasSuffix("/" + PreloadLibrary.fileName))
        #expect(access(library, R_OK) == 0)
        #expect(PreloadLibrary.locate(nextTo: "/nonexistent/bin/ipcscope") == nil)
    }

    @Test func preloadValueGoesFirstAndKeepsOthers() {
        #expect(PreloadLibrary.preloadValue(library: "/a/lib.so", existing: nil) == "/a/lib.so")
        #expect(PreloadLibrary.preloadValue(library: "/a/lib.so", existing: "") == "/a/lib.so")
        #expect(PreloadLibrary.preloadValue(library: "/a/lib.so", existing: "/b.so /c.so") == "/a/lib.so:/b.so:/c.so")
        #expect(PreloadLibrary.preloadValue(library: "/a/lib.so", existing: "/a/lib.so:/b.so") == "/a/lib.so:/b.so")
        #expect(PreloadLibrary.preloadValue(library: "/with space/lib.so", existing: nil) == nil)
        #expect(PreloadLibrary.preloadValue(library: "/with:colon/lib.so", existing: nil) == nil)
    }
}

/// PreloadFixture (plain C, fork, SCM_RIGHTS, threads) run under the real interposer.
@Suite struct PreloadInterposerTests {
    @Test(arguments: ["cloexec", "nonblock", "both", "plain"])
    func socketPairIsRelayedThroughTheRecorder(_ variant: String) throws {
        let recorder = RecordingHandler(.relay)
        let server = try ControlServer(handler: recorder.handler)
        defer { server.stop() }
        let run = try FixtureRun.run(["pair", variant], control: server.path)
        #expect(run.succeeded, "\(run.summary)")
        let requests = socketPairRequests(recorder.requests)
        #expect(requests.count == 1)
        let expectedFlags = ["cloexec": sockCloexec, "nonblock": sockNonblock, "both": sockCloexec | sockNonblock, "plain": 0][variant]
        #expect(requests.first?.flags == expectedFlags)
        #expect(requests.first?.pid == run.pid)
    }

    @Test func eightThreadsGetEightRelayedPairs() throws {
        let recorder = RecordingHandler(.relay)
        let server = try ControlServer(handler: recorder.handler)
        defer { server.stop() }
        let run = try FixtureRun.run(["threads"], control: server.path)
        #expect(run.succeeded, "\(run.summary)")
        #expect(socketPairRequests(recorder.requests).count == 8)
    }

    @Test(arguments: [["pair"], ["pair", "nonblock"], ["threads"]])
    func unreachableRecorderFallsBackToRealSocketPairs(_ arguments: [String]) throws {
        let directory = try TemporaryDirectory()
        let run = try FixtureRun.run(arguments, control: directory.file("no-such-socket"), debug: true)
        #expect(run.succeeded, "\(run.summary)")
        #expect(run.standardError.contains("recorder unreachable"))
        #expect(run.standardError.contains("falling back"))
    }

    @Test func emptyControlVariableLeavesTheProgramAlone() throws {
        let run = try FixtureRun.run(["pair"], control: "", debug: true)
        #expect(run.succeeded, "\(run.summary)")
        #expect(!run.standardError.contains("ipcscope-preload"))
    }

    @Test func declinedSocketPairFallsBack() throws {
        let recorder = RecordingHandler(.decline)
        let server = try ControlServer(handler: recorder.handler)
        defer { server.stop() }
        let run = try FixtureRun.run(["pair"], control: server.path)
        #expect(run.succeeded, "\(run.summary)")
        #expect(socketPairRequests(recorder.requests).count == 1)
    }

    @Test func refusedSocketPairFallsBack() throws {
        let recorder = RecordingHandler(.refuse(EMFILE))
        let server = try ControlServer(handler: recorder.handler)
        defer { server.stop() }
        let run = try FixtureRun.run(["threads"], control: server.path)
        #expect(run.succeeded, "\(run.summary)")
        #expect(socketPairRequests(recorder.requests).count == 8)
    }
}

/// The server side of PreloadFixture's connect mode: accepts one connection, expects the greeting,
/// has a line echoed, then closes. Runs on its own thread while the fixture runs.
private final class EchoCheck: Sendable {
    struct Outcome: Sendable {
        var greeting: String?
        var echo: String?
        var peer: pid_t?
    }

    private final class Result: Sendable {
        let outcome = Mutex<Outcome?>(nil)
    }

    private let result = Result()
    private let thread: OSThread

    init(_ listener: UnixListener) throws {
        let result = self.result
        thread = try OSThread(name: "echo-check") {
            guard let connection = listener.accept(timeout: .seconds(20)) else { return }
            defer { Descriptor.close(connection) }
            var outcome = Outcome(peer: peerPID(connection))
            outcome.greeting = readLine(connection)
            _ = try? Descriptor.writeAll(connection, Array("echo me\n".utf8))
            outcome.echo = readLine(connection)
            result.outcome.withLock { $0 = outcome }
        }
    }

    func finish() -> Outcome? {
        thread.join()
        return result.outcome.withLock { $0 }
    }
}

@Suite struct PreloadConnectTests {
    @Test func interposedConnectReachesTheServerThroughTheRecorder() throws {
        let directory = try TemporaryDirectory()
        let listener = try UnixListener(path: directory.file("server.sock"))
        let check = try EchoCheck(listener)
        let recorder = RecordingHandler(.relay)
        let server = try ControlServer(handler: recorder.handler)
        defer { server.stop() }

        let run = try FixtureRun.run(["connect", listener.path], control: server.path, interposeConnect: true)
        let outcome = check.finish()
        #expect(run.succeeded, "\(run.summary)")
        #expect(outcome?.greeting == "hello from fixture\n")
        #expect(outcome?.echo == "echo me\n")
        // The recorder (this process) made the upstream connection.
        #expect(outcome?.peer == getpid())
        #expect(connectPaths(recorder.requests) == [listener.path])
    }

    @Test func relativePathIsResolvedAgainstTheProgramsDirectory() throws {
        let directory = try TemporaryDirectory()
        let listener = try UnixListener(path: directory.file("relative.sock"))
        let check = try EchoCheck(listener)
        let recorder = RecordingHandler(.relay)
        let server = try ControlServer(handler: recorder.handler)
        defer { server.stop() }

        let run = try FixtureRun.run(["connect-in", directory.path, "relative.sock"], control: server.path, interposeConnect: true)
        let outcome = check.finish()
        #expect(run.succeeded, "\(run.summary)")
        #expect(outcome?.peer == getpid())
        #expect(connectPaths(recorder.requests) == [listener.path])
    }

    @Test func withoutTheConnectSwitchTheProgramConnectsItself() throws {
        let directory = try TemporaryDirectory()
        let listener = try UnixListener(path: directory.file("direct.sock"))
        let check = try EchoCheck(listener)
        let recorder = RecordingHandler(.relay)
        let server = try ControlServer(handler: recorder.handler)
        defer { server.stop() }

        let run = try FixtureRun.run(["connect", listener.path], control: server.path, interposeConnect: false)
        let outcome = check.finish()
        #expect(run.succeeded, "\(run.summary)")
        #expect(outcome?.peer == run.pid)
        #expect(recorder.requests.isEmpty)
    }

    @Test func declinedConnectIsMadeByTheProgram() throws {
        let directory = try TemporaryDirectory()
        let listener = try UnixListener(path: directory.file("declined.sock"))
        let check = try EchoCheck(listener)
        let recorder = RecordingHandler(.decline)
        let server = try ControlServer(handler: recorder.handler)
        defer { server.stop() }

        let run = try FixtureRun.run(["connect", listener.path], control: server.path, interposeConnect: true)
        let outcome = check.finish()
        #expect(run.succeeded, "\(run.summary)")
        #expect(outcome?.peer == run.pid)
        #expect(connectPaths(recorder.requests) == [listener.path])
    }

    /// ENOENT (no such path) and ECONNREFUSED (bound, nobody listening) reach the program exactly as
    /// they do without the interposer, and did go through the recorder.
    @Test(arguments: ["missing", "not-listening"])
    func connectErrorsMatchTheUninterposedProgram(_ situation: String) throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("\(situation).sock")
        let bound = situation == "not-listening" ? try UnixListener(path: path, listening: false) : nil
        defer { withExtendedLifetime(bound) {} }
        let expectedErrno = situation == "missing" ? ENOENT : ECONNREFUSED

        let direct = try FixtureRun.run(["connect", path], preload: false)
        #expect(direct.status == .exited(3))
        #expect(direct.standardOutput == "connect errno \(expectedErrno)\n")

        let recorder = RecordingHandler(.relay)
        let server = try ControlServer(handler: recorder.handler)
        defer { server.stop() }
        let interposed = try FixtureRun.run(["connect", path], control: server.path, interposeConnect: true)
        #expect(interposed.status == .exited(3))
        #expect(interposed.standardOutput == direct.standardOutput, "\(interposed.summary)")
        #expect(connectPaths(recorder.requests) == [path])
    }

    @Test func recorderErrnoIsWhatTheProgramSees() throws {
        let directory = try TemporaryDirectory()
        let listener = try UnixListener(path: directory.file("refused.sock"))
        let recorder = RecordingHandler(.refuse(EACCES))
        let server = try ControlServer(handler: recorder.handler)
        defer { server.stop() }
        let run = try FixtureRun.run(["connect", listener.path], control: server.path, interposeConnect: true)
        #expect(run.status == .exited(3))
        #expect(run.standardOutput == "connect errno \(EACCES)\n")
    }

    @Test func unreachableRecorderFallsBackToARealConnect() throws {
        let directory = try TemporaryDirectory()
        let listener = try UnixListener(path: directory.file("fallback.sock"))
        let check = try EchoCheck(listener)
        let run = try FixtureRun.run(
            ["connect", listener.path], control: directory.file("no-recorder"), interposeConnect: true)
        let outcome = check.finish()
        #expect(run.succeeded, "\(run.summary)")
        #expect(outcome?.peer == run.pid)
    }
}
