import CSystemShims
import Glibc
import IPCTransport
import Synchronization

/// The recorder's end of the control protocol (docs/control-protocol.md): a SOCK_SEQPACKET socket (0600)
/// in a fresh private directory (0700), served by an accept thread. Each valid request reaches `handler`,
/// whose reply goes back to the client; malformed ones get EINVAL and never reach it.
public final class ControlServer: Sendable {
    /// Receives each request's fds and owns them from then on, whatever it replies. Runs on a connection
    /// thread, possibly several at once.
    public typealias Handler = @Sendable (ControlRequest) -> ControlReply

    /// The control socket; give it to the interposer as IPCSCOPE_CONTROL.
    public let path: String
    /// The private directory holding the socket.
    public let directory: String

    private let socketDirectory: ControlSocketDirectory
    private let loop: ControlAcceptLoop
    private let acceptThread: OSThread
    private let stopped = Atomic<Bool>(false)

    /// What a recorded program's environment needs (besides LD_PRELOAD) to reach this server.
    public var environment: [String: String] { [ControlEnvironment.controlVariable: path] }

    /// - Parameters:
    ///   - baseDirectory: where to create the private directory; default $XDG_RUNTIME_DIR, else /tmp.
    ///   - receiveTimeout: how long a connection may take to send its request (and to take the reply).
    ///   - maxConcurrentConnections: connections served on their own threads at once; more are served inline.
    public init(
        baseDirectory: String? = nil, receiveTimeout: Duration = .seconds(1), maxConcurrentConnections: Int = 32,
        handler: @escaping Handler
    ) throws(SystemError) {
        let socketDirectory = try ControlSocketDirectory.create(base: baseDirectory)
        var succeeded = false
        defer { if !succeeded { socketDirectory.remove() } }

        // Owned from here: a failure below drops, so closes, what was made so far.
        let type = Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
        let created = socket(AF_UNIX, type, 0)
        guard created >= 0 else { throw SystemError.current("socket(AF_UNIX, SOCK_SEQPACKET)") }
        let listener = OwnedFD(adopting: created)
        let socketPath = socketDirectory.socketPath
        try UnixSocketAddress.bind(listener.rawValue, to: socketPath)
        guard chmod(socketPath, 0o600) == 0 else { throw SystemError.current("chmod \(socketPath)") }
        guard listen(listener.rawValue, SOMAXCONN) == 0 else { throw SystemError.current("listen \(socketPath)") }
        let wake = try Pipe.make()

        // The loop owns the listener and the wake pipe, and closes them when it goes if `stop` did not.
        let loop = ControlAcceptLoop(
            listener: listener, wake: wake, handler: handler,
            receiveTimeout: receiveTimeout, maxConcurrentConnections: max(0, maxConcurrentConnections))
        acceptThread = try OSThread(name: "ipcscope-accept") { loop.run() }
        succeeded = true
        self.socketDirectory = socketDirectory
        self.loop = loop
        self.path = socketPath
        self.directory = socketDirectory.path
    }

    /// Stops accepting, removes the socket and its directory, and waits (up to `drainTimeout`) for
    /// connections in progress to finish. Idempotent.
    public func stop(drainTimeout: Duration = .seconds(10)) {
        guard stopped.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            return
        }
        loop.wake()
        acceptThread.join()
        loop.listener.drop()  // a socket's close has nothing to report
        socketDirectory.remove()
        let deadline = ContinuousClock.now.advanced(by: drainTimeout)
        while loop.activeConnections.load(ordering: .acquiring) > 0, ContinuousClock.now < deadline {
            usleep(1_000)
        }
        loop.wakeReadEnd.drop()
        loop.wakeWriteEnd.drop()
    }

    /// Replies that could not be sent: the client had gone or stopped reading (it timed out and fell back
    /// to the real call). Nothing can be done about one, so it is counted, not reported.
    public var undeliveredReplies: UInt64 { loop.undeliveredReplies.load(ordering: .relaxed) }

    /// Connections being served right now.
    public var activeConnections: Int { loop.activeConnections.load(ordering: .acquiring) }

    deinit { stop() }
}
