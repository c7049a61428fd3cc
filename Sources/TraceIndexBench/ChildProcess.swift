import Glibc

/// A command run to its end with its wall time, CPU time and memory: peak resident memory from `wait4`
/// (`ru_maxrss`, the mapped trace's pages included) and the peak of its anonymous memory (`RssAnon`: the
/// process's own heap and stacks, not file pages), sampled from /proc every 5 ms while it runs.
struct ChildRun {
    var seconds: Double
    var cpu: Double
    var maxRSS: Int
    var peakAnon: Int
    var status: Int32

    var succeeded: Bool { status == 0 }

    /// Runs `arguments` (the first found on PATH unless it has a slash) with standard output to `output`
    /// and standard error to `errors`; extra `environment` entries (`KEY=VALUE`) override the inherited ones.
    static func run(_ arguments: [String], output: String = "/dev/null", errors: String = "/dev/null",
                    environment: [String] = []) throws -> ChildRun {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errors, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let overridden = Set(environment.map { $0.prefix { $0 != "=" } })
        var inherited: [String] = []
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if !overridden.contains(text.prefix { $0 != "=" }) { inherited.append(text) }
            entry += 1
        }
        var cArguments = arguments.map { strdup($0) } + [nil]
        var cEnvironment = (inherited + environment).map { strdup($0) } + [nil]
        defer {
            for pointer in cArguments { free(pointer) }
            for pointer in cEnvironment { free(pointer) }
        }
        let start = Measurement.now()
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, arguments[0], &actions, nil, &cArguments, &cEnvironment)
        guard spawned == 0 else { throw BenchError("cannot run \(arguments[0]): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        var usage = rusage()
        var peakAnon = 0
        while true {
            let done = wait4(pid, &status, WNOHANG, &usage)
            if done == pid { break }
            if done < 0 && errno != EINTR { throw BenchError("wait4: \(String(cString: strerror(errno)))") }
            peakAnon = max(peakAnon, Self.residentAnonymous(pid))
            usleep(5_000)
        }
        let seconds = Measurement.now() - start
        let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        let exit: Int32 = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return ChildRun(seconds: seconds, cpu: cpu, maxRSS: usage.ru_maxrss * 1024, peakAnon: peakAnon, status: exit)
    }

    /// RssAnon of a running process in bytes (0 once it is gone).
    static func residentAnonymous(_ pid: pid_t) -> Int {
        for line in Measurement.readText("/proc/\(pid)/status").split(separator: "\n") where line.hasPrefix("RssAnon:") {
            return (line.split(separator: " ").compactMap { Int($0) }.first ?? 0) * 1024
        }
        return 0
    }
}
