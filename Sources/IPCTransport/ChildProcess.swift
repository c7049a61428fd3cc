import CSystemShims
import Glibc
import Synchronization

/// How a child ended.
public enum ExitStatus: Equatable, Hashable, Sendable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    init(waitStatus status: Int32) {
        if ipcs_wifexited(status) != 0 {
            self = .exited(ipcs_wexitstatus(status))
        } else if ipcs_wifsignaled(status) != 0 {
            self = .signaled(ipcs_wtermsig(status))
        } else {
            self = .exited(-1)
        }
    }

    public var description: String {
        switch self {
        case .exited(let code): return "exited with \(code)"
        case .signaled(let signal): return "killed by signal \(signal)"
        }
    }
}

/// A process started by ``ProcessSpawner``. Reaped by `wait()`; captured output pipes are closed with it,
/// unless taken over with ``takeStandardError()``.
public final class ChildProcess: Sendable {
    public let pid: pid_t
    /// Read ends of captured stdout/stderr, owned by this object (closed with it); nil when not captured
    /// (or taken).
    private let output: Mutex<OwnedFD?>
    private let error: Mutex<OwnedFD?>
    /// The reaped status; the lock is held while blocked in waitpid so only one caller reaps.
    private let status = Mutex<ExitStatus?>(nil)
    private let reaped = Atomic<Bool>(false)

    init(pid: pid_t, standardOutput: consuming OwnedFD?, standardError: consuming OwnedFD?) {
        self.pid = pid
        output = Mutex(standardOutput)
        error = Mutex(standardError)
    }

    /// The read end of captured stdout, still owned by this object (closed with it).
    public var standardOutput: Int32? { output.withLock { $0?.rawValue } }
    /// The read end of captured stderr, still owned by this object (closed with it).
    public var standardError: Int32? { error.withLock { $0?.rawValue } }

    /// Hands the read end of captured stderr to the caller, who closes it; this object no longer does.
    public func takeStandardError() -> Int32? {
        guard let taken = error.withLock({ $0.take() }) else { return nil }
        return taken.release()
    }

    /// Blocks until the child exits and returns its status (the same value on every call).
    @discardableResult
    public func wait() -> ExitStatus {
        status.withLock { cached in
            if let cached { return cached }
            var raw: Int32 = 0
            do throws(SystemError) {
                _ = try retryingOnInterrupt("waitpid") { waitpid(pid, &raw, 0) }
            } catch {
                // ECHILD: someone else reaped it (e.g. a SIGCHLD handler); nothing more to learn.
                raw = 0
            }
            let exit = ExitStatus(waitStatus: raw)
            cached = exit
            reaped.store(true, ordering: .releasing)
            return exit
        }
    }

    /// Waits up to `timeout`; nil when the child is still running then.
    public func wait(timeout: Duration) -> ExitStatus? {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            if let exit = tryWait() { return exit }
            if ContinuousClock.now >= deadline { return nil }
            usleep(2_000)
        }
    }

    /// The status if the child has exited, without blocking.
    public func tryWait() -> ExitStatus? {
        status.withLock { cached in
            if let cached { return cached }
            var raw: Int32 = 0
            let result = waitpid(pid, &raw, WNOHANG)
            guard result == pid else { return nil }
            let exit = ExitStatus(waitStatus: raw)
            cached = exit
            reaped.store(true, ordering: .releasing)
            return exit
        }
    }

    /// Sends a signal unless the child was already reaped (its pid could belong to someone else by then).
    public func kill(_ signal: Int32 = SIGTERM) {
        guard !reaped.load(ordering: .acquiring) else { return }
        _ = Glibc.kill(pid, signal)
    }

    /// Reads captured stdout to EOF (the child must exit or close it).
    public func readStandardOutput() throws(SystemError) -> [UInt8] {
        guard let standardOutput else { return [] }
        return try Descriptor.readToEnd(standardOutput)
    }

    public func readStandardError() throws(SystemError) -> [UInt8] {
        guard let standardError else { return [] }
        return try Descriptor.readToEnd(standardError)
    }
}
