import ArgumentParser
import Glibc
import IPCTransport

/// Throughput and latency of LibIPC-framed traffic: direct, through `ipcscope record`, and through socat.
/// See docs/benchmarks.md.
@main
struct IPCBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "IPCBench",
        abstract: "Benchmark ipcscope's recording proxy against a direct socketpair and socat.",
        subcommands: [Run.self, Server.self, Client.self],
        defaultSubcommand: Run.self
    )
}

extension IPCBench {
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run every case through every transport, interleaved, and print the table.")

        @Option(help: "Seconds per timed run.")
        var duration: Double = 1.0

        @Option(help: "Rounds; each round runs every case through every transport once. The table shows medians.")
        var rounds: Int = 5

        @Option(help: "Seconds of untimed warm-up per case and transport before the first round (0: none).")
        var warmup: Double = 0.25

        @Option(parsing: .upToNextOption,
                help: "Cases, e.g. stream-64 stream-4k stream-64k stream-1m pingpong-64 pingpong-64k (default: all).")
        var cases: [String] = []

        @Option(help: ArgumentHelp("The ipcscope binary (default: next to this one).", valueName: "path"))
        var ipcscope: String?

        @Flag(help: "Leave socat out even when it is installed.")
        var noSocat = false

        @Option(help: "Transports, comma-separated: direct, ipcscope, socat, direct-path (default: direct,ipcscope,socat).")
        var transports: String?

        @Option(help: ArgumentHelp(
            "Another ipcscope to run side by side as a transport of its own: NAME, or NAME=PATH for another binary. Repeatable.",
            valueName: "name[=path]"))
        var variant: [String] = []

        @Option(help: ArgumentHelp("Environment of a variant's ipcscope: NAME:KEY=VALUE. Repeatable.",
                                   valueName: "name:key=value"))
        var variantEnv: [String] = []

        @Option(help: "ipcscope record --snaplen.")
        var snaplen: Int = 4096

        @Option(help: "SO_SNDBUF/SO_RCVBUF of the client's and server's sockets, as LibIPC sets them (0: kernel default).")
        var socketBuffer: Int = 128 * 1024

        @Option(help: ArgumentHelp(
            "Directory for the trace files (default: the run's directory under /tmp). A tmpfs such as /dev/shm "
            + "takes the disk's writeback out of the measurement.", valueName: "path"))
        var traceDirectory: String?

        @Flag(help: "Keep the trace file (its path is printed).")
        var keepTrace = false

        @Flag(help: "Print only the table.")
        var quiet = false

        func validate() throws {
            guard duration > 0, rounds > 0 else { throw ValidationError("--duration and --rounds must be positive") }
            for text in cases where BenchCase(argument: text) == nil {
                throw ValidationError("unknown case \(text); use stream-SIZE or pingpong-SIZE, e.g. stream-64k")
            }
        }

        func run() throws {
            signal(SIGPIPE, SIG_IGN)
            let selectedCases = cases.isEmpty ? BenchCase.all : cases.compactMap(BenchCase.init(argument:))
            let executable = BenchIO.executablePath()
            let ipcscopePath = ipcscope ?? BenchIO.directory(of: executable) + "/ipcscope"
            guard access(ipcscopePath, X_OK) == 0 else {
                throw BenchFailure("no ipcscope at \(ipcscopePath): build it with `swift build -c release` "
                                   + "(or pass --ipcscope PATH)")
            }
            var selected = try (transports ?? "direct,ipcscope,socat").split(separator: ",").map { name in
                guard let transport = Transport.named(String(name)) else {
                    throw ValidationError("unknown transport \(name)")
                }
                return transport
            }
            selected.removeAll { $0 == .direct }
            selected.insert(.direct, at: 0)
            let socatPath = noSocat || !selected.contains(.socat) ? nil : BenchIO.findOnPath("socat")
            if socatPath == nil { selected.removeAll { $0 == .socat } }

            var recorders: [RecorderSpec] = selected.contains(.ipcscope)
                ? [RecorderSpec(name: "ipcscope", executable: ipcscopePath)] : []
            for text in variant {
                let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
                guard let name = parts.first, !name.isEmpty, Transport.named(name) == nil,
                      !recorders.contains(where: { $0.name == name }) else {
                    throw ValidationError("--variant \(text): give a new name (NAME or NAME=PATH)")
                }
                recorders.append(RecorderSpec(name: name, executable: parts.count > 1 ? parts[1] : ipcscopePath))
                selected.append(Transport(kind: .ipcscope, name: name))
            }
            for text in variantEnv {
                guard let colon = text.firstIndex(of: ":"), let equals = text[colon...].firstIndex(of: "="),
                      let index = recorders.firstIndex(where: { $0.name == String(text[..<colon]) }) else {
                    throw ValidationError("--variant-env \(text): use NAME:KEY=VALUE with a NAME given to --variant")
                }
                recorders[index].environment[String(text[text.index(after: colon)..<equals])] =
                    String(text[text.index(after: equals)...])
            }

            let loadBefore = BenchOutput.loadAverage()
            let environment = try BenchEnvironment(
                benchExecutable: executable, recorders: recorders, socatPath: socatPath,
                snapLength: snaplen, socketBufferSize: socketBuffer, traceDirectory: traceDirectory,
                keepTraces: keepTrace)
            var runner = BenchRunner(cases: selectedCases, transports: selected, duration: duration, rounds: rounds,
                                     warmup: warmup, environment: environment, quiet: quiet)
            var failure: Error?
            do {
                try runner.runAll()
            } catch {
                failure = error
            }
            environment.stop()
            environment.removeFiles()
            if let failure { throw BenchFailure("benchmark failed: \(failure)") }

            let build = ipcscopePath.contains("/release/") ? "release" : (ipcscopePath.contains("/debug/") ? "DEBUG" : "?")
            BenchOutput.out("")
            BenchOutput.out("IPCBench — \(rounds) round\(rounds == 1 ? "" : "s") × \(Format.fixed(duration, 1)) s per run, "
                            + "transports interleaved; medians of rounds; ratios to direct")
            BenchOutput.out("ipcscope: \(ipcscopePath) (\(build) build), snaplen \(snaplen); "
                            + "socket buffers \(socketBuffer == 0 ? "kernel default" : ByteSize.short(socketBuffer)); "
                            + "\(sysconf(Int32(_SC_NPROCESSORS_ONLN))) CPUs; load average \(loadBefore) → \(BenchOutput.loadAverage())")
            if socatPath == nil {
                let installed = BenchIO.findOnPath("socat") != nil
                BenchOutput.out(installed ? "socat: left out (--no-socat or --transports)" : "socat: not installed")
            }
            BenchOutput.out("")
            for line in runner.table() { BenchOutput.out(line) }
            BenchOutput.out("")
            for name in environment.recorderOrder {
                guard let totals = environment.recorderTotals[name] else { continue }
                let label = name == "ipcscope" ? "recorder" : "recorder \(name)"
                BenchOutput.out("\(label): a fresh `ipcscope record` for each of \(totals.runs) runs; the last said: "
                                + totals.lastSummary.drop { $0 != ":" }.dropFirst().trimmingWhitespace)
                let check = totals.mismatchedRuns == 0
                    ? "every one recorded" : "MISMATCH in \(totals.mismatchedRuns) runs: recorded \(totals.framesRecorded)"
                let lost = totals.captureLostFrames == 0 ? ""
                    : ", capture lost for \(Format.grouped(Double(totals.captureLostFrames))) frames (writer behind)"
                BenchOutput.out("\(label): the benchmark sent \(Format.grouped(Double(totals.framesSent))) frames through them "
                                + "(hello/ready/result included), \(check)\(lost); traces "
                                + ByteSize.human(totals.traceBytes)
                                + (keepTrace ? " in \(totals.keptTraces.first.map(BenchIO.directory(of:)) ?? "?")"
                                             : " (deleted; --keep-trace keeps them)"))
                if let spec = recorders.first(where: { $0.name == name }),
                   !spec.environment.isEmpty || spec.executable != ipcscopePath {
                    let env = spec.environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                    BenchOutput.out("\(label): \(spec.executable) \(env.joined(separator: " "))")
                }
            }
        }
    }

    struct Server: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A LibIPC-framed sink/echo server on a Unix socket path (what `run` starts itself).")

        @Argument(help: "Socket path to listen on.")
        var path: String

        @Option(help: "A socket over which connected socketpair ends arrive (SCM_RIGHTS); the server exits when it closes.")
        var controlFD: Int32?

        @Option(help: "SO_SNDBUF/SO_RCVBUF of accepted sockets (0: kernel default).")
        var socketBuffer: Int = 128 * 1024

        func run() throws {
            signal(SIGPIPE, SIG_IGN)
            try BenchServer.run(path: path, controlFD: controlFD, socketBufferSize: socketBuffer)
        }
    }

    struct Client: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run one case against a server or proxy path once (for profiling a single run).")

        @Option(help: ArgumentHelp("Socket path of an `IPCBench server` or of a proxy in front of it.", valueName: "path"))
        var connect: String

        @Option(name: .customLong("case"), help: "stream-64, stream-4k, stream-64k, stream-1m, pingpong-64, …")
        var benchCase: String = "stream-64k"

        @Option(help: "Seconds.")
        var duration: Double = 1.5

        @Option(help: "SO_SNDBUF/SO_RCVBUF (0: kernel default).")
        var socketBuffer: Int = 128 * 1024

        func run() throws {
            signal(SIGPIPE, SIG_IGN)
            guard let parsed = BenchCase(argument: benchCase) else { throw ValidationError("unknown case \(benchCase)") }
            let fd = try BenchIO.connect(to: connect)
            let result = try BenchClient.run(parsed, on: fd, duration: duration, socketBufferSize: socketBuffer)
            switch parsed.kind {
            case .stream:
                print("\(parsed.name): \(Format.fixed(result.megabytesPerSecond, 1)) MB/s, "
                      + "\(Format.grouped(result.messagesPerSecond)) msg/s over \(Format.fixed(result.seconds, 2)) s")
            case .pingpong:
                print("\(parsed.name): RTT median \(Format.fixed(result.roundTripPercentile(0.5) / 1000, 1)) µs, "
                      + "p99 \(Format.fixed(result.roundTripPercentile(0.99) / 1000, 1)) µs, "
                      + "\(Format.grouped(result.messagesPerSecond)) round trips/s")
            }
        }
    }
}
