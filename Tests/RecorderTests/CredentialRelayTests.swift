import CSystemShims
import Glibc
import IPCTransport
import IPCWire
@testable import Recorder
import TestSupport
import Testing

/// SCM_CREDENTIALS through the real relay: a receiver that set SO_PASSCRED sees, on each read, the pid, uid
/// and gid of the process that wrote those bytes — where the kernel lets the relay claim them (root).
/// Otherwise it sees the relay's own, and the traffic is unchanged. The writer is a child process
/// (PreloadFixture send-frame, without the interposer), so its pid differs from the relay's.
@Suite(.serialized) struct CredentialRelayTests {
    /// What PreloadFixture's send-frame mode writes, with one fd: a pipe holding `childPipeText`.
    static let childFrame = FrameEncoder.payloadFrame(Array("sent by a child".utf8), fdCount: 1)
    static let childPipeText = "through the child's pipe"
    static let isRoot = geteuid() == 0

    @Test func eachReadCarriesTheCredentialsOfTheProcessThatWroteIt() throws {
        let harness = try RelayHarness()
        defer { harness.close() }
        try SocketOptions.setPassCredentials(harness.programB, true)
        // First a frame from this process (the relay's own pid), then one from a child.
        let ownFrame = FrameEncoder.payloadFrame(Array("sent by the test".utf8))
        try send(harness.programA, ownFrame)
        let child = try Self.spawnWriter(into: harness.programA, waitForEOF: true)
        defer { child.kill(SIGKILL); child.wait() }

        let received = try receiveNotingCredentials(harness.programB, count: ownFrame.count + Self.childFrame.count)
        shutdown(harness.programB, Int32(SHUT_WR))  // the child waits for this EOF, so it is alive until now
        #expect(child.wait(timeout: .seconds(30)) == .exited(0))

        #expect(received.bytes == ownFrame + Self.childFrame)
        #expect(received.fdsAt.map(\.0) == [ownFrame.count])
        let passed = try #require(received.fdsAt.first?.1.first)
        #expect(try readAll(passed) == Self.childPipeText)

        let own = Credentials.ofThisProcess
        let writer = Credentials(pid: child.pid, uid: getuid(), gid: getgid())
        let ownPart = received.reads.filter { $0.range.upperBound <= ownFrame.count }
        let childPart = received.reads.filter { $0.range.lowerBound >= ownFrame.count }
        if Self.isRoot {
            // No read joins the two writers' bytes, as without a proxy.
            #expect(ownPart.count + childPart.count == received.reads.count, "\(received.reads)")
            #expect(ownPart.allSatisfy { $0.credentials == own }, "\(received.reads)")
            #expect(!childPart.isEmpty && childPart.allSatisfy { $0.credentials == writer },
                    "expected \(writer) for the child's bytes: \(received.reads)")
            #expect(harness.sink.credentialLosses.withLock { $0 }.isEmpty)
        } else {
            // The documented fallback: the relay may not claim another pid, so receivers see its own.
            #expect(received.reads.allSatisfy { $0.credentials == own }, "\(received.reads)")
            #expect(harness.sink.wait { $0.credentialLosses.withLock { !$0.isEmpty } })
            #expect(harness.sink.credentialLosses.withLock { $0 } == [CredentialsNotPreserved(errno: EPERM, writer: writer)])
        }
        #expect(harness.sink.violations.isEmpty)
    }

    /// The kernel refuses to attach the pid of a writer that has exited and been reaped (ESRCH). The relay
    /// then forwards the same bytes and fds without credentials: nothing is dropped or held back.
    @Test func aWriterThatExitedBeforeItsBytesWereForwardedStillGetsThemThrough() throws {
        let harness = try RelayHarness { _, endB in
            // The relay's writes to B stall after a few KiB until B reads: what follows waits in A's queue.
            var smallest: Int32 = 1
            #expect(setsockopt(endB, SOL_SOCKET, SO_SNDBUF, &smallest, socklen_t(MemoryLayout<Int32>.size)) == 0)
        }
        defer { harness.close() }
        try SocketOptions.setPassCredentials(harness.programB, true)
        let blocker = FrameEncoder.payloadFrame([UInt8](repeating: 3, count: 64 * 1024))
        try send(harness.programA, blocker)
        let child = try Self.spawnWriter(into: harness.programA, waitForEOF: false)
        // Exited and reaped before B reads anything, so before the relay can have read the child's bytes.
        #expect(child.wait(timeout: .seconds(30)) == .exited(0))

        let received = try receiveNotingCredentials(harness.programB, count: blocker.count + Self.childFrame.count)
        #expect(received.bytes.count == blocker.count + Self.childFrame.count)
        #expect(received.bytes.prefix(blocker.count).elementsEqual(blocker))
        #expect(received.bytes.suffix(Self.childFrame.count).elementsEqual(Self.childFrame))
        // The child's credentials cannot be claimed, so its bytes carry ours like the blocker's, and one read
        // may join them (the documented fallback): the fd comes with the read holding the child frame's
        // first byte, wherever that read starts.
        #expect(received.fdsAt.count == 1)
        let fdOffset = received.fdsAt.first?.0 ?? -1
        #expect(received.reads.contains { $0.range.lowerBound == fdOffset && $0.range.contains(blocker.count) },
                "\(received.fdsAt.map(\.0)) \(received.reads)")
        let passed = try #require(received.fdsAt.first?.1.first)
        #expect(try readAll(passed) == Self.childPipeText)

        let writer = Credentials(pid: child.pid, uid: getuid(), gid: getgid())
        let childPart = received.reads.filter { $0.range.upperBound > blocker.count }
        #expect(!childPart.isEmpty && childPart.allSatisfy { $0.credentials == .ofThisProcess }, "\(received.reads)")
        #expect(harness.sink.wait { $0.credentialLosses.withLock { !$0.isEmpty } })
        let expectedErrno = Self.isRoot ? ESRCH : EPERM
        #expect(harness.sink.credentialLosses.withLock { $0 } == [CredentialsNotPreserved(errno: expectedErrno, writer: writer)])
        #expect(harness.sink.violations.isEmpty)
    }

    @Test func aReceiverWithoutPassCredGetsNoCredentialsAndTheSameBytes() throws {
        let harness = try RelayHarness()
        defer { harness.close() }
        let child = try Self.spawnWriter(into: harness.programA, waitForEOF: true)
        defer { child.kill(SIGKILL); child.wait() }
        let received = try receiveNotingCredentials(harness.programB, count: Self.childFrame.count)
        shutdown(harness.programB, Int32(SHUT_WR))
        #expect(child.wait(timeout: .seconds(30)) == .exited(0))
        #expect(received.bytes == Self.childFrame)
        #expect(received.reads.allSatisfy { $0.credentials == nil }, "\(received.reads)")
        Descriptor.closeAll(received.fdsAt.flatMap(\.1))
    }

    /// The relay's bookkeeping: after EPERM or EINVAL a direction claims nothing more (no failing sendmsg
    /// per chunk); after ESRCH only that pid is skipped; each kind is reported once per direction.
    @Test func aDirectionStopsClaimingAfterARefusalButOnlySkipsAnExitedWriter() {
        let own = Credentials(pid: 100, uid: 1000, gid: 1000)
        let first = Credentials(pid: 200, uid: 1000, gid: 1000)
        let second = Credentials(pid: 300, uid: 1000, gid: 1000)
        var forwarding = CredentialForwarding(own: own)
        #expect(forwarding.claim(for: own) == nil, "the kernel attaches our own anyway")
        #expect(forwarding.claim(for: nil) == nil)
        #expect(forwarding.claim(for: Credentials(pid: 0, uid: 65534, gid: 65534)) == nil, "none came")
        #expect(forwarding.claim(for: first) == first)

        #expect(forwarding.refused(first, errno: ESRCH) == CredentialsNotPreserved(errno: ESRCH, writer: first))
        #expect(forwarding.claim(for: first) == nil)
        #expect(forwarding.claim(for: second) == second)
        #expect(forwarding.refused(second, errno: ESRCH) == nil, "exited writers are reported once")

        #expect(forwarding.refused(first, errno: EPERM) == CredentialsNotPreserved(errno: EPERM, writer: first))
        #expect(forwarding.claim(for: Credentials(pid: 400, uid: 1000, gid: 1000)) == nil)
        #expect(forwarding.refusal == EPERM)
    }

    /// PreloadFixture send-frame on `socket` (as its fd 3), in a process of its own.
    static func spawnWriter(into socket: Int32, waitForEOF: Bool) throws -> ChildProcess {
        guard let fixture = BuiltProducts.fixture else { throw BuiltProducts.Missing(what: "PreloadFixture") }
        return try ProcessSpawner.spawn(
            executable: fixture, arguments: ["send-frame"] + (waitForEOF ? ["wait"] : []),
            environment: [PreloadLibrary.environmentVariable: "", ControlEnvironment.controlVariable: ""],
            passing: [(childFD: 3, parentFD: socket)], standardOutput: .discard, standardError: .inherit)
    }
}

/// One read of a SO_PASSCRED socket: which bytes it returned and the credentials it carried.
struct CredentialedRead: CustomStringConvertible {
    var range: Range<Int>
    var credentials: Credentials?

    var description: String { "\(range): \(credentials.map(String.init(describing:)) ?? "none")" }
}

/// Reads exactly `count` bytes (blocking) as `receive` does, also noting each read's SCM_CREDENTIALS.
func receiveNotingCredentials(
    _ fd: Int32, count: Int
) throws -> (bytes: [UInt8], fdsAt: [(Int, [Int32])], reads: [CredentialedRead]) {
    try Descriptor.setNonBlocking(fd, false)
    let control = ControlMessageBuffer(maxFDs: 253, credentials: true)
    var bytes: [UInt8] = []
    var fdsAt: [(Int, [Int32])] = []
    var reads: [CredentialedRead] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 20)
    while bytes.count < count {
        let want = count - bytes.count
        let chunk = try buffer.withUnsafeMutableBytes { raw in
            try SocketMessaging.receiveMessage(fd, into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<min(want, raw.count)]),
                                               control: control, flags: Int32(MSG_CMSG_CLOEXEC))
        }
        if chunk.byteCount == 0 && chunk.fds.isEmpty { break }
        if !chunk.fds.isEmpty { fdsAt.append((bytes.count, chunk.fds)) }
        reads.append(CredentialedRead(range: bytes.count..<bytes.count + chunk.byteCount, credentials: chunk.credentials))
        bytes += buffer[0..<chunk.byteCount]
    }
    return (bytes, fdsAt, reads)
}

/// Everything `fd` yields until EOF, as text; closes `fd`.
func readAll(_ fd: Int32) throws -> String {
    defer { Descriptor.close(fd) }
    var collected: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 256)
    while true {
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { continue }
        guard count >= 0 else { throw SystemError.current("read") }
        if count == 0 { break }
        collected += buffer[0..<count]
    }
    return String(decoding: collected, as: UTF8.self)
}
