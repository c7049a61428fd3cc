import CSystemShims
import Glibc
import Testing
@testable import TraceFormat

/// SIGKILL the writing process: every record it handed to write(2) must read back.
@Suite struct DurabilityTests {
    @Test func recordsSurviveSIGKILLOfTheWriter() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("killed.ipctrace")
        let child = try ChildProcess(executable: try Self.stressBinary(), arguments: [path])
        defer { child.killAndReap() }
        let output = child.readStandardOutput(until: "ready", timeoutNanoseconds: 30_000_000_000)
        try #require(output.contains("ready"), "TraceWriterStress said: \(output)")
        usleep(200_000)
        let status = child.killAndReap()
        #expect(ipcs_wifsignaled(status) != 0 && ipcs_wtermsig(status) == SIGKILL)

        let reader = try TraceReader(path: path)
        let report = reader.validate()
        #expect(report.corruptions.isEmpty, "\(report.corruptions)")
        #expect(report.header?.ipcscopeVersion == "stress")
        #expect(report.frameCount > 0)
        // Every complete record decodes, in order, with frame indexes counting up.
        var nextFrame: UInt64 = 0
        var records = 0
        for (_, record) in reader.records() {
            records += 1
            guard case .payloadFrame(let frame) = record else { continue }
            #expect(frame.frameIndex == nextFrame)
            nextFrame = frame.frameIndex + 1
        }
        #expect(records == report.recordCount)
        #expect(records > 200)
        if let tail = report.truncatedTail {
            #expect(tail.offset + tail.length == report.fileSize)
        }
    }

    /// TraceWriterStress is built next to the test bundle (`swift test` builds executable dependencies).
    static func stressBinary() throws -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        try #require(length > 0)
        let executable = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var directory = executable
        while let slash = directory.lastIndex(of: "/") {
            directory = String(directory[..<slash])
            let candidate = directory + "/TraceWriterStress"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        Issue.record("TraceWriterStress not found near \(executable)")
        throw ChildProcessError.notFound
    }
}

enum ChildProcessError: Error {
    case notFound
    case spawn(Int32)
}

/// A child started with posix_spawn: stdout to a pipe, no inherited fds beyond 0–2, default signals.
final class ChildProcess {
    let pid: pid_t
    private let output: Int32
    private var reaped: Int32?

    init(executable: String, arguments: [String]) throws {
        var pipe: [Int32] = [-1, -1]
        guard ipcs_pipe2(&pipe, O_CLOEXEC) == 0 else { throw ChildProcessError.spawn(errno) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipe[1], 1)
        _ = ipcs_spawn_addclosefrom(&actions, 3)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        _ = ipcs_spawnattr_reset_signals(&attributes)

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, executable, &actions, &attributes, argv, environ)
        close(pipe[1])
        guard rc == 0 else {
            close(pipe[0])
            throw ChildProcessError.spawn(rc)
        }
        pid = child
        output = pipe[0]
    }

    /// Reads stdout until it contains `marker`, the pipe closes, or the timeout passes.
    func readStandardOutput(until marker: String, timeoutNanoseconds: UInt64) -> String {
        let deadline = TraceClock.monotonicNanoseconds() + timeoutNanoseconds
        var text = ""
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !text.contains(marker) {
            let now = TraceClock.monotonicNanoseconds()
            guard now < deadline else { break }
            var poller = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32((deadline - now) / 1_000_000) + 1) > 0 else { continue }
            let n = chunk.withUnsafeMutableBytes { read(output, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            text += String(decoding: chunk[..<n], as: UTF8.self)
        }
        return text
    }

    /// SIGKILLs the child (if still running) and returns its wait status.
    @discardableResult
    func killAndReap() -> Int32 {
        if let reaped { return reaped }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        reaped = status
        close(output)
        return status
    }
}
