import CSystemShims
import Glibc
import IPCWire

/// Starts processes with posix_spawn (not Foundation.Process, which cannot pass extra fds, leaks its own
/// socket into children and passes on the caller's signal mask; see swift-notes §2–3).
public enum ProcessSpawner {
    /// What a child's stdout or stderr is connected to.
    public enum Output: Sendable {
        case inherit
        case discard
        /// A pipe whose read end is `ChildProcess.standardOutput` / `standardError`. Drain it, or a chatty
        /// child blocks.
        case capture
        /// This open file (borrowed, ≥ 3; it may be close-on-exec): a log the child appends to.
        case file(Int32)
    }

    public enum Input: Sendable {
        case inherit
        /// /dev/null: the child must not read the terminal (a viewer in the parent does).
        case null
    }

    /// Spawns `executable` (a path; searched in PATH when it has no `/`) with `arguments` (argv[0] is the
    /// executable). The child's environment is ours plus `environment` (which overrides). The child sees
    /// stdin, stdout, stderr and exactly the `passing` fds; every other fd is closed in the child. Its
    /// signal mask is empty and dispositions default. Each `parentFD` appears in the child as `childFD`
    /// (≥ 3; use 3, 4, … — gaps are closed); the parent's fds are only borrowed.
    public static func spawn(
        executable: String,
        arguments: [String] = [],
        environment: [String: String] = [:],
        passing: [(childFD: Int32, parentFD: Int32)] = [],
        standardInput: Input = .inherit,
        standardOutput: Output = .inherit,
        standardError: Output = .inherit
    ) throws(SystemError) -> ChildProcess {
        for case .file(let fd) in [standardOutput, standardError] where fd < 3 {
            throw SystemError(errno: EINVAL, operation: "spawn: output file fd \(fd) is a stdio number")
        }
        if let bad = passing.first(where: { $0.childFD < 3 }) {
            throw SystemError(errno: EINVAL, operation: "spawn: child fd \(bad.childFD) would replace stdio")
        }
        if Set(passing.map(\.childFD)).count != passing.count {
            throw SystemError(errno: EINVAL, operation: "spawn: the same child fd is passed twice")
        }

        // The parent's copies of what the child gets: closed when spawn returns or throws.
        var parentFDsToClose = OwnedFDs()
        // Read ends of captured output: handed to the ChildProcess, or closed (dropped) on any failure.
        var stdoutRead: OwnedFD?
        var stderrRead: OwnedFD?

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }

        // stdio first: later dup2s must not be able to clobber the pipe ends they read from.
        if case .null = standardInput {
            let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
            guard null >= 0 else { throw SystemError.current("open /dev/null") }
            parentFDsToClose.append(OwnedFD(adopting: null))
            try check(posix_spawn_file_actions_adddup2(&actions, null, 0), "adddup2")
        }
        for (target, output) in [(Int32(1), standardOutput), (Int32(2), standardError)] {
            switch output {
            case .inherit:
                break
            case .discard:
                let null = open("/dev/null", O_WRONLY | O_CLOEXEC)
                guard null >= 0 else { throw SystemError.current("open /dev/null") }
                parentFDsToClose.append(OwnedFD(adopting: null))
                try check(posix_spawn_file_actions_adddup2(&actions, null, target), "adddup2")
            case .file(let fd):
                try check(posix_spawn_file_actions_adddup2(&actions, fd, target), "adddup2")
            case .capture:
                let pipe = try Pipe.make()
                let writeEnd = pipe.writeEnd.rawValue
                parentFDsToClose.append(pipe.writeEnd)
                if target == 1 {
                    stdoutRead = .some(pipe.readEnd)
                } else {
                    stderrRead = .some(pipe.readEnd)
                }
                try check(posix_spawn_file_actions_adddup2(&actions, writeEnd, target), "adddup2")
            }
        }

        // Passed fds go through temporary copies numbered above every target, so `dup2(a, 3); dup2(b, 4)`
        // cannot overwrite a source that happens to be 4.
        let highestTarget = passing.map(\.childFD).max() ?? 2
        for passed in passing {
            let temporary = try Descriptor.duplicate(passed.parentFD, minimum: highestTarget + 1)
            let number = temporary.rawValue
            parentFDsToClose.append(temporary)
            try check(posix_spawn_file_actions_adddup2(&actions, number, passed.childFD), "adddup2")
        }
        let targets = Set(passing.map(\.childFD))
        if highestTarget >= 3 {
            for gap in 3...highestTarget where !targets.contains(gap) {
                try check(posix_spawn_file_actions_addclose(&actions, gap), "addclose")
            }
        }
        // Everything above the passed fds, including inherited non-CLOEXEC strays from our own parent.
        try check(ipcs_spawn_addclosefrom(&actions, highestTarget + 1), "addclosefrom")

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        try check(ipcs_spawnattr_reset_signals(&attributes), "spawnattr signals")

        let argv = CStringArray([executable] + arguments)
        let envp = CStringArray(mergedEnvironment(adding: environment))
        var pid: pid_t = 0
        let rc: Int32 = executable.contains("/")
            ? posix_spawn(&pid, executable, &actions, &attributes, argv.pointers, envp.pointers)
            : posix_spawnp(&pid, executable, &actions, &attributes, argv.pointers, envp.pointers)
        try check(rc, "posix_spawn \(executable)")
        return ChildProcess(pid: pid, standardOutput: stdoutRead, standardError: stderrRead)
    }

    /// Ladybird's helper launch (docs/protocol.md §7): a socketpair, the child's end passed as fd 3 with
    /// `SOCKET_TAKEOVER=<name>:3` in its environment, our end wrapped in an ``IPCTransport``.
    public static func spawnHelper(
        name: String,
        executable: String,
        arguments: [String] = [],
        environment: [String: String] = [:],
        standardOutput: Output = .inherit,
        standardError: Output = .inherit,
        limits: ReceiveLimits = .ladybird
    ) throws(TransportError) -> (transport: IPCTransport, process: ChildProcess) {
        let pair: SocketPair
        do { pair = try SocketPair.make() } catch { throw .system(error) }
        let childFD: Int32 = 3
        var childEnvironment = environment
        childEnvironment[SocketTakeover.environmentVariable] = SocketTakeover.format(name: name, fd: childFD)
        let process: ChildProcess
        do {
            // The child gets its own copy of `second`; ours closes when the pair goes (also on failure).
            process = try spawn(
                executable: executable, arguments: arguments, environment: childEnvironment,
                passing: [(childFD: childFD, parentFD: pair.second.rawValue)],
                standardOutput: standardOutput, standardError: standardError)
        } catch {
            throw .system(error)
        }
        let second = pair.second
        _ = consume second  // dropped, so closed: the child has its copy (a socket's close has nothing to report)
        do {
            return (try IPCTransport(adopting: pair.first, limits: limits), process)
        } catch {
            process.kill(SIGKILL)
            process.wait()
            throw error
        }
    }

    private static func check(_ rc: Int32, _ operation: String) throws(SystemError) {
        // posix_spawn* return the error number instead of setting errno.
        if rc != 0 { throw SystemError(errno: rc, operation: operation) }
    }

    private static func mergedEnvironment(adding additions: [String: String]) -> [String] {
        var result: [String] = []
        for entry in ProcessEnvironment.entries() {
            let key = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? entry
            if additions[key] == nil { result.append(entry) }
        }
        for (key, value) in additions.sorted(by: { $0.key < $1.key }) { result.append("\(key)=\(value)") }
        return result
    }
}

/// A NULL-terminated `char *[]` that lives as long as this object.
private final class CStringArray {
    let pointers: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    private let count: Int

    init(_ strings: [String]) {
        count = strings.count
        pointers = .allocate(capacity: strings.count + 1)
        for (index, string) in strings.enumerated() { pointers[index] = strdup(string) }
        pointers[strings.count] = nil
    }

    deinit {
        for index in 0..<count { free(pointers[index]) }
        pointers.deallocate()
    }
}
