import CSystemShims
import Glibc
import Synchronization

/// A joinable pthread for the writer loop. The closure travels through pthread's `void *` argument:
/// a C function pointer cannot capture context.
final class WriterThread: Sendable {
    private final class Start: Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }

    private let handle: pthread_t
    private let joined = Atomic<Bool>(false)

    init(path: String, _ body: @escaping @Sendable () -> Void) throws(TraceFileError) {
        let context = Unmanaged.passRetained(Start(body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { argument in
            guard let argument else { return nil }
            let start = Unmanaged<Start>.fromOpaque(argument).takeRetainedValue()
            _ = ipcs_pthread_setname(pthread_self(), "trace-writer")
            start.body()
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<Start>.fromOpaque(context).release()
            throw .system(path: path, operation: "pthread_create (writer thread)", errno: rc)
        }
        handle = thread
    }

    /// Waits for the thread to end; only the first call joins.
    func join() {
        guard joined.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            return
        }
        pthread_join(handle, nil)
    }

    deinit {
        if !joined.load(ordering: .acquiring) { pthread_detach(handle) }
    }
}
