import CSystemShims
import Glibc
import IPCTransport
import IPCWire

/// How the client reaches the server.
struct Transport: Hashable, Sendable {
    enum Kind: Hashable, Sendable {
        /// A socketpair: the client keeps one end, the server process gets the other over SCM_RIGHTS.
        case direct
        /// `connect()` straight to the server's listening path: no proxy, but a path connection like the
        /// proxied ones (a diagnostic; not run by default).
        case directPath
        /// Through `ipcscope record --listen … --upstream …` (a child process writing a trace).
        case ipcscope
        /// Through `socat UNIX-LISTEN:…,fork UNIX-CONNECT:…` (no fd passing, no parsing: a plain byte relay).
        case socat
    }

    var kind: Kind
    /// The row label; also tells ipcscope variants apart.
    var name: String

    static let direct = Transport(kind: .direct, name: "direct")
    static let directPath = Transport(kind: .directPath, name: "direct-path")
    static let ipcscope = Transport(kind: .ipcscope, name: "ipcscope")
    static let socat = Transport(kind: .socat, name: "socat")

    static func named(_ name: String) -> Transport? {
        [direct, directPath, ipcscope, socat].first { $0.name == name }
    }
}

/// An `ipcscope record` to run: the default one, or a variant (another binary, other environment) that
/// runs side by side with it as a transport of its own.
struct RecorderSpec: Sendable {
    var name: String
    var executable: String
    var environment: [String: String] = [:]
}

/// CPU time of a process (all its threads) from /proc/PID/stat, in seconds.
enum ProcessCPU {
    private static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    static func seconds(pid: pid_t) -> Double? {
        guard let text = readSmallFile("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else { return nil }
        // Fields after the command: state(3) ppid … utime(14) stime(15).
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / ticksPerSecond
    }

    static func ownSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }

    /// Direct children of `pid` (needs /proc/PID/task/PID/children).
    static func children(of pid: pid_t) -> Set<pid_t> {
        guard let text = readSmallFile("/proc/\(pid)/task/\(pid)/children") else { return [] }
        return Set(text.split(separator: " ").compactMap { pid_t($0.trimmingWhitespace) })
    }

    static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { Descriptor.close(fd) }
        var bytes = [UInt8](repeating: 0, count: 4096)
        let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count >= 0 else { return nil }
        return String(decoding: bytes[0..<count], as: UTF8.self)
    }
}

extension Substring {
    var trimmingWhitespace: Substring {
        var text = self
        while let first = text.first, first.isWhitespace { text = text.dropFirst() }
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        return text
    }
}

/// A running `ipcscope record` in front of the server.
final class RunningRecorder {
    let spec: RecorderSpec
    let listenPath: String
    let tracePath: String
    let process: ChildProcess
    /// Its stderr once it has stopped (the summary line).
    private(set) var output = ""
    /// Frames the benchmark sent through it, hello/ready/result included.
    var framesSent: UInt64 = 0
    private(set) var traceSize: Int64?

    /// `run` numbers the trace: every timed run gets a recorder and a trace of its own.
    init(spec: RecorderSpec, run: Int, directory: String, traceDirectory: String?, upstream: String,
         snapLength: Int) throws {
        self.spec = spec
        let slug = String(spec.name.map { $0.isLetter || $0.isNumber ? $0 : "_" })
        listenPath = "\(directory)/\(slug).sock"
        let traceName = "\(slug)-\(run).trace"
        tracePath = traceDirectory.map { "\($0)/ipcbench-\(getpid())-\(traceName)" } ?? "\(directory)/\(traceName)"
        process = try ProcessSpawner.spawn(
            executable: spec.executable,
            arguments: ["record", "-o", tracePath, "--listen", listenPath, "--upstream", upstream,
                        "--snaplen", "\(snapLength)"],
            environment: spec.environment,
            standardError: .capture)
        try Self.waitForLine(containing: "recording to", from: process, name: "\(spec.name) (ipcscope record)")
    }

    func stop() {
        process.kill(SIGINT)
        if process.wait(timeout: .seconds(30)) == nil {
            process.kill(SIGKILL)
            process.wait()
        }
        output = String(decoding: (try? process.readStandardError()) ?? [], as: UTF8.self)
        traceSize = BenchIO.fileSize(tracePath)
    }

    var summaryLine: String {
        output.split(separator: "\n").last(where: { $0.contains(" frames") }).map(String.init)
            ?? "no summary line: \(output)"
    }

    /// The payload frame count of the summary line ("…, N payload frames, …").
    var recordedFrames: UInt64? {
        number(before: " payload frame")
    }

    /// Frames whose capture the writer lost ("writer behind: N payloads cut to their envelope, M frame
    /// records dropped"), 0 when none.
    var captureLostFrames: UInt64 {
        (number(before: " payloads cut to their envelope") ?? 0) + (number(before: " frame records dropped") ?? 0)
    }

    /// The number written just before `text` in the summary line.
    private func number(before text: String) -> UInt64? {
        guard let range = summaryLine.range(of: text) else { return nil }
        let digits = summaryLine[..<range.lowerBound].reversed().prefix { $0.isNumber }
        return UInt64(String(digits.reversed()))
    }

    func removeFiles(keepingTrace: Bool = false) {
        if !keepingTrace { unlink(tracePath) }
        unlink(listenPath)
    }

    /// Reads the child's stderr until a line contains `text` (within 20 s).
    private static func waitForLine(containing text: String, from child: ChildProcess, name: String) throws {
        guard let fd = child.standardError else { return }
        var collected: [UInt8] = []
        let deadline = BenchIO.now() &+ 20_000_000_000
        while BenchIO.now() < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 200)
            if ready < 0 && errno != EINTR { break }
            if ready <= 0 { continue }
            var byte: UInt8 = 0
            let count = read(fd, &byte, 1)
            if count <= 0 { break }
            collected.append(byte)
            if byte == 0x0A, String(decoding: collected, as: UTF8.self).contains(text) { return }
        }
        let output = String(decoding: collected, as: UTF8.self)
        child.kill(SIGKILL)
        child.wait()
        throw BenchFailure("\(name) did not start: \(output.isEmpty ? "no output" : output)")
    }
}

/// The processes of one benchmark: the server, and the proxies in front of it.
final class BenchEnvironment {
    let workDirectory: String
    let serverPath: String
    let server: ChildProcess
    private let control: Int32
    let socketBufferSize: Int

    /// By transport name: "ipcscope" and any variants; the recorder of the current run.
    private(set) var recorders: [String: RunningRecorder] = [:]
    private(set) var recorderOrder: [String] = []
    /// What every finished recorder of a transport did, by transport name.
    private(set) var recorderTotals: [String: RecorderTotals] = [:]
    private let recorderSpecs: [String: RecorderSpec]
    private let snapLength: Int
    private let traceDirectory: String?
    private let keepTraces: Bool
    private var runs = 0

    let socatPath: String?
    private(set) var socat: ChildProcess?
    private let socatListenPath: String

    init(benchExecutable: String, recorders specs: [RecorderSpec], socatPath: String?, snapLength: Int,
         socketBufferSize: Int, traceDirectory: String?, keepTraces: Bool) throws {
        recorderSpecs = Dictionary(uniqueKeysWithValues: specs.map { ($0.name, $0) })
        self.snapLength = snapLength
        self.traceDirectory = traceDirectory
        self.keepTraces = keepTraces
        var template = Array("/tmp/ipcbench.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SystemError.current("mkdtemp") }
        workDirectory = String(cString: made)
        serverPath = workDirectory + "/server.sock"
        socatListenPath = workDirectory + "/socat.sock"
        self.socatPath = socatPath
        self.socketBufferSize = socketBufferSize

        // The server gets a copy of `second`; ours closes when `pair` goes. `first` is kept (closed by stop()).
        let pair = try SocketPair.make()
        control = pair.first.rawValue
        server = try ProcessSpawner.spawn(
            executable: benchExecutable,
            arguments: ["server", serverPath, "--control-fd", "3", "--socket-buffer", "\(socketBufferSize)"],
            passing: [(childFD: 3, parentFD: pair.second.rawValue)])
        _ = pair.first.release()
        var ready: UInt8 = 0
        guard (try? BenchIO.receive(control, &ready, 1)) == 1 else {
            throw BenchFailure("the bench server did not start (see above)")
        }
        do {
            recorderOrder = specs.map(\.name)
            if let socatPath {
                // socat prints nothing when it listens; connect() retries until it does.
                socat = try ProcessSpawner.spawn(
                    executable: socatPath,
                    arguments: ["UNIX-LISTEN:\(socatListenPath),fork", "UNIX-CONNECT:\(serverPath)"])
            }
        } catch {
            stop()
            throw error
        }
    }

    /// A connected socket to the server through `transport` (owned by the caller), and the pid of the
    /// process that relays it (nil for direct).
    func connect(_ transport: Transport) throws -> (fd: Int32, relayPID: pid_t?) {
        switch transport.kind {
        case .direct:
            // The server gets a copy of `second`; ours closes when `pair` goes, and `first` too on failure.
            let pair = try SocketPair.make()
            var byte: UInt8 = 0x43
            let control = control
            let second = pair.second.rawValue
            let sent = withUnsafeBytes(of: &byte) { raw in
                Result { () throws(SystemError) in
                    try SocketMessaging.sendMessage(control, bytes: raw, fds: [second], flags: Int32(MSG_NOSIGNAL))
                }
            }
            _ = try sent.get()
            return (pair.first.release(), nil)
        case .directPath:
            return (try BenchIO.connect(to: serverPath), nil)
        case .ipcscope:
            // A recorder per run: one trace growing by gigabytes over the whole benchmark made later runs
            // pay for the earlier runs' memory (on a VM, fresh guest pages cost ten times more to write).
            try finishRecorder(transport.name)
            guard let spec = recorderSpecs[transport.name] else { throw BenchFailure("\(transport.name) is unknown") }
            runs += 1
            let recorder = try RunningRecorder(spec: spec, run: runs, directory: workDirectory,
                                               traceDirectory: traceDirectory, upstream: serverPath,
                                               snapLength: snapLength)
            recorders[transport.name] = recorder
            return (try BenchIO.connect(to: recorder.listenPath), recorder.process.pid)
        case .socat:
            guard let socat else { throw BenchFailure("socat is not running") }
            return (try BenchIO.connect(to: socatListenPath), socat.pid)
        }
    }

    func noteFrames(_ frames: UInt64, through transport: Transport) {
        recorders[transport.name]?.framesSent += frames
    }

    /// Stops the transport's current recorder, adds what it did to the totals and removes its files
    /// (the trace stays with --keep-trace).
    private func finishRecorder(_ name: String) throws {
        guard let recorder = recorders.removeValue(forKey: name) else { return }
        recorder.stop()
        recorder.removeFiles(keepingTrace: keepTraces)
        recorderTotals[name, default: RecorderTotals()].add(recorder)
    }

    /// Stops the proxies and the server (trace files stay until `removeFiles`).
    func stop() {
        for name in Array(recorders.keys) { try? finishRecorder(name) }
        if let relay = socat {
            relay.kill(SIGTERM)
            if relay.wait(timeout: .seconds(5)) == nil {
                relay.kill(SIGKILL)
                relay.wait()
            }
            socat = nil
        }
        Descriptor.close(control)
        if server.wait(timeout: .seconds(5)) == nil {
            server.kill(SIGKILL)
            server.wait()
        }
    }

    func removeFiles() {
        for name in ["server.sock", "socat.sock"] { unlink(workDirectory + "/" + name) }
        rmdir(workDirectory)
    }
}

/// What the recorders of one transport did over a benchmark, one recorder per timed run.
struct RecorderTotals {
    var runs = 0
    var framesSent: UInt64 = 0
    var framesRecorded: UInt64 = 0
    /// Runs whose recorder's summary did not count exactly the frames sent through it.
    var mismatchedRuns = 0
    var captureLostFrames: UInt64 = 0
    var traceBytes: Int64 = 0
    var lastSummary = ""
    var keptTraces: [String] = []

    mutating func add(_ recorder: RunningRecorder) {
        runs += 1
        framesSent += recorder.framesSent
        framesRecorded += recorder.recordedFrames ?? 0
        if recorder.recordedFrames != recorder.framesSent { mismatchedRuns += 1 }
        captureLostFrames += recorder.captureLostFrames
        traceBytes += recorder.traceSize ?? 0
        lastSummary = recorder.summaryLine
        keptTraces.append(recorder.tracePath)
    }
}
