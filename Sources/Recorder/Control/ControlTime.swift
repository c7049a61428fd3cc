import Glibc
import SystemSupport

/// Duration conversions for poll() and socket timeouts (namespaced to stay out of the module's way).
enum ControlTime {
    /// Whole milliseconds, rounded down.
    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    static func timeval(_ duration: Duration) -> Glibc.timeval {
        let (seconds, attoseconds) = duration.components
        return Glibc.timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }

    /// Polls one fd for `events` until `deadline`, riding out EINTR. False on timeout or error.
    static func wait(_ fd: Int32, for events: Int32, until deadline: ContinuousClock.Instant) -> Bool {
        var ready = pollfd(fd: fd, events: Int16(events), revents: 0)
        while true {
            // The timeout is worked out again on each try, so an interrupted poll never overshoots.
            let result: Int32
            do throws(SystemError) {
                result = try retryingOnInterrupt("poll") { () -> Int32 in
                    let remaining = ContinuousClock.now.duration(to: deadline)
                    if remaining <= .zero { return 0 }
                    return poll(&ready, 1, Int32(clamping: milliseconds(remaining) + 1))
                }
            } catch {
                return false
            }
            if result > 0 { return true }
            if ContinuousClock.now >= deadline { return false }
        }
    }
}
