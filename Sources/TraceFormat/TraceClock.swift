import Glibc

/// The clocks trace times come from.
public enum TraceClock {
    /// CLOCK_MONOTONIC in ns: every record's time.
    @inline(__always)
    public static func monotonicNanoseconds() -> UInt64 {
        read(CLOCK_MONOTONIC)
    }

    /// CLOCK_REALTIME in ns since the Unix epoch.
    public static func wallClockNanoseconds() -> UInt64 {
        read(CLOCK_REALTIME)
    }

    @inline(__always)
    private static func read(_ clock: clockid_t) -> UInt64 {
        var now = timespec()
        clock_gettime(clock, &now)
        return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
    }
}

extension TraceHeader {
    /// A header for a recording starting now on this host: clocks anchored, IPCWire's limits filled in.
    public static func startingNow(
        ipcscopeVersion: String, commandLine: [String], snapLength: UInt32,
        schemas: [EmbeddedSchema] = [], limits: [Limit] = TraceHeader.libIPCLimits
    ) -> TraceHeader {
        // Read the wall clock between two monotonic reads and anchor it at their midpoint.
        let before = TraceClock.monotonicNanoseconds()
        let wall = TraceClock.wallClockNanoseconds()
        let after = TraceClock.monotonicNanoseconds()
        return TraceHeader(
            createdWallClockNanoseconds: wall, monotonicAnchorNanoseconds: before + (after - before) / 2,
            hostName: currentHostName(), ipcscopeVersion: ipcscopeVersion, commandLine: commandLine,
            limits: limits, snapLength: snapLength, schemas: schemas)
    }

    private static func currentHostName() -> String {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return "" }
        return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
