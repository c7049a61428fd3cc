import CSystemShims
import Glibc
import IPCTransport
import Synchronization
import SystemSupport
import TraceFormat

/// Listens on a socket path and relays every client to an upstream socket path, one channel per client,
/// the way xtrace or wlhax sit in front of a display server.
public final class SocketPathProxy: Sendable {
    public let listenPath: String
    public let upstreamPath: String
    /// Shut down and closed by `stop()`; closed when the proxy goes if it was never stopped.
    private let listener: SharedFD
    private let session: RecordingSession
    private let acceptThread = Mutex<OSThread?>(nil)
    private let stopping = Atomic<Bool>(false)

    /// Creates the listening socket (mode 0600; a stale socket left by a dead listener is replaced, any
    /// other existing file is an error) and starts accepting.
    public init(listenPath: String, upstreamPath: String, session: RecordingSession) throws(SystemError) {
        self.listenPath = listenPath
        self.upstreamPath = upstreamPath
        self.session = session
        listener = SharedFD(try StreamSocketPath.listen(at: listenPath))
        let listener = listener.rawValue  // borrowed by the accept loop: `stop()` closes it after joining
        let thread = try OSThread(name: "accept") { [self] in
            acceptLoop(listener)
        }
        acceptThread.withLock { $0 = thread }
    }

    private func acceptLoop(_ listener: Int32) {
        while !stopping.load(ordering: .relaxed) {
            let client: OwnedFD
            do throws(SystemError) {
                client = OwnedFD(adopting: try retryingOnInterrupt("accept") {
                    ipcs_accept4(listener, Int32(SOCK_CLOEXEC.rawValue))
                })
            } catch {
                if error.errno == ECONNABORTED { continue }
                if error.errno == EMFILE || error.errno == ENFILE {
                    // Out of fds: say so once per burst and let relays finish before accepting more.
                    printError("ipcscope record: \(error); retrying")
                    usleep(100_000)
                    continue
                }
                return  // the listener was shut down
            }
            let pid = ProcessLookup.peerPID(of: client.rawValue)
            let upstream: OwnedFD
            do {
                upstream = try StreamSocketPath.connect(to: upstreamPath)
            } catch {
                // The client would have failed to connect without the proxy too: hang up on it (dropping
                // `client` closes it).
                printError("ipcscope record: cannot connect to upstream \(upstreamPath): \(error); dropping client pid \(pid)")
                continue
            }
            let clientEndpoint = ChannelEndpoint(name: "client", pid: pid, command: ProcessLookup.command(of: pid))
            let upstreamPID = ProcessLookup.peerPID(of: upstream.rawValue)
            let serverEndpoint = ChannelEndpoint(name: upstreamPath, pid: upstreamPID,
                                                 command: ProcessLookup.command(of: upstreamPID))
            do {
                try session.openChannel(endA: client, endB: upstream, endpointA: clientEndpoint,
                                        endpointB: serverEndpoint, discovery: .listen)
            } catch {
                printError("ipcscope record: cannot relay client pid \(pid): \(error)")
            }
        }
    }

    /// Stops accepting and removes the socket file. Channels already open keep relaying until the session stops.
    public func stop() {
        guard !stopping.exchange(true, ordering: .relaxed) else { return }
        _ = listener.withOpenFD { shutdown($0, Int32(SHUT_RDWR)) }
        acceptThread.withLock { $0 }?.join()
        listener.drop()  // a socket's close has nothing to report
        unlink(listenPath)
    }
}

/// Stream sockets by path, on top of the control server's `UnixSocketAddress` calls.
public enum StreamSocketPath {
    /// A connected socket, owned by the caller. On failure the socket made for it is closed.
    public static func connect(to path: String) throws(SystemError) -> OwnedFD {
        let created = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard created >= 0 else { throw SystemError.current("socket") }
        let fd = OwnedFD(adopting: created)
        try UnixSocketAddress.connect(fd.rawValue, to: path)
        return fd
    }

    /// Binds and listens at `path` with mode 0600. The socket appears at `path` only once it listens: it is
    /// bound under a temporary name and then linked into place, so a client that waits for the path to
    /// exist never meets a socket that refuses it (ECONNREFUSED between bind and listen).
    public static func listen(at path: String, backlog: Int32 = 64) throws(SystemError) -> OwnedFD {
        try listen(at: path, backlog: backlog, whileNotListening: {})
    }

    /// `whileNotListening` runs between bind and listen: tests check that `path` does not exist yet.
    static func listen(
        at path: String, backlog: Int32, whileNotListening: () -> Void
    ) throws(SystemError) -> OwnedFD {
        try removeStaleSocket(at: path)
        let created = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard created >= 0 else { throw SystemError.current("socket") }
        // Owned from here: every failure below drops, so closes, it.
        let owned = OwnedFD(adopting: created)
        let fd = owned.rawValue
        // The socket file takes its mode from the umask at bind time: never let it be wider than 0600.
        // The umask is the process's: another thread creating a file meanwhile gets a narrower mode at
        // worst, and every file ipcscope creates sets its own mode explicitly (fchmod/chmod) anyway.
        let previous = umask(0o177)
        defer { umask(previous) }
        let temporary = temporaryName(for: path)
        let bound = temporary ?? path
        try UnixSocketAddress.bind(fd, to: bound)
        // Whatever the umask gave, the mode is set explicitly; a socket whose mode cannot be set is not used.
        guard chmod(bound, 0o600) == 0 else {
            let error = SystemError.current("chmod \(bound)")
            unlink(bound)
            throw error
        }
        whileNotListening()
        guard Glibc.listen(fd, backlog) == 0 else {
            let error = SystemError.current("listen \(path)")
            unlink(bound)
            throw error
        }
        if let temporary {
            // link(2) never replaces: if something appeared at `path` meanwhile, it stays and we fail.
            let linked = link(temporary, path) == 0
            let error = linked ? nil : SystemError.current("listen at \(path)")
            unlink(temporary)
            if let error { throw error }
        }
        return owned
    }

    /// A name next to `path` to bind under first, or nil when it would not fit in a socket address.
    private static func temporaryName(for path: String) -> String? {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[...$0]) } ?? ""
        let name = "\(directory).ipcscope-listen-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        return name.utf8.count < MemoryLayout.size(ofValue: sockaddr_un().sun_path) ? name : nil
    }

    /// A socket file nobody listens on any more is replaced; anything else at `path` is left alone.
    private static func removeStaleSocket(at path: String) throws(SystemError) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard info.st_mode & S_IFMT == S_IFSOCK else {
            throw SystemError(errno: EEXIST, operation: "listen at \(path): a file that is not a socket is there")
        }
        do {
            _ = try connect(to: path)  // dropped at once, so closed: it only asked whether anyone listens
        } catch {
            guard error.errno == ECONNREFUSED else { throw error }
            unlink(path)
            return
        }
        throw SystemError(errno: EADDRINUSE, operation: "listen at \(path): another process is listening there")
    }
}

/// Writes `message` and a newline to stderr, all of it (short writes and EINTR retried). A failure to
/// write there cannot be reported anywhere else, so it is dropped; the count of such lines is kept.
func printError(_ message: String) {
    do {
        try Descriptor.writeAll(2, Array((message + "\n").utf8))
    } catch {
        unwrittenErrorLines.add(1, ordering: .relaxed)
    }
}

/// Lines ``printError(_:)`` could not write to stderr (closed, or a full disk behind a redirect).
let unwrittenErrorLines = Atomic<UInt64>(0)
