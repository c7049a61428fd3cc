import Glibc
import Synchronization

/// A file descriptor with one owner. Non-copyable, so the fd cannot be closed twice: `close()` and
/// `release()` consume the value, and a second call does not compile.
///
/// Dropping one that was not consumed closes it (deinit): an owner left behind on an error path must not
/// leak its fd into every child spawned later. That close cannot report an error, so owners whose close
/// can fail meaningfully — a file that was written — call `close()` and handle what it throws.
/// (swift-system's `FileDescriptor` is a copyable integer: its copies can be closed twice.)
public struct OwnedFD: ~Copyable, Sendable {
    public let rawValue: Int32

    /// Takes ownership of `rawValue`, an open fd nobody else will close.
    public init(adopting rawValue: Int32) {
        precondition(rawValue >= 0, "not an fd: \(rawValue)")
        self.rawValue = rawValue
    }

    /// Closes the fd. Not retried on EINTR: Linux releases the fd even then, and the number may already
    /// belong to someone else. EINTR is therefore not reported as a failure.
    public consuming func close() throws(SystemError) {
        let fd = rawValue
        discard self
        if Glibc.close(fd) != 0 {
            let error = SystemError.current("close")
            if error.errno != EINTR { throw error }
        }
    }

    /// Gives up ownership without closing: the caller now owns the returned fd.
    public consuming func release() -> Int32 {
        let fd = rawValue
        discard self
        return fd
    }

    deinit {
        _ = Glibc.close(rawValue)
    }
}

/// An ``OwnedFD`` that several users of one open file share (a trace writer and its thread, the copies of
/// a reader): they borrow `rawValue`; it is closed once, by `close()` or when the last user lets go.
public final class SharedFD: Sendable {
    public let rawValue: Int32
    private let owned: Mutex<OwnedFD?>

    public init(_ fd: consuming OwnedFD) {
        rawValue = fd.rawValue
        owned = Mutex(fd)
    }

    /// Closes the fd now, reporting a failure; false when it was closed (or released) already.
    @discardableResult
    public func close() throws(SystemError) -> Bool {
        guard let fd = owned.withLock({ $0.take() }) else { return false }
        try fd.close()
        return true
    }

    /// Closes the fd now without a report, as dropping an ``OwnedFD`` does: for sockets and pipes, whose
    /// close has nothing to tell. False when it was closed (or released) already.
    @discardableResult
    public func drop() -> Bool {
        guard let fd = owned.withLock({ $0.take() }) else { return false }
        _ = consume fd
        return true
    }

    /// Runs `body` with the fd if it is still open, keeping it open meanwhile (a concurrent close waits):
    /// for a call such as shutdown(2) from another thread, which must never reach a number that was closed
    /// and given to someone else. Nil when it was closed or released already. Keep `body` short.
    public func withOpenFD<R>(_ body: (Int32) -> R) -> R? {
        owned.withLock { fd -> R? in
            guard fd != nil else { return nil }
            return body(rawValue)
        }
    }

    /// Hands the owned fd on (to another thread, say: a non-copyable value cannot be captured by an escaping
    /// closure, this class can); nil when it was closed, released or taken already.
    public func take() -> OwnedFD? {
        owned.withLock { $0.take() }
    }

    /// Hands the fd to the caller, who owns it from now on; nil when it was closed or released already.
    public func release() -> Int32? {
        guard let fd = owned.withLock({ $0.take() }) else { return nil }
        return fd.release()
    }
}

/// Several ``OwnedFD``s with one owner (a non-copyable value cannot be an Array element): the fds a spawn
/// closes in the parent, the ends handed to a child. Dropped unconsumed, it closes every one.
public struct OwnedFDs: ~Copyable, Sendable {
    private var fds: [Int32] = []

    public init() {}

    public var count: Int { fds.count }
    /// The numbers, borrowed: valid while this value holds them.
    public var rawValues: [Int32] { fds }

    public mutating func append(_ fd: consuming OwnedFD) {
        fds.append(fd.release())
    }

    /// Gives up ownership of all of them without closing: the caller owns the returned fds.
    public consuming func release() -> [Int32] {
        let all = fds
        fds = []
        return all
    }

    deinit {
        for fd in fds { _ = Glibc.close(fd) }
    }
}
