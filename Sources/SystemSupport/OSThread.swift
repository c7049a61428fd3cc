import CSystemShims
import Glibc
import Synchronization

/// A joinable pthread running a `@Sendable` closure. The closure travels through pthread's `void *`
/// argument: a C function pointer cannot capture context (and trying crashes the Swift 6.3 frontend).
public final class OSThread: Sendable {
    private final class Start: Sendable {
        let name: String
        let body: @Sendable () -> Void
        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }

    private let handle: pthread_t
    private let joined = Atomic<Bool>(false)

    /// Starts the thread. `name` shows in /proc and debuggers (the kernel keeps 15 bytes).
    public init(name: String, _ body: @escaping @Sendable () -> Void) throws(SystemError) {
        let context = Unmanaged.passRetained(Start(name: name, body: body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { argument in
            guard let argument else { return nil }
            let start = Unmanaged<Start>.fromOpaque(argument).takeRetainedValue()
            _ = ipcs_pthread_setname(pthread_self(), String(start.name.utf8.prefix(15)) ?? "thread")
            start.body()
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<Start>.fromOpaque(context).release()
            throw SystemError(errno: rc, operation: "pthread_create")
        }
        handle = thread
    }

    /// Waits for the thread to end. Only the first call joins; later calls return at once.
    public func join() {
        guard joined.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            return
        }
        pthread_join(handle, nil)
    }

    deinit {
        // A thread nobody joined must not stay a zombie: detach it.
        if !joined.load(ordering: .acquiring) { pthread_detach(handle) }
    }
}
