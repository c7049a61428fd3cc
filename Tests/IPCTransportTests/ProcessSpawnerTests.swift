import Glibc
import IPCTransport
import IPCWire
import Testing

@Suite("Spawn: posix_spawn wrapper and helper launch")
struct ProcessSpawnerTests {
    func peerPath() throws -> String { try #require(TestPeer.path) }

    @Test func exitCodesAreReported() throws {
        let child = try ProcessSpawner.spawn(executable: peerPath(), arguments: ["exit", "7"])
        #expect(child.wait() == .exited(7))
        #expect(child.wait() == .exited(7))  // cached
    }

    @Test func passesExactlyTheChosenFDsAtTheChosenNumbers() throws {
        let pipe = try TestPipe()
        defer { pipe.close() }
        // A stray fd without close-on-exec must not reach the child.
        let stray = dup(pipe.readEnd)
        defer { Descriptor.close(stray) }
        let child = try ProcessSpawner.spawn(
            executable: peerPath(), arguments: ["list-fds"],
            passing: [(childFD: 3, parentFD: pipe.writeEnd), (childFD: 4, parentFD: pipe.readEnd)],
            standardOutput: .capture)
        let output = try child.readStandardOutput()
        #expect(child.wait() == .exited(0))
        #expect(text(output) == "0 1 2 3 4\n")

        // A gap below the highest passed fd is closed too.
        let gapped = try ProcessSpawner.spawn(
            executable: peerPath(), arguments: ["list-fds"], passing: [(childFD: 5, parentFD: pipe.readEnd)],
            standardOutput: .capture, standardError: .discard)
        #expect(text(try gapped.readStandardOutput()) == "0 1 2 5\n")
        #expect(gapped.wait() == .exited(0))
    }

    @Test func environmentAdditionsReachTheChild() throws {
        let child = try ProcessSpawner.spawn(
            executable: peerPath(), arguments: ["print-env", "IPCSCOPE_SPAWN_TEST"],
            environment: ["IPCSCOPE_SPAWN_TEST": "hello=world"], standardOutput: .capture)
        #expect(text(try child.readStandardOutput()) == "hello=world\n")
        #expect(child.wait() == .exited(0))
    }

    @Test func helperGetsItsSocketThroughSocketTakeover() throws {
        let (transport, child) = try ProcessSpawner.spawnHelper(
            name: "WebContent", executable: peerPath(), arguments: ["print-env", "SOCKET_TAKEOVER"],
            standardOutput: .capture)
        #expect(text(try child.readStandardOutput()) == "WebContent:3\n")
        #expect(child.wait() == .exited(0))
        #expect(transport.receive(timeout: testTimeout) == .eof(.peerClosed))
    }

    @Test func signalsReachTheChildDespiteTheTestThreadsMask() throws {
        let (transport, child) = try TestPeer.spawn(["echo"])
        defer { transport.close() }
        try transport.send(payload: [1])
        #expect(expectMessage(transport)?.payload == [1])  // it is up and running
        child.kill(SIGTERM)
        #expect(child.wait(timeout: testTimeout) == .signaled(SIGTERM))
        #expect(transport.receive(timeout: testTimeout) == .eof(.peerClosed))
    }

    @Test func missingExecutablesAreTypedErrors() {
        #expect(throws: SystemError(errno: ENOENT, operation: "posix_spawn /nonexistent/ipcscope-peer")) {
            try ProcessSpawner.spawn(executable: "/nonexistent/ipcscope-peer")
        }
    }
}
