import CSystemShims
import Glibc

/// What a finished child process left behind.
public struct CommandResult: Sendable {
    /// The exit status, or 128 + the signal number when a signal ended the process.
    public var status: Int32
    public var stdout: String
    public var stderr: String
    public var timedOut: Bool
}

public struct CommandRunnerError: Error, CustomStringConvertible {
    public var description: String
}

/// Runs a program with posix_spawn and captures its output through pipes, killing it at a deadline; shared
/// by the test targets that run ipcscope as a user would. Not Foundation.Process: that one passes Swift Testing's blocked signal mask on to the
/// child and keeps an extra fd open in it.
public enum CommandRunner {
    public static func run(_ executable: String, _ arguments: [String], timeoutSeconds: Int32 = 120) throws -> CommandResult {
        var stdoutPipe: [Int32] = [-1, -1]
        var stderrPipe: [Int32] = [-1, -1]
        guard ipcs_pipe2(&stdoutPipe, O_CLOEXEC) == 0 else { throw CommandRunnerError(description: "pipe: errno \(errno)") }
        guard ipcs_pipe2(&stderrPipe, O_CLOEXEC) == 0 else {
            close(stdoutPipe[0]); close(stdoutPipe[1])
            throw CommandRunnerError(description: "pipe: errno \(errno)")
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)
        ipcs_spawn_addclosefrom(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Empty signal mask and default dispositions: Swift Testing threads block most signals.
        ipcs_spawnattr_reset_signals(&attributes)

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }

        var pid: pid_t = 0
        let spawnResult = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        close(stdoutPipe[1])
        close(stderrPipe[1])
        guard spawnResult == 0 else {
            close(stdoutPipe[0]); close(stderrPipe[0])
            throw CommandRunnerError(description: "posix_spawn \(executable): error \(spawnResult)")
        }

        let (out, err, timedOut) = readBoth(stdoutPipe[0], stderrPipe[0], pid: pid, timeoutSeconds: timeoutSeconds)
        close(stdoutPipe[0])
        close(stderrPipe[0])

        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw CommandRunnerError(description: "waitpid: errno \(errno)") }
        }
        let code: Int32 = ipcs_wifexited(status) != 0 ? ipcs_wexitstatus(status) : 128 + ipcs_wtermsig(status)
        return CommandResult(
            status: code, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self),
            timedOut: timedOut)
    }

    /// Drains both pipes together so that a child filling one of them never blocks; kills the child
    /// (SIGKILL) if it is still writing at the deadline.
    private static func readBoth(_ first: Int32, _ second: Int32, pid: pid_t, timeoutSeconds: Int32) -> ([UInt8], [UInt8], Bool) {
        var outputs: [[UInt8]] = [[], []]
        var fds = [pollfd(fd: first, events: Int16(POLLIN), revents: 0), pollfd(fd: second, events: Int16(POLLIN), revents: 0)]
        var open = 2
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let deadline = time(nil) + time_t(timeoutSeconds)
        var timedOut = false
        while open > 0 {
            let ready = poll(&fds, nfds_t(fds.count), 1000)
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            if ready == 0 {
                if !timedOut, time(nil) >= deadline {
                    timedOut = true
                    kill(pid, SIGKILL)
                }
                continue
            }
            for index in fds.indices where fds[index].fd >= 0 && fds[index].revents != 0 {
                let count = chunk.withUnsafeMutableBytes { read(fds[index].fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    outputs[index].append(contentsOf: chunk[0..<count])
                } else if count == 0 || errno != EINTR {
                    fds[index].fd = -1 // poll ignores negative fds
                    open -= 1
                }
            }
        }
        return (outputs[0], outputs[1], timedOut)
    }
}
