import Glibc
import IPCTransport

/// Waits for SIGINT or SIGTERM on the calling thread.
///
/// `blockTerminationSignals()` must run before any other thread starts, so every thread inherits the
/// blocked mask and the signal can only be taken by `wait()` — no handler runs on a relay thread.
public enum SignalWaiter {
    public static func blockTerminationSignals() {
        var set = terminationSignals()
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Blocks until SIGINT or SIGTERM arrives; returns its number.
    public static func wait() -> Int32 {
        var set = terminationSignals()
        var signal: Int32 = 0
        while sigwait(&set, &signal) != 0 {}
        return signal
    }

    /// Takes a pending SIGINT or SIGTERM without waiting, if there is one.
    public static func poll() -> Int32? {
        var set = terminationSignals()
        var timeout = timespec(tv_sec: 0, tv_nsec: 0)
        let signal = sigtimedwait(&set, nil, &timeout)
        return signal > 0 ? signal : nil
    }

    /// Ends this process the way `status` ended the command: same exit code, or the same signal.
    public static func exit(like status: ExitStatus) -> Never {
        switch status {
        case .exited(let code):
            Glibc.exit(code)
        case .signaled(let signal):
            // Re-raise with the default action so our parent sees the same death (like strace does).
            Glibc.signal(signal, SIG_DFL)
            var set = sigset_t()
            sigemptyset(&set)
            sigaddset(&set, signal)
            pthread_sigmask(SIG_UNBLOCK, &set, nil)
            kill(getpid(), signal)
            Glibc.exit(128 + signal)
        }
    }

    private static func terminationSignals() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        return set
    }
}
