import CSystemShims
import Glibc
import IPCTransport
import Synchronization
import SystemSupport

/// The accept thread's state. Each accepted connection is served on its own short-lived thread so a slow
/// client or a slow handler (a connect upstream) never holds up the next request; past
/// `maxConcurrentConnections` they are served inline, which bounds the threads a flood can create.
final class ControlAcceptLoop: Sendable {
    /// Closed by ``ControlServer/stop(drainTimeout:)`` (or when the loop goes), once.
    let listener: SharedFD
    let wakeReadEnd: SharedFD
    let wakeWriteEnd: SharedFD
    let handler: ControlServer.Handler
    let receiveTimeout: Duration
    let maxConcurrentConnections: Int
    let serverUID: uid_t
    /// Connections being served right now (threads plus the inline one).
    let activeConnections = Atomic<Int>(0)
    /// Replies that could not be sent (see ``ControlConnection``).
    let undeliveredReplies = Atomic<UInt64>(0)

    init(
        listener: consuming OwnedFD, wake: consuming Pipe, handler: @escaping ControlServer.Handler,
        receiveTimeout: Duration, maxConcurrentConnections: Int
    ) {
        self.listener = SharedFD(listener)
        self.wakeReadEnd = SharedFD(wake.readEnd)
        self.wakeWriteEnd = SharedFD(wake.writeEnd)
        self.handler = handler
        self.receiveTimeout = receiveTimeout
        self.maxConcurrentConnections = maxConcurrentConnections
        self.serverUID = geteuid()
    }

    /// Runs until `wake()`.
    func run() {
        while true {
            var ready = [
                pollfd(fd: listener.rawValue, events: Int16(POLLIN), revents: 0),
                pollfd(fd: wakeReadEnd.rawValue, events: Int16(POLLIN), revents: 0),
            ]
            do throws(SystemError) {
                _ = try retryingOnInterrupt("poll") { poll(&ready, 2, -1) }
            } catch {
                return
            }
            if ready[1].revents != 0 { return }
            // A listener in error would make poll return at once forever: stop instead of spinning
            // (clients then time out and fall back to unrecorded calls).
            if ready[0].revents & Int16(POLLERR | POLLNVAL) != 0 { return }
            if ready[0].revents & Int16(POLLIN) != 0 { acceptOne() }
        }
    }

    /// Makes `run()` return. Called once (ControlServer.stop is idempotent), so the empty pipe has room:
    /// what could still fail is a closed pipe, a bug the assertion names.
    func wake() {
        var byte: UInt8 = 1
        let writeEnd = wakeWriteEnd.rawValue
        do throws(SystemError) {
            try withUnsafeBytes(of: &byte) { (bytes) throws(SystemError) in
                try writeAll(bytes, "write(wake pipe)") { rest in write(writeEnd, rest.baseAddress, rest.count) }
            }
        } catch {
            assertionFailure("control server wake: \(error)")
        }
    }

    private func acceptOne() {
        let accepted = ipcs_accept4(listener.rawValue, Int32(SOCK_CLOEXEC.rawValue))
        guard accepted >= 0 else {
            // Out of fds or memory: back off instead of spinning on a listener that stays readable.
            if [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(errno) { usleep(10_000) }
            return
        }
        // Shared only to reach the connection's thread (which takes it); closed by whoever serves it.
        let connection = SharedFD(OwnedFD(adopting: accepted))
        let active = activeConnections.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue
        if active <= maxConcurrentConnections {
            do {
                _ = try OSThread(name: "ipcscope-ctl") { [self] in serve(connection) }
                return  // dropping the handle detaches the thread
            } catch {
                // No thread: served inline below.
            }
        }
        serve(connection)
    }

    private func serve(_ connection: SharedFD) {
        if let fd = connection.take() {
            ControlConnection.serve(fd, serverUID: serverUID, timeout: receiveTimeout, handler: handler,
                                    undeliveredReplies: undeliveredReplies)
        }
        activeConnections.wrappingSubtract(1, ordering: .acquiringAndReleasing)
    }
}
