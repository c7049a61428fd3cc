import Glibc
import IPCTransport
import TestSupport
import Testing
import TraceFormat

/// What a recorded program — or another user — can make the real `ipcscope record` do (docs/security.md):
/// file and socket modes, the control socket's same-uid rule, a program that tampers with the
/// interposer's environment, and control requests naming paths.
@Suite(.serialized, .timeLimit(.minutes(5))) struct SecurityTests {
    /// Python that sends one raw control request (docs/control-protocol.md) to $IPCSCOPE_CONTROL and prints
    /// `LABEL connect ERRNO` or `LABEL reply LENGTH STATUS` (`-` when the server closed without a reply).
    static let controlClient = """
    import array, os, socket, struct, sys
    label, kind, name = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode() if len(sys.argv) > 3 else b''
    magic = 0x53435049 if label != 'bad-magic' else 0
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        s.connect(os.environ['IPCSCOPE_CONTROL'])
    except OSError as e:
        print(label, 'connect', e.errno); sys.exit(0)
    x, y = socket.socketpair()
    fds = [x.fileno(), y.fileno()] if kind != 2 else [x.fileno()]
    message = struct.pack('<IHHiiI', magic, 1, kind, os.getpid(), 0, len(name)) + name
    s.settimeout(10)
    try:  # a server that refuses may close before the request is even sent
        s.sendmsg([message], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array('i', fds))])
        reply = s.recv(16)
    except (BrokenPipeError, ConnectionResetError):
        reply = b''
    print(label, 'reply', len(reply), struct.unpack('<Ii', reply)[1] if len(reply) == 8 else '-')
    """

    @Test func theControlSocketIs0600InA0700DirectoryAndTheTrace0600WhateverTheUmask() throws {
        let directory = makeScratchDirectory()
        let trace = directory + "/t.ipctrace"
        // umask 000: anything created with default modes would be world-writable.
        let run = try ProgramRun.run("/bin/sh", ["-c", """
            umask 000
            exec "$0" record -o "$1" -- /bin/sh -c 'stat -c "%a %u" "$(dirname "$IPCSCOPE_CONTROL")" "$IPCSCOPE_CONTROL"'
            """, try ipcscopeExecutable(), trace])
        #expect(run.status == .exited(0), "\(run.summary)")
        let uid = geteuid()
        #expect(run.standardOutput == "700 \(uid)\n600 \(uid)\n", "\(run.summary)")
        var info = stat()
        #expect(stat(trace, &info) == 0 && info.st_mode & 0o777 == 0o600)
    }

    /// As root (CI): another uid cannot reach the control socket (its directory is 0700); when the modes
    /// are opened up by hand it connects, and the recorder closes the connection unanswered (SO_PEERCRED).
    /// The recorder's own uid gets an answer (EINVAL for a bad magic), so the silence is the uid rule.
    @Test(.enabled(if: geteuid() == 0 && access("/usr/bin/setpriv", X_OK) == 0 && access("/usr/bin/python3", X_OK) == 0, "needs root, setpriv and /usr/bin/python3"))
    func theControlSocketAnswersOnlyItsOwnUser() throws {
        let directory = makeScratchDirectory()
        chmod(directory, 0o755)  // the other user must read the script
        let script = directory + "/control.py"
        try RedactionTests.write(Array(Self.controlClient.utf8), to: script)
        chmod(script, 0o644)
        let nobody = "env -u LD_PRELOAD setpriv --reuid 65534 --regid 65534 --clear-groups /usr/bin/python3 \"$0\""
        let run = try ProgramRun.run(try ipcscopeExecutable(), ["record", "-o", directory + "/t.ipctrace", "--", "/bin/sh", "-c", """
            \(nobody) other-as-created 1
            chmod 711 "$(dirname "$IPCSCOPE_CONTROL")"; chmod 666 "$IPCSCOPE_CONTROL"
            \(nobody) other-opened-up 1
            env -u LD_PRELOAD python3 "$0" bad-magic 1
            """, script])
        #expect(run.status == .exited(0), "\(run.summary)")
        #expect(run.standardOutput.split(separator: "\n") == [
            "other-as-created connect \(EACCES)", "other-opened-up reply 0 -", "bad-magic reply 8 \(EINVAL)",
        ], "\(run.summary)")
        let trace = try RecordedTrace(path: directory + "/t.ipctrace")
        trace.expectIntact()
        #expect(trace.opened.isEmpty, "no request opened a channel")
    }

    /// The interposer reads IPCSCOPE_CONTROL on every call, so a program can point it elsewhere. It runs
    /// inside the program, with its rights: pointed at nothing, or at a socket of the program's own that
    /// answers garbage, it falls back to the real socketpair — the program works, unrecorded.
    @Test func aProgramThatRedirectsTheInterposerOnlyGoesUnrecorded() throws {
        let directory = makeScratchDirectory()
        let script = directory + "/tamper.py"
        try RedactionTests.write(Array("""
            import os, socket, threading
            os.environ['IPCSCOPE_CONTROL'] = '/nonexistent/ipcscope/control'
            a, b = socket.socketpair(); a.sendall(b'x' * 12); assert b.recv(12) == b'x' * 12
            fake = '\(directory)/fake'
            server = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); server.bind(fake); server.listen()
            asked = []
            def serve():
                connection, _ = server.accept()
                data, ancillary, _, _ = connection.recvmsg(8192, socket.CMSG_SPACE(8))
                asked.append(data[:4] == b'IPCS')
                connection.send(b'garbage!')
            thread = threading.Thread(target=serve); thread.start()
            os.environ['IPCSCOPE_CONTROL'] = fake
            c, d = socket.socketpair(); c.sendall(b'y' * 12); assert d.recv(12) == b'y' * 12
            thread.join()
            print('fell back; the fake control socket was asked:', asked[0])
            """.utf8), to: script)
        let trace = directory + "/t.ipctrace"
        let run = try ProgramRun.run(try ipcscopeExecutable(), ["record", "-o", trace, "--", "/usr/bin/env", "python3", script])
        #expect(run.status == .exited(0), "\(run.summary)")
        #expect(run.standardOutput == "fell back; the fake control socket was asked: True\n", "\(run.summary)")
        let recorded = try RecordedTrace(path: trace)
        recorded.expectIntact()
        #expect(recorded.opened.isEmpty, "\(recorded.opened)")
    }

    /// The only path in the control protocol is a connect request's socket path: the recorder connects
    /// there (as the program could itself) and never creates or writes a file. A path that does not exist
    /// stays absent; a regular file is refused (ECONNREFUSED) and unchanged; a socketpair request's name
    /// must be two inode numbers (EINVAL).
    @Test func controlRequestsNamingPathsMakeTheRecorderWriteNothing() throws {
        let directory = makeScratchDirectory()
        let script = directory + "/control.py"
        try RedactionTests.write(Array(Self.controlClient.utf8), to: script)
        let absent = directory + "/made-by-the-recorder"
        let regular = directory + "/regular-file"
        try RedactionTests.write(Array("unchanged".utf8), to: regular)
        let run = try ProgramRun.run(try ipcscopeExecutable(), ["record", "-o", directory + "/t.ipctrace", "--", "/bin/sh", "-c", """
            env -u LD_PRELOAD python3 "$0" absent 2 "$1"
            env -u LD_PRELOAD python3 "$0" regular 2 "$2"
            env -u LD_PRELOAD python3 "$0" pair-name 1 ../../etc/passwd
            """, script, absent, regular])
        #expect(run.status == .exited(0), "\(run.summary)")
        #expect(run.standardOutput.split(separator: "\n") == [
            "absent reply 8 \(ENOENT)", "regular reply 8 \(ECONNREFUSED)", "pair-name reply 8 \(EINVAL)",
        ], "\(run.summary)")
        #expect(access(absent, F_OK) != 0, "the recorder created \(absent)")
        #expect(try RedactionTests.contents(regular) == Array("unchanged".utf8))
        try RecordedTrace(path: directory + "/t.ipctrace").expectIntact()
    }
}
