import CSystemShims
import Glibc
import IPCTransport
import Recorder
import Synchronization
import Testing

private let sockCloexec = Int32(SOCK_CLOEXEC.rawValue)
private let sockNonblock = Int32(SOCK_NONBLOCK.rawValue)

private func header(
    magic: UInt32 = ControlProtocol.magic, version: UInt16 = ControlProtocol.version,
    kind: UInt16, pid: Int32 = getpid(), flags: Int32 = 0, nameLength: Int
) -> [UInt8] {
    ControlProtocol.Header(
        magic: magic, version: version, kind: kind, pid: pid, flags: flags, nameLength: UInt32(truncatingIfNeeded: nameLength)
    ).encoded()
}

private func request(_ kind: ControlProtocol.Kind, flags: Int32 = 0, name: String = "") -> [UInt8] {
    ControlProtocol.encodeRequest(kind: kind, pid: getpid(), flags: flags, name: Array(name.utf8))
}

private func mode(_ path: String) -> mode_t? {
    var status = stat()
    return stat(path, &status) == 0 ? status.st_mode : nil
}

@Suite struct ControlProtocolTests {
    @Test func headerIsLittleEndianWithIPCSMagic() {
        let bytes = ControlProtocol.Header(kind: 2, pid: 0x0102_0304, flags: -1, nameLength: 5).encoded()
        #expect(bytes.count == ControlProtocol.headerSize)
        #expect(Array(bytes[0..<4]) == Array("IPCS".utf8))
        #expect(Array(bytes[4..<8]) == [1, 0, 2, 0])
        #expect(Array(bytes[8..<12]) == [4, 3, 2, 1])
        #expect(Array(bytes[12..<16]) == [0xFF, 0xFF, 0xFF, 0xFF])
        #expect(Array(bytes[16..<20]) == [5, 0, 0, 0])
        #expect(ControlProtocol.Header(decoding: bytes) == ControlProtocol.Header(kind: 2, pid: 0x0102_0304, flags: -1, nameLength: 5))
        #expect(ControlProtocol.Header(decoding: bytes.dropLast()) == nil)
    }

    @Test func repliesRoundTrip() {
        for reply in [ControlReply.accepted, .declined, .refused(ENOENT), .refused(ECONNREFUSED)] {
            let bytes = ControlProtocol.encodeReply(status: reply.status)
            #expect(bytes.count == ControlProtocol.replySize)
            #expect(ControlProtocol.decodeReply(bytes).flatMap(ControlReply.init(status:)) == reply)
        }
        #expect(ControlReply.refused(0).status == EPROTO)
        #expect(ControlReply(status: -7) == nil)
        #expect(ControlProtocol.decodeReply(ControlProtocol.encodeReply(status: 0) + [0]) == nil)
        #expect(ControlProtocol.decodeReply([0, 0, 0, 0, 0, 0, 0, 0]) == nil)
    }

    @Test func kindsCarryTheDocumentedFDCounts() {
        #expect(ControlProtocol.Kind.allCases.map(\.rawValue) == [1, 2, 3, 4])
        #expect(ControlProtocol.Kind.allCases.map(\.fdCount) == [2, 1, 2, 1])
    }

    @Test func peerPolicyTrustsOnlyTheSameUID() {
        #expect(ControlPeerPolicy.isTrusted(peerUID: 1000, serverUID: 1000))
        #expect(ControlPeerPolicy.isTrusted(peerUID: 0, serverUID: 0))
        #expect(!ControlPeerPolicy.isTrusted(peerUID: 0, serverUID: 1000))
        #expect(!ControlPeerPolicy.isTrusted(peerUID: 1001, serverUID: 1000))
        #expect(!ControlPeerPolicy.isTrusted(peerUID: 1000, serverUID: 0))
    }
}

@Suite struct ControlRequestParserTests {
    private func parse(_ message: [UInt8], fds: [Int32] = [10, 11], truncated: Bool = false, sockets: Bool = true)
        -> Result<ControlRequest, ControlRequestError> {
        ControlRequestParser.parse(message: message, fds: fds, fdsTruncated: truncated, isSocket: { _ in sockets })
    }

    @Test func acceptsEachKind() {
        let pid = getpid()
        #expect(parse(request(.socketPair, flags: sockCloexec | sockNonblock))
            == .success(.socketPair(pid: pid, flags: sockCloexec | sockNonblock, fdA: 10, fdB: 11)))
        #expect(parse(request(.connect, name: "/run/x.sock"), fds: [7]) == .success(.connect(pid: pid, path: "/run/x.sock", fd: 7)))
        #expect(parse(request(.takeover, name: "WebContent"))
            == .success(.takeover(pid: pid, name: "WebContent", programSide: 10, realSocket: 11)))
    }

    @Test func rejectsEveryMalformedShape() {
        let long = [UInt8](repeating: 0x61, count: 4097)
        let cases: [([UInt8], [Int32], Bool, Bool, ControlRequestError)] = [
            ([], [], false, true, .empty),
            (Array(header(kind: 1, nameLength: 0)[0..<19]), [10, 11], false, true, .truncatedHeader(byteCount: 19)),
            (header(magic: 0x4950_4353, kind: 1, nameLength: 0), [10, 11], false, true, .badMagic(0x4950_4353)),
            (header(version: 2, kind: 1, nameLength: 0), [10, 11], false, true, .unsupportedVersion(2)),
            (header(kind: 9, nameLength: 0), [10, 11], false, true, .unknownKind(9)),
            (request(.connect, name: "/x") + [0], [10], false, true, .lengthMismatch(expected: 22, actual: 23)),
            (header(kind: 2, nameLength: 4097) + long, [10], false, true, .nameTooLong(4097)),
            (header(kind: 2, nameLength: Int(UInt32.max)), [10], false, true, .nameTooLong(UInt32.max)),
            (request(.socketPair), [10, 11], true, true, .fdsTruncated),
            (request(.socketPair), [10], false, true, .wrongFDCount(kind: .socketPair, expected: 2, actual: 1)),
            (request(.connect, name: "/x"), [10, 11], false, true, .wrongFDCount(kind: .connect, expected: 1, actual: 2)),
            (header(kind: 1, pid: 0, nameLength: 0), [10, 11], false, true, .invalidPID(0)),
            (header(kind: 1, pid: -5, nameLength: 0), [10, 11], false, true, .invalidPID(-5)),
            (request(.socketPair, flags: 1), [10, 11], false, true, .invalidFlags(1)),
            (request(.connect, flags: sockCloexec, name: "/x"), [10], false, true, .invalidFlags(sockCloexec)),
            (request(.socketPair, name: "x"), [10, 11], false, true, .invalidName),
            (request(.connect), [10], false, true, .invalidName),
            (header(kind: 2, nameLength: 3) + [0x2F, 0, 0x61], [10], false, true, .invalidName),
            (header(kind: 2, nameLength: 3) + [0x2F, 0xC3, 0x28], [10], false, true, .invalidName),
            (request(.connect, name: "relative.sock"), [10], false, true, .relativePath),
            (request(.takeover), [10, 11], false, true, .invalidName),
            (request(.takeover, name: "x"), [10, 11], false, false, .notASocket(position: 0)),
            (request(.attach, name: "x"), [10], false, true, .unsupportedKind(.attach)),
        ]
        for (message, fds, truncated, sockets, expected) in cases {
            #expect(parse(message, fds: fds, truncated: truncated, sockets: sockets) == .failure(expected))
        }
        #expect(ControlRequestError.unsupportedKind(.attach).replyStatus == EOPNOTSUPP)
        #expect(ControlRequestError.badMagic(0).replyStatus == EINVAL)
    }
}

/// One malformed request, sent to a live server with pipe write ends as its fds.
struct MalformedRequest: Sendable, CustomTestStringConvertible {
    var name: String
    var message: [UInt8]
    var fdCount: Int
    var expectedStatus: Int32 = EINVAL
    var testDescription: String { name }

    static let all: [MalformedRequest] = [
        MalformedRequest(name: "empty message", message: [], fdCount: 0),
        MalformedRequest(name: "empty message with fds", message: [], fdCount: 2),
        MalformedRequest(name: "short header", message: Array(request(.socketPair)[0..<10]), fdCount: 2),
        MalformedRequest(name: "bad magic", message: header(magic: 0xDEAD_BEEF, kind: 1, nameLength: 0), fdCount: 2),
        MalformedRequest(name: "version 2", message: header(version: 2, kind: 1, nameLength: 0), fdCount: 2),
        MalformedRequest(name: "kind 0", message: header(kind: 0, nameLength: 0), fdCount: 2),
        MalformedRequest(name: "kind 0xffff", message: header(kind: 0xFFFF, nameLength: 0), fdCount: 1),
        MalformedRequest(name: "attach is reserved", message: request(.attach, name: "x"), fdCount: 1, expectedStatus: EOPNOTSUPP),
        MalformedRequest(
            name: "name of 4097 bytes", message: header(kind: 2, nameLength: 4097) + [UInt8](repeating: 0x2F, count: 4097),
            fdCount: 1),
        MalformedRequest(
            name: "message larger than any request", message: header(kind: 2, nameLength: 4096) + [UInt8](repeating: 0x2F, count: 8000),
            fdCount: 1),
        MalformedRequest(name: "name length 4 GiB", message: header(kind: 2, nameLength: Int(UInt32.max)), fdCount: 1),
        MalformedRequest(name: "name shorter than its length", message: header(kind: 2, nameLength: 10) + Array("/abc".utf8), fdCount: 1),
        MalformedRequest(name: "trailing bytes", message: request(.socketPair) + [1, 2, 3], fdCount: 2),
        MalformedRequest(name: "socketpair with 0 fds", message: request(.socketPair), fdCount: 0),
        MalformedRequest(name: "socketpair with 1 fd", message: request(.socketPair), fdCount: 1),
        MalformedRequest(name: "socketpair with 3 fds", message: request(.socketPair), fdCount: 3),
        MalformedRequest(name: "socketpair with 40 fds (MSG_CTRUNC)", message: request(.socketPair), fdCount: 40),
        MalformedRequest(name: "connect with 2 fds", message: request(.connect, name: "/x"), fdCount: 2),
        MalformedRequest(name: "pid 0", message: header(kind: 1, pid: 0, nameLength: 0), fdCount: 2),
        MalformedRequest(name: "socketpair flags", message: request(.socketPair, flags: 0x7FFF_FFFF), fdCount: 2),
        MalformedRequest(name: "connect without a path", message: request(.connect), fdCount: 1),
        MalformedRequest(name: "connect relative path", message: request(.connect, name: "x.sock"), fdCount: 1),
        MalformedRequest(name: "connect path with NUL", message: header(kind: 2, nameLength: 3) + [0x2F, 0, 0x78], fdCount: 1),
        MalformedRequest(name: "connect path not UTF-8", message: header(kind: 2, nameLength: 2) + [0x2F, 0xFF], fdCount: 1),
        MalformedRequest(name: "takeover without a name", message: request(.takeover), fdCount: 2),
        MalformedRequest(name: "fds are pipes, not sockets", message: request(.socketPair, flags: sockCloexec), fdCount: 2),
    ]
}

@Suite struct ControlServerTests {
    @Test func socketIs0600InsideA0700Directory() throws {
        let base = try TemporaryDirectory()
        let server = try ControlServer(baseDirectory: base.path) { request in
            Descriptor.closeAll(request.fds)
            return .declined
        }
        #expect(server.path.hasPrefix(base.path + "/ipcscope-"))
        #expect(server.environment == [ControlEnvironment.controlVariable: server.path])
        let socketMode = try #require(mode(server.path))
        #expect(socketMode & S_IFMT == S_IFSOCK)
        #expect(socketMode & 0o777 == 0o600)
        let directoryMode = try #require(mode(server.directory))
        #expect(directoryMode & S_IFMT == S_IFDIR)
        #expect(directoryMode & 0o777 == 0o700)

        server.stop()
        #expect(mode(server.path) == nil)
        #expect(mode(server.directory) == nil)
        server.stop()
        #expect(throws: SystemError.self) {
            try ControlClient.request(controlPath: server.path, message: request(.socketPair), fds: [])
        }
    }

    @Test func defaultDirectoryIsPrivateToo() throws {
        let server = try ControlServer { request in
            Descriptor.closeAll(request.fds)
            return .declined
        }
        defer { server.stop() }
        #expect(server.path.utf8.count < 108)
        #expect(try #require(mode(server.directory)) & 0o777 == 0o700)
    }

    @Test func socketPairRequestReachesTheHandlerWithWorkingFDs() throws {
        let seen = Mutex<[ControlRequest]>([])
        let server = try ControlServer { request in
            seen.withLock { $0.append(request) }
            if case .socketPair(_, _, let fdA, let fdB, _) = request {
                _ = try? Descriptor.writeAll(fdA, Array("to A".utf8))
                _ = try? Descriptor.writeAll(fdB, Array("to B".utf8))
            }
            Descriptor.closeAll(request.fds)
            return .accepted
        }
        defer { server.stop() }
        let first = try SocketPair.makeRaw()
        let second = try SocketPair.makeRaw()
        defer { Descriptor.closeAll([first.first, second.first]) }
        let reply = try ControlClient.request(
            controlPath: server.path, message: request(.socketPair, flags: sockCloexec), fds: [first.second, second.second])
        Descriptor.closeAll([first.second, second.second])
        #expect(reply == .accepted)
        #expect(try Descriptor.readToEnd(first.first) == Array("to A".utf8))
        #expect(try Descriptor.readToEnd(second.first) == Array("to B".utf8))
        let requests = seen.withLock { $0 }
        #expect(requests.count == 1)
        if case .socketPair(let pid, let flags, _, _, let inodes) = requests.first {
            #expect(inodes.isEmpty)
            #expect(pid == getpid())
            #expect(flags == sockCloexec)
        } else {
            Issue.record("expected a socketpair request, got \(requests)")
        }
    }

    @Test func connectRequestCarriesThePathAndTheHandlersErrno() throws {
        let seen = Mutex<[ControlRequest]>([])
        let server = try ControlServer { request in
            seen.withLock { $0.append(request) }
            Descriptor.closeAll(request.fds)
            return .refused(ECONNREFUSED)
        }
        defer { server.stop() }
        let pair = try SocketPair.makeRaw()
        defer { Descriptor.closeAll([pair.first, pair.second]) }
        let reply = try ControlClient.request(
            controlPath: server.path, message: request(.connect, name: "/run/ladybird/x.sock"), fds: [pair.second])
        #expect(reply == .refused(ECONNREFUSED))
        let requests = seen.withLock { $0 }
        #expect(requests.count == 1)
        if case .connect(let pid, let path, _) = requests.first {
            #expect(pid == getpid())
            #expect(path == "/run/ladybird/x.sock")
        } else {
            Issue.record("expected a connect request, got \(requests)")
        }
    }

    @Test(arguments: MalformedRequest.all)
    func malformedRequestGetsAnErrorNeverReachesTheHandlerAndLeaksNoFD(_ malformed: MalformedRequest) throws {
        let handled = Atomic<Int>(0)
        let server = try ControlServer { request in
            handled.add(1, ordering: .relaxed)
            Descriptor.closeAll(request.fds)
            return .accepted
        }
        defer { server.stop() }
        let probes = try (0..<malformed.fdCount).map { _ in try PipeProbe() }

        let reply = try ControlClient.exchange(
            controlPath: server.path, message: malformed.message, fds: probes.map(\.writeEnd))
        probes.forEach { $0.closeWriteEnd() }

        #expect(ControlProtocol.decodeReply(reply) == malformed.expectedStatus)
        #expect(handled.load(ordering: .relaxed) == 0)
        // The server closed every fd it received before replying: only our read ends are left.
        for probe in probes { #expect(probe.openCopies == 1, "copies of pipe \(probe.inode) still open") }
        withExtendedLifetime(probes) {}
    }

    /// A control server that declines every request (closing its fds).
    static func decliningServer(receiveTimeout: Duration) throws -> ControlServer {
        try ControlServer(receiveTimeout: receiveTimeout) { request in
            Descriptor.closeAll(request.fds)
            return .declined
        }
    }

    /// A client that connects and never sends anything; the caller closes it.
    func connectSilently(to server: ControlServer) throws -> Int32 {
        let silent = socket(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | sockCloexec, 0)
        do { try connectSeqPacket(silent, server.path) } catch {
            Descriptor.close(silent)
            throw error
        }
        return silent
    }

    // Proved by order of events, not by a stopwatch: with a receive timeout far longer than the test, the
    // other client's reply arrives while the silent one is still connected, so it did not wait for that timeout.
    @Test func aSilentClientDoesNotHoldUpOthers() throws {
        let server = try Self.decliningServer(receiveTimeout: .seconds(600))
        defer { server.stop() }
        let silent = try connectSilently(to: server)
        defer { Descriptor.close(silent) }
        let quitter = socket(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | sockCloexec, 0)
        try connectSeqPacket(quitter, server.path)
        Descriptor.close(quitter)

        let pair = try SocketPair.makeRaw()
        defer { Descriptor.closeAll([pair.first, pair.second]) }
        let reply = try ControlClient.request(
            controlPath: server.path, message: request(.connect, name: "/x"), fds: [pair.second], timeout: .seconds(600))
        #expect(reply == .declined)
        var state = pollfd(fd: silent, events: Int16(POLLIN), revents: 0)
        #expect(poll(&state, 1, 0) == 0, "the silent client was already dropped (revents \(state.revents))")
    }

    @Test func aSilentClientIsDroppedWithoutAReplyAfterTheReceiveTimeout() throws {
        let server = try Self.decliningServer(receiveTimeout: .milliseconds(100))
        defer { server.stop() }
        let silent = try connectSilently(to: server)
        defer { Descriptor.close(silent) }
        // A bounded wait for the drop (the bound decides nothing: the server drops it after 0.1 s).
        var ready = pollfd(fd: silent, events: Int16(POLLIN), revents: 0)
        #expect(poll(&ready, 1, 30_000) == 1)
        var byte: UInt8 = 0
        #expect(recv(silent, &byte, 1, Int32(MSG_DONTWAIT)) == 0, "dropped with end of stream, no reply")
    }

    @Test func manyConcurrentClientsAreAllAnswered() throws {
        let handled = Atomic<Int>(0)
        let server = try ControlServer(maxConcurrentConnections: 4) { request in
            handled.add(1, ordering: .relaxed)
            usleep(20_000) // a slow handler: connections pile up past the thread cap
            Descriptor.closeAll(request.fds)
            return .accepted
        }
        defer { server.stop() }
        let outcomes = Outcomes()
        let path = server.path
        let clients = try (0..<24).map { _ in
            try OSThread(name: "ctl-client") {
                do {
                    let pair = try SocketPair.makeRaw()
                    let other = try SocketPair.makeRaw()
                    defer { Descriptor.closeAll([pair.first, pair.second, other.first, other.second]) }
                    let reply = try ControlClient.request(
                        controlPath: path, message: request(.socketPair), fds: [pair.second, other.second],
                        timeout: .seconds(10))
                    outcomes.record("\(reply)")
                } catch {
                    outcomes.record("\(error)")
                }
            }
        }
        clients.forEach { $0.join() }
        #expect(outcomes.all == [String](repeating: "accepted", count: 24))
        #expect(handled.load(ordering: .relaxed) == 24)
    }

    private final class Outcomes: Sendable {
        private let list = Mutex<[String]>([])
        func record(_ outcome: String) { list.withLock { $0.append(outcome) } }
        var all: [String] { list.withLock { $0 } }
    }

    private func connectSeqPacket(_ fd: Int32, _ path: String) throws {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if result != 0 { throw SystemError.current("connect \(path)") }
    }
}

@Suite struct ControlClientTests {
    @Test func handSendsATakeoverTheHandlerCanUse() throws {
        let seen = Mutex<[ControlRequest]>([])
        let server = try ControlServer { request in
            seen.withLock { $0.append(request) }
            if case .takeover(_, _, let programSide, let realSocket) = request {
                _ = try? Descriptor.writeAll(programSide, Array("program".utf8))
                _ = try? Descriptor.writeAll(realSocket, Array("real".utf8))
            }
            Descriptor.closeAll(request.fds)
            return .accepted
        }
        defer { server.stop() }
        let program = try SocketPair.makeRaw()
        let real = try SocketPair.makeRaw()
        defer { Descriptor.closeAll([program.first, real.first]) }
        let reply = try ControlClient.hand(
            takeoverName: "WebContent", programSide: program.second, realSocket: real.second, controlPath: server.path)
        Descriptor.closeAll([program.second, real.second])
        #expect(reply == .accepted)
        #expect(try Descriptor.readToEnd(program.first) == Array("program".utf8))
        #expect(try Descriptor.readToEnd(real.first) == Array("real".utf8))
        let requests = seen.withLock { $0 }
        #expect(requests.count == 1)
        if case .takeover(let pid, let name, _, _) = requests.first {
            #expect(pid == getpid())
            #expect(name == "WebContent")
        } else {
            Issue.record("expected a takeover request, got \(requests)")
        }
    }

    @Test func handFailsWithoutARecorder() throws {
        let directory = try TemporaryDirectory()
        let pair = try SocketPair.makeRaw()
        defer { Descriptor.closeAll([pair.first, pair.second]) }
        #expect(throws: SystemError(errno: ENOENT, operation: "connect \(directory.file("none"))")) {
            try ControlClient.hand(
                takeoverName: "x", programSide: pair.first, realSocket: pair.second, controlPath: directory.file("none"))
        }
    }

    @Test func handTimesOutOnASilentRecorder() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("silent")
        let listener = socket(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | sockCloexec, 0)
        defer { Descriptor.close(listener) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(bound == 0 && listen(listener, 4) == 0)
        let pair = try SocketPair.makeRaw()
        defer { Descriptor.closeAll([pair.first, pair.second]) }
        // The listener never accepts: the client gives up with its own timeout error instead of waiting forever.
        #expect(throws: SystemError(errno: ETIMEDOUT, operation: "waiting for the control reply")) {
            try ControlClient.hand(
                takeoverName: "x", programSide: pair.first, realSocket: pair.second, controlPath: path,
                timeout: .milliseconds(200))
        }
    }
}
