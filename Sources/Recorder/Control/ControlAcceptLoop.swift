import CSystemShims
import Glibc
import IPCTransport
import Synchronization
import SystemSupport

/// The accept thread's state. Each accepted connection is served on its own short-lived thread so a slow
/// client or a slow handler (a connect upstream) never holds up the next request; past
/// `maxConcurrentConnections` they are served inline, which bounds the threads a flood can create.
final class ControlAcceptLoop: Sendable {
    let listener: Int32
    let wakeReadEnd: Int32
    let wakeWriteEnd: Int32
    let handler: ControlServer.Handler
    let receiveTimeout: Duration
    let maxConcurrentConnections: Int
    let serverUID: uid_t
    /// Connections being served right now (threads plus the inline one).
    let activeConnections = Atomic<Int>(0)

    init(
        listener: Int32, wakeReadEnd: Int32, wakeWriteEnd: Int32, handler: @escaping ControlServer.Handler,
        receiveTimeout: Duration, maxConcurrentConnections: Int
    ) {
        self.listener = listener
        self.wakeReadEnd = wakeReadEnd
        self.wakeWriteEnd = wakeWriteEnd
        self.handler = handler
        self.receiveTimeout = receiveTimeout
        self.maxConcurrentConnections = maxConcurrentConnections
        self.serverUID = geteuid()
    }

    /// Runs until `wake()`.
    func run() {
        while true {
            var ready = [
                pollfd(fd: listener, events: Int16(POLLIN), revents: 0),
                pollfd(fd: wakeReadEnd, events: Int16(POLLIN), revents: 0),
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

    /// Makes `run()` return.
    func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWriteEnd, &byte, 1)
    }

    private func acceptOne() {
        let connection = ipcs_accept4(listener, Int32(SOCK_CLOEXEC.rawValue))
        guard connection >= 0 else {
            // Out of fds or memory: back off instead of spinning on a listener that stays readable.
            if [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(errno) { usleep(10_000) }
            return
        }
        let active = activeConnections.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue
        if active <= maxConcurrentConnections {
            let started = try? OSThread(name: "ipcscope-ctl") { [self] in
                serve(connection)
            }
            if started != nil { return } // dropping the handle detaches the thread
        }
        serve(connection)
    }

    private func serve(_ connection: Int32) {
        ControlConnection.serve(connection, serverUID: serverUID, timeout: receiveTimeout, handler: handler)
        activeConnections.wrappingSubtract(1, ordering: .acquiringAndReleasing)
    }
}
