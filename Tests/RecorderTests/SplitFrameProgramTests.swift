import Glibc
import IPCTransport
import IPCWire
import TestSupport
import Testing
import TraceFormat

/// A program that is not ipcscope's own: Python writing LibIPC frames whose header is split across two
/// writes, the fd on the second (issue 9, finding 1). Under `record` it must behave exactly as without it.
@Suite(.serialized, .timeLimit(.minutes(5))) struct SplitFrameProgramTests {
    static let frames = 200

    /// For each frame: the first 6 header bytes, wait until the peer (or the proxy) has read them, then the
    /// rest of the frame with one fd; the receiver checks bytes and the fd's inode and acknowledges it.
    static let program = """
    import array, fcntl, os, socket, struct, sys, termios, time
    a, b = socket.socketpair()
    r, w = os.pipe()
    inode = os.fstat(r).st_ino
    def drained(sock):
        for _ in range(50):  # bounded: without a proxy nobody reads until the frame is whole
            if struct.unpack('i', fcntl.ioctl(sock, termios.TIOCOUTQ, b'\\0' * 4))[0] == 0:
                return
            time.sleep(0.0002)
    for i in range(\(frames)):
        payload = struct.pack('<II', 0x1D2C3B4A, i) + bytes([i % 256]) * 92
        frame = struct.pack('<B3xII', 0, len(payload), 1) + payload
        a.send(frame[:6])
        drained(a)
        a.sendmsg([frame[6:]], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array('i', [r]))])
        got, fds = b'', []
        while len(got) < len(frame):
            data, ancillary, flags, _ = b.recvmsg(4096, socket.CMSG_SPACE(4 * 8))
            if not data and not ancillary:
                sys.exit('eof at frame %d' % i)
            got += data
            for level, kind, raw in ancillary:
                fds += array.array('i', raw[:len(raw) - len(raw) % 4]).tolist()
        if got != frame or len(fds) != 1 or os.fstat(fds[0]).st_ino != inode:
            sys.exit('frame %d arrived changed: %d bytes, %d fds' % (i, len(got), len(fds)))
        os.close(fds[0])
        b.send(struct.pack('<B3xII', 1, 0, 1))
        if a.recv(12) != struct.pack('<B3xII', 1, 0, 1):
            sys.exit('ack %d arrived changed' % i)
    print('split frames ok: %d' % \(frames))
    """

    @Test func splitHeadersWithLateFDsRunTheSameUnderTheRecorder() throws {
        let directory = try TemporaryDirectory()
        let script = directory.file("split.py")
        let fd = try openForWriting(script)
        defer { Descriptor.close(fd) }
        try Descriptor.writeAll(fd, Array(Self.program.utf8))
        let plain = try ProgramRun.run("/usr/bin/env", ["python3", script])
        #expect(plain.status == .exited(0), "\(plain.summary)")
        #expect(plain.standardOutput == "split frames ok: \(Self.frames)\n")

        let trace = directory.file("split.ipctrace")
        let recorded = try ProgramRun.run(try ipcscopeExecutable(), ["record", "-o", trace, "--", "/usr/bin/env", "python3", script])
        #expect(recorded.status == plain.status, "\(recorded.summary)")
        #expect(recorded.standardOutput == plain.standardOutput, "\(recorded.summary)")

        let contents = try RecordedTrace(path: trace)
        contents.expectIntact()
        let frames = contents.frames.filter { $0.direction == .aToB }
        #expect(frames.count == Self.frames)
        #expect(frames.allSatisfy { $0.fds.count == 1 && $0.fds.first?.kind == .pipe })
        #expect(Set(frames.compactMap { $0.fds.first?.inode }).count == 1)
        #expect(contents.acks.count == Self.frames)
        #expect(contents.violations.isEmpty, "\(contents.violations)")
    }

    private func openForWriting(_ path: String) throws -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SystemError(errno: errno, operation: "open \(path)") }
        return fd
    }
}
