import Glibc
import IPCTransport

/// One timed run plus the CPU each process used during it (in cores: CPU seconds per wall second).
struct Sample {
    var result: RunResult
    var clientCores: Double
    var relayCores: Double?
    var serverCores: Double?

    /// CPU time of client, relay and server together per message, in microseconds: what a message costs
    /// whatever share of the CPUs the benchmark got from a busy machine.
    var cpuMicrosecondsPerMessage: Double {
        let cores = clientCores + (relayCores ?? 0) + (serverCores ?? 0)
        return cores * result.seconds / Double(max(1, result.messages)) * 1e6
    }

    /// CPU time of the relaying process alone per message (µs); nil for direct.
    var relayMicrosecondsPerMessage: Double? {
        relayCores.map { $0 * result.seconds / Double(max(1, result.messages)) * 1e6 }
    }
}

/// Runs every case through every transport, interleaved, and prints the table.
struct BenchRunner {
    var cases: [BenchCase]
    var transports: [Transport]
    var duration: Double
    var rounds: Int
    var warmup: Double
    var environment: BenchEnvironment
    var quiet: Bool

    private(set) var samples: [BenchCase: [Transport: [Sample]]] = [:]

    mutating func runAll() throws {
        if warmup > 0 {
            progress("warm-up: \(Format.fixed(warmup, 2)) s per case and transport")
            for benchCase in cases {
                for transport in transports {
                    let sample = try measure(benchCase, transport, duration: warmup)
                    environment.noteFrames(sample.result.framesOnWire, through: transport)
                }
            }
        }
        for round in 1...rounds {
            for benchCase in cases {
                // Rotate the order every round so no transport always runs first (or right after another).
                let shift = (round - 1) % transports.count
                let order = Array(transports[shift...] + transports[..<shift])
                for transport in order {
                    settle()
                    let sample = try measure(benchCase, transport, duration: duration)
                    environment.noteFrames(sample.result.framesOnWire, through: transport)
                    samples[benchCase, default: [:]][transport, default: []].append(sample)
                    progress("round \(round)/\(rounds)  \(benchCase.name.padded(16))  \(transport.name.padded(11))  "
                             + describe(sample, benchCase))
                }
            }
        }
    }

    private func describe(_ sample: Sample, _ benchCase: BenchCase) -> String {
        let result = sample.result
        switch benchCase.kind {
        case .stream:
            return "\(Format.fixed(result.megabytesPerSecond, 1)) MB/s  \(Format.grouped(result.messagesPerSecond)) msg/s"
        case .pingpong:
            return "RTT median \(Format.fixed(result.roundTripPercentile(0.5) / 1000, 1)) µs  "
                + "p99 \(Format.fixed(result.roundTripPercentile(0.99) / 1000, 1)) µs"
        }
    }

    private func measure(_ benchCase: BenchCase, _ transport: Transport, duration: Double) throws -> Sample {
        let server = environment.server.pid
        let socatBefore = transport.kind == .socat ? environment.socat.map { ProcessCPU.children(of: $0.pid) } ?? [] : []
        let (fd, relayPID) = try environment.connect(transport)
        var relay = relayPID
        var start: (wall: UInt64, client: Double, relay: Double?, server: Double?) = (0, 0, nil, nil)
        var end = start
        let result = try BenchClient.run(
            benchCase, on: fd, duration: duration, socketBufferSize: environment.socketBufferSize,
            measuring: { starting in
                if starting, transport.kind == .socat, let parent = relay {
                    // socat forks a child per connection: that child does the relaying.
                    relay = ProcessCPU.children(of: parent).subtracting(socatBefore).first
                }
                let sample = (BenchIO.now(), ProcessCPU.ownSeconds(), relay.flatMap { ProcessCPU.seconds(pid: $0) },
                              ProcessCPU.seconds(pid: server))
                if starting { start = sample } else { end = sample }
            })
        let wall = Double(end.wall &- start.wall) / 1e9
        func cores(_ before: Double?, _ after: Double?) -> Double? {
            guard let before, let after, wall > 0 else { return nil }
            return (after - before) / wall
        }
        return Sample(result: result, clientCores: cores(start.client, end.client) ?? 0,
                      relayCores: cores(start.relay, end.relay), serverCores: cores(start.server, end.server))
    }

    /// Writes every dirty page out before a timed run, so the disk writeback of the gigabytes an earlier run
    /// recorded does not land in this run's window and bill it for another run's trace.
    private func settle() {
        sync()
    }

    private func progress(_ line: String) {
        guard !quiet else { return }
        BenchOutput.error(line)
    }

    // MARK: The table

    /// The verdict for ipcscope in one case, when the issue sets a target for it.
    struct Target {
        var text: String
        var passes: (Double) -> Bool
    }

    static func target(for benchCase: BenchCase) -> Target? {
        switch (benchCase.kind, benchCase.payloadSize) {
        case (.stream, 64): return Target(text: "≥ 0.90× msg/s") { $0 >= 0.9 }
        case (.stream, 64 << 10), (.stream, 1 << 20): return Target(text: "≥ 0.50× MB/s") { $0 >= 0.5 }
        case (.pingpong, 64): return Target(text: "≤ 1.80× RTT") { $0 <= 1.8 }
        default: return nil
        }
    }

    /// The figure a case is judged by: throughput for streams, median round trip for ping-pong.
    static func figure(_ sample: Sample, _ benchCase: BenchCase) -> Double {
        benchCase.kind == .stream ? sample.result.messagesPerSecond : sample.result.roundTripPercentile(0.5)
    }

    func table() -> [String] {
        var lines: [String] = []
        let header = ["case", "transport", "MB/s", "msg/s", "RTT med", "RTT p99", "ratio", "per round",
                      "CPU/msg", "cost", "relay/msg", "cores c/r/s", "target", ""]
        var rows: [[String]] = [header]
        var misses: [String] = []
        for benchCase in cases {
            guard let byTransport = samples[benchCase], let direct = byTransport[.direct] else { continue }
            let directFigure = Statistics.median(direct.map { Self.figure($0, benchCase) })
            for (index, transport) in transports.enumerated() {
                guard let runs = byTransport[transport], !runs.isEmpty else { continue }
                let figures = runs.map { Self.figure($0, benchCase) }
                let ratio = Statistics.median(figures) / directFigure
                // Per-round ratios against the direct run of the same round show how noisy the machine was.
                let paired = zip(runs, direct).map { Self.figure($0.0, benchCase) / Self.figure($0.1, benchCase) }
                let range = transport == .direct ? "" : "\(Format.fixed(paired.min() ?? .nan, 2))–\(Format.fixed(paired.max() ?? .nan, 2))"
                var row = [index == 0 ? benchCase.name : "", transport.name]
                switch benchCase.kind {
                case .stream:
                    row += [Format.fixed(Statistics.median(runs.map(\.result.megabytesPerSecond)), 1),
                            Format.grouped(Statistics.median(runs.map(\.result.messagesPerSecond))), "", ""]
                case .pingpong:
                    row += ["", Format.grouped(Statistics.median(runs.map(\.result.messagesPerSecond))),
                            Format.fixed(Statistics.median(runs.map { $0.result.roundTripPercentile(0.5) }) / 1000, 1) + " µs",
                            Format.fixed(Statistics.median(runs.map { $0.result.roundTripPercentile(0.99) }) / 1000, 1) + " µs"]
                }
                row += [transport == .direct ? "1.00×" : Format.fixed(ratio, 2) + "×", range]
                let cost = Statistics.median(runs.map(\.cpuMicrosecondsPerMessage))
                let directCost = Statistics.median(direct.map(\.cpuMicrosecondsPerMessage))
                row += [Format.fixed(cost, cost < 10 ? 2 : 1) + " µs", Format.fixed(cost / directCost, 2) + "×"]
                let relayCost = runs.compactMap(\.relayMicrosecondsPerMessage)
                row.append(relayCost.isEmpty ? "" : Format.fixed(Statistics.median(relayCost), 2) + " µs")
                let client = Statistics.median(runs.map(\.clientCores))
                let relay = runs.compactMap(\.relayCores)
                let server = runs.compactMap(\.serverCores)
                row.append("\(Format.fixed(client, 2))/\(relay.isEmpty ? "–" : Format.fixed(Statistics.median(relay), 2))"
                           + "/\(server.isEmpty ? "–" : Format.fixed(Statistics.median(server), 2))")
                if let target = Self.target(for: benchCase), transport != .direct {
                    let passes = target.passes(ratio)
                    row += [target.text, transport == .ipcscope ? (passes ? "PASS" : "MISS") : (passes ? "(pass)" : "(miss)")]
                    if transport == .ipcscope && !passes { misses.append(benchCase.name) }
                } else {
                    row += ["", ""]
                }
                rows.append(row)
            }
        }
        lines += Format.columns(rows, rightAligned: [2, 3, 4, 5, 6, 8, 9, 10])
        lines.append("")
        lines.append(misses.isEmpty
            ? "ipcscope: every target met"
            : "ipcscope: target missed for \(misses.joined(separator: ", "))")
        return lines
    }
}

enum Statistics {
    static func median(_ values: [Double]) -> Double {
        let sorted = values.filter { !$0.isNaN }.sorted()
        guard !sorted.isEmpty else { return .nan }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
