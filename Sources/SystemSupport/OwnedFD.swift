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

    /// Hands the fd to the caller, who owns it from now on; nil when it was closed or released already.
    public func release() -> Int32? {
        guard let fd = owned.withLock({ $0.take() }) else { return nil }
        return fd.release()
    }
}
