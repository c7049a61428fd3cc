import CSystemShims
import Glibc
import IPCTransport
import Synchronization

/// Notices at once when a program closes its end of a relayed channel completely, whatever the relay
/// threads are blocked in: one thread per process waits in epoll on every proxy socket for EPOLLHUP,
/// which an AF_UNIX stream socket reports only when both halves are shut — the program's close (or its
/// shutdown of both halves), never a half-close (that is POLLRDHUP alone).
///
/// An fd number is never touched after its channel closed it: a watch is registered and removed under
/// the lock the callbacks run under, and events carry a token, not the fd.
final class HangUpWatcher: Sendable {
    private struct Watch {
        let fd: Int32
        let onHangUp: @Sendable () -> Void
    }

    private struct Registry {
        var watches: [UInt64: Watch] = [:]
        var nextToken: UInt64 = 1
    }

    private let epoll: Int32
    private let registry = Mutex(Registry())

    private static let instance = Mutex<HangUpWatcher?>(nil)

    /// The process's watcher, started on first use.
    static func shared() throws(SystemError) -> HangUpWatcher {
        try instance.withLock { (current: inout HangUpWatcher?) throws(SystemError) -> HangUpWatcher in
            if let current { return current }
            let watcher = try HangUpWatcher()
            current = watcher
            return watcher
        }
    }

    private init() throws(SystemError) {
        epoll = ipcs_epoll_create()
        guard epoll >= 0 else { throw SystemError.current("epoll_create1") }
        do {
            // Runs for the life of the process (the watcher is never released).
            _ = try OSThread(name: "ipcscope-hangup") { [self] in run() }
        } catch {
            Descriptor.close(epoll)
            throw error
        }
    }

    /// Calls `onHangUp` once, on the watcher thread, when `fd` reports EPOLLHUP. It runs under the
    /// registry's lock, so it must be quick and must not call back into the watcher. Returns the token
    /// for ``unwatch(_:)``, which must come before `fd` is closed.
    func watch(_ fd: Int32, onHangUp: @escaping @Sendable () -> Void) throws(SystemError) -> UInt64 {
        try registry.withLock { (registry: inout Registry) throws(SystemError) -> UInt64 in
            let token = registry.nextToken
            // Events 0: EPOLLHUP and EPOLLERR are always reported; one-shot so a level-triggered hang-up
            // fires once, not in a loop.
            guard ipcs_epoll_add(epoll, fd, IPCS_EPOLLONESHOT, token) == 0 else {
                throw SystemError.current("epoll_ctl(ADD)")
            }
            registry.nextToken += 1
            registry.watches[token] = Watch(fd: fd, onHangUp: onHangUp)
            return token
        }
    }

    /// Stops watching. When it returns, the callback is not running and never will, and the fd is out of
    /// the epoll set (a one-shot watch that fired stays registered until this).
    func unwatch(_ token: UInt64) {
        registry.withLock { registry in
            guard let watch = registry.watches.removeValue(forKey: token) else { return }
            if ipcs_epoll_delete(epoll, watch.fd) != 0 {
                // Only a bug gets here (the fd closed before unwatch): say so rather than hide it.
                Self.report("hang-up watcher: \(SystemError.current("epoll_ctl(DEL) of fd \(watch.fd)"))")
            }
        }
    }

    func isWatching(_ token: UInt64) -> Bool {
        registry.withLock { $0.watches[token] != nil }
    }

    /// A line on stderr; if even that fails there is nobody left to tell.
    private static func report(_ message: String) {
        do {
            try Descriptor.writeAll(STDERR_FILENO, Array("ipcscope: \(message)\n".utf8))
        } catch {}
    }

    private func run() {
        let capacity: Int32 = 64
        var tokens = [UInt64](repeating: 0, count: Int(capacity))
        var events = [UInt32](repeating: 0, count: Int(capacity))
        while true {
            let count = ipcs_epoll_wait(epoll, &tokens, &events, capacity, -1)
            if count < 0 {
                if errno == EINTR { continue }
                Self.report("hang-up watcher stopped: \(SystemError.current("epoll_wait"))")
                return
            }
            for index in 0..<Int(count) where events[index] & IPCS_EPOLLHUP != 0 {
                // An EPOLLERR without EPOLLHUP is ignored: AF_UNIX sets a socket error only in the same
                // step that shuts both halves (the peer's close), which also reports EPOLLHUP.
                registry.withLock { registry in registry.watches[tokens[index]]?.onHangUp() }
            }
        }
    }
}
