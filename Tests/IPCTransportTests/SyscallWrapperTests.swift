import CSystemShims
import Glibc
import IPCTransport
import Testing

@Suite("Transport syscall wrappers")
struct SyscallWrapperTests {
    /// A socketpair's or pipe's ends are owned from the moment they exist: an end taken out is the taker's,
    /// the one left in is closed with the pair (its peer sees EOF / POLLHUP).
    @Test func aSocketPairOrPipeClosesTheEndNobodyTook() throws {
        let kept: OwnedFD
        do {
            let pair = try SocketPair.make()
            kept = pair.first
        }
        var byte: UInt8 = 0
        var entry = pollfd(fd: kept.rawValue, events: Int16(POLLIN), revents: 0)
        #expect(poll(&entry, 1, 0) == 1)
        #expect(recv(kept.rawValue, &byte, 1, Int32(MSG_DONTWAIT)) == 0)

        let readEnd: OwnedFD
        do {
            let pipe = try Pipe.make()
            readEnd = pipe.readEnd
        }
        var pipeEntry = pollfd(fd: readEnd.rawValue, events: Int16(POLLIN), revents: 0)
        #expect(poll(&pipeEntry, 1, 0) == 1 && pipeEntry.revents & Int16(POLLHUP) != 0)

        // Dropping a spawn's parent-side copies (OwnedFDs) closes them too: ProcessSpawnerTests covers the
        // child's side; here the pipe end handed to `Descriptor.duplicate` keeps the pipe open until dropped.
        let pipe = try Pipe.make()
        let writeEnd = pipe.writeEnd
        do { _ = try Descriptor.duplicate(writeEnd.rawValue) }
        try writeEnd.close()
        var hangUp = pollfd(fd: pipe.readEnd.rawValue, events: Int16(POLLIN), revents: 0)
        #expect(poll(&hangUp, 1, 0) == 1 && hangUp.revents & Int16(POLLHUP) != 0)
    }

    @Test func fdsOfEveryKindTravelAndAreClassified() throws {
        let pair = try SocketPair.makeRaw()
        let pipe = try TestPipe()
        let path = "/tmp/ipcscope-transport-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let file = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        #expect(file >= 0)
        unlink(path)
        let memfd = ipcs_memfd_create("transport-test", IPCS_MFD_CLOEXEC | IPCS_MFD_ALLOW_SEALING)
        #expect(memfd >= 0)
        defer { Descriptor.closeAll([pair.first, pair.second, file, memfd]); pipe.close() }

        let sent = try SocketMessaging.sendMessage(pair.first, bytes: Array("fds".utf8), fds: [pipe.writeEnd, file, memfd, pair.first])
        #expect(sent == 3)
        var buffer = [UInt8](repeating: 0, count: 16)
        let chunk = try buffer.withUnsafeMutableBytes { try SocketMessaging.receiveMessage(pair.second, into: $0) }
        defer { Descriptor.closeAll(chunk.fds) }
        #expect(chunk.byteCount == 3)
        #expect(Array(buffer[0..<3]) == Array("fds".utf8))
        #expect(!chunk.controlTruncated)
        #expect(try chunk.fds.map { try Descriptor.info($0).kind } == [.pipe, .regularFile, .memfd, .socket])
        #expect(try Descriptor.info(chunk.fds[0]).inode == pipe.inode)
        for fd in chunk.fds { #expect(try Descriptor.isCloseOnExec(fd)) }  // MSG_CMSG_CLOEXEC
    }

    @Test func aTransportOwnsTheFDItAdoptsEvenWhenItRefusesIt() throws {
        let pipe = try Pipe.makeRaw()
        defer { Descriptor.close(pipe.writeEnd) }
        #expect(throws: TransportError.system(SystemError(errno: ENOTSOCK, operation: "IPCTransport(adopting:)"))) {
            _ = try IPCTransport(adopting: pipe.readEnd)
        }
        // Closed by the refusal, not leaked. Asked of the pipe, not of the fd number: another test may
        // already have been given that number again. A pipe whose read end is closed everywhere says
        // POLLERR on its write end.
        var entry = pollfd(fd: pipe.writeEnd, events: Int16(POLLOUT), revents: 0)
        #expect(poll(&entry, 1, 0) == 1)
        #expect(entry.revents & Int16(POLLERR) != 0, "the refused pipe's read end is still open")
    }

    @Test func releaseForTransferHandsOverAnOpenSocketAndEndingClosesIt() throws {
        let (transport, peer) = try IPCTransport.makeRawPair()
        defer { Descriptor.close(peer) }
        let socket = transport.socketFD
        let released = try transport.releaseForTransfer()
        #expect(released == socket)
        #expect(Descriptor.isOpen(released))
        transport.close()  // already released: must not close what the caller now owns
        #expect(Descriptor.isOpen(released))
        Descriptor.close(released)

        let (ending, other) = try IPCTransport.makeRawPair()
        defer { Descriptor.close(other) }
        ending.close()
        // Asked of the peer, not of the fd number (another test may have that number by now): with the
        // transport's socket closed, the peer reads end of stream.
        var byte: UInt8 = 0
        #expect(recv(other, &byte, 1, Int32(MSG_DONTWAIT)) == 0)
    }

    @Test func truncatedControlDataIsDetected() throws {
        let pair = try SocketPair.makeRaw()
        let pipe = try TestPipe()
        defer { Descriptor.closeAll([pair.first, pair.second]); pipe.close() }
        _ = try SocketMessaging.sendMessage(pair.first, bytes: [1], fds: Array(repeating: pipe.readEnd, count: 10))
        var buffer = [UInt8](repeating: 0, count: 16)
        let chunk = try buffer.withUnsafeMutableBytes { try SocketMessaging.receiveMessage(pair.second, into: $0, maxFDs: 4) }
        Descriptor.closeAll(chunk.fds)
        #expect(chunk.controlTruncated)
        #expect(chunk.fds.count == 4)
    }

    @Test func wouldBlockAndErrorsAreTyped() throws {
        let pair = try SocketPair.makeRaw()
        defer { Descriptor.closeAll([pair.first, pair.second]) }
        var buffer = [UInt8](repeating: 0, count: 16)
        #expect {
            try buffer.withUnsafeMutableBytes { _ = try SocketMessaging.receiveMessage(pair.second, into: $0) }
        } throws: { ($0 as? SystemError)?.isWouldBlock == true }

        let error = #expect(throws: SystemError.self) { try Descriptor.info(-1) }
        #expect(error?.errno == EBADF)
        // The one errno wording (ErrnoText): message, name and number.
        #expect(error?.description == "fstat: Bad file descriptor (EBADF, errno 9)")
    }

    @Test func bufferSizesAndFlags() throws {
        let pair = try SocketPair.makeRaw()
        defer { Descriptor.closeAll([pair.first, pair.second]) }
        try SocketOptions.setBufferSizes(pair.first)
        var size: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(pair.first, SOL_SOCKET, SO_SNDBUF, &size, &length)
        #expect(size >= 128 * 1024)  // the kernel reports double what was asked
        #expect(try Descriptor.isCloseOnExec(pair.first))
        #expect(try !Descriptor.isNonBlocking(pair.first))
        try Descriptor.setNonBlocking(pair.first)
        #expect(try Descriptor.isNonBlocking(pair.first))
    }
}
