import Glibc
import TraceFormat
import ViewerModel

/// `TraceIndexBench viewer`: the viewer's model (`TraceViewer`, what `ipcscope view` runs) on generated
/// traces of 10 k, 1 M and 10 M events, rendering into a 140 × 40 `CellGrid` as the terminal backend
/// does (docs/benchmarks.md, "The viewer"). Per size and per open (cold: no stored index; warm: the stored
/// index of a full index exists), in a fresh process each:
///
/// - first screen: a quick open (no stored index), `TraceViewer(trace:)` and the first `render(into:)`; warm:
///   then the stored index loaded and taken over (`adopt`), as `ipcscope view` does on another thread;
/// - keystroke-to-frame, median / p99 / max: `update(.key)` and `render(into:)` of PgDn (many pages),
///   G / g alternately, and applying a filter (`/`, the text, Enter: the Enter is timed);
/// - background: the ticks that index and analyse the rest (their slice time is what a key pressed
///   meanwhile waits), and the time until nothing is left to do.
///
/// Keys are timed with no background work between them (the worst case for what they find done).
struct ViewerBench {
    var directory: String
    var sizes = [10_000, 1_000_000, 10_000_000]
    var keep = false
    static let rows = 40, columns = 140
    /// A name filter: matches about one payload frame in 40.
    static let filter = "message == \"*paint_16\""
    /// A filter on what only the analysis knows (sync latencies).
    static let analysisFilter = "latency > 400us"

    init(arguments: [String]) throws {
        var access = stat()
        directory = stat("/dev/shm", &access) == 0 ? "/dev/shm" : "/tmp"
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            switch argument {
            case "--dir": directory = try rest.popFirst().orThrow("--dir needs a value")
            case "--events": sizes = try rest.popFirst().orThrow("--events needs a value").split(separator: ",").map { Int($0) ?? 0 }
            case "--keep": keep = true
            default: throw BenchError("usage: TraceIndexBench viewer [--dir DIR] [--events 10000,1000000,10000000] [--keep]")
            }
        }
        guard sizes.allSatisfy({ $0 >= 1000 }) else { throw BenchError("--events: counts of at least 1000") }
    }

    func run() throws {
        var template = Array("\(directory)/ipcscope-viewbench.XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw BenchError("cannot create a directory in \(directory)")
        }
        let work = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        defer { if !keep { _ = system("rm -rf '\(work)'") } }
        print("TraceIndexBench viewer: traces in \(work)\(keep ? " (kept)" : ""); screen \(Self.columns)×\(Self.rows); filter \(Self.filter)")
        print("load average at start: \(Measurement.readText("/proc/loadavg").split(separator: " ").prefix(3).joined(separator: " "))")
        var results: [(events: Int, open: String, values: [String: Double])] = []
        for size in sizes {
            let trace = "\(work)/bench-\(size).ipctrace"
            let records = try SyntheticTrace(events: size).write(to: trace)
            let store = "\(work)/store-\(size)"
            for open in ["cold", "warm"] {
                if open == "warm" { try storeIndex(trace: trace, store: store) }
                let values = try child(["viewer-measure", trace, store, open])
                results.append((records, open, values))
            }
            if !keep { unlink(trace); _ = system("rm -rf '\(store)'") }
        }
        printTable(results)
        printTargets(results)
    }

    private func storeIndex(trace: String, store: String) throws {
        var opened = try IndexedTrace(path: trace, store: IndexStore(directory: store, minimumEvents: 0))
        opened.indexToEnd()
        try opened.storeIndex()
    }

    private func child(_ arguments: [String]) throws -> [String: Double] {
        let output = "\(directory)/viewbench-\(getpid()).out"
        let run = try ChildRun.run(["/proc/self/exe"] + arguments, output: output, errors: output)
        let text = Measurement.readText(output)
        unlink(output)
        guard run.succeeded else { throw BenchError("\(arguments.joined(separator: " ")) failed: \(text)") }
        var values: [String: Double] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = Double(parts[1]) { values[String(parts[0])] = value }
        }
        return values
    }

    static let keys = ["pageDown", "end", "filter"]

    private func printTable(_ results: [(events: Int, open: String, values: [String: Double])]) {
        func ms(_ value: Double?) -> String { value.map { fixed($0 * 1000, 2) + " ms" } ?? "-" }
        var columns: [[String]] = [
            ["events"] + results.map { String($0.events) },
            ["open"] + results.map(\.open),
            ["first screen"] + results.map { ms($0.values["first.seconds"]) },
            ["stored index in use after (loading it)"] + results.map { row in
                row.values["stored.seconds"].map { ms($0) + " (" + ms(row.values["stored.load"]) + ")" } ?? "-"
            },
        ]
        let titles = ["pageDown": "PgDn", "end": "G / g", "filter": "filter Enter"]
        for key in Self.keys {
            columns.append(["\(titles[key]!) median / p99 / max (cpu median / p99)"] + results.map { row in
                let v = row.values
                return ms(v["\(key).median"]) + " / " + ms(v["\(key).p99"]) + " / " + ms(v["\(key).max"])
                    + " (cpu " + ms(v["\(key).cpuMedian"]) + " / " + ms(v["\(key).cpuP99"]) + ")"
            })
        }
        columns.append(["first G"] + results.map { ms($0.values["end.first"]) })
        columns.append(["rows matched (first screen)"] + results.map { String(Int($0.values["filter.rows"] ?? 0)) })
        columns.append(["background slice median / p99 / max (cpu p99 / max)"] + results.map {
            ms($0.values["tick.median"]) + " / " + ms($0.values["tick.p99"]) + " / " + ms($0.values["tick.max"]) + " (cpu " + ms($0.values["tick.cpuP99"]) + " / " + ms($0.values["tick.cpuMax"]) + ")"
        })
        columns.append(["latency filter at the end: Enter / its rows after"] + results.map {
            ms($0.values["analysisFilter.enter"]) + " / " + ($0.values["analysisFilter.rowsSeconds"].map { fixed($0, 2) + " s" } ?? "-")
        })
        columns.append(["then until idle (ticks)"] + results.map { row in
            (row.values["idle.seconds"].map { fixed($0, 2) + " s" } ?? "-") + " (\(Int(row.values["idle.ticks"] ?? 0)))"
        })
        let widths = columns.map { $0.map(\.count).max() ?? 0 }
        for line in 0...results.count {
            print(zip(columns, widths).map { $0[line].padding($1) }.joined(separator: "  "))
        }
        print("Keystroke-to-frame: update(.key) + render(into:) of a \(Self.columns)×\(Self.rows) grid, wall clock (this thread's CPU")
        print("time in parentheses); samples: 400 PgDn, 100 G/g, 40 filters. A background slice is one tick (indexing or")
        print("analysis, and the redraw it asks for): what a key pressed meanwhile waits for at most.")
        print("")
    }

    private func printTargets(_ results: [(events: Int, open: String, values: [String: Double])]) {
        print("Targets (issue 12):")
        for row in results {
            func check(_ name: String, _ figure: Double?, _ limit: Double) -> String {
                guard let figure else { return "  n/a   \(name)" }
                return "  \(figure < limit ? "PASS" : "MISS")  \(name): \(fixed(figure * 1000, 2)) ms"
            }
            print("\(row.events) events, \(row.open) open:")
            print(check("first screen < 300 ms", row.values["first.seconds"], 0.3))
            for key in Self.keys {
                print(check("\(key) median < 16 ms", row.values["\(key).median"], 0.016))
                print(check("\(key) p99 < 50 ms", row.values["\(key).p99"], 0.050))
            }
            // The first G is one keystroke in a hundred, so p99 would not show it: checked on its own.
            print(check("the first G < 50 ms", row.values["end.first"], 0.050))
            print(check("a latency filter's Enter < 50 ms (its rows come with the analysis)", row.values["analysisFilter.enter"], 0.050))
            if row.events >= 5_000_000 {
                print(check("filter on 10 M events: first matching screen < 500 ms", row.values["filter.max"], 0.5))
            }
        }
    }
}

/// One viewer measurement in this process (`viewer-measure TRACE STORE cold|warm`); prints `key value` lines.
enum ViewerMeasurement {
    static func run(trace: String, store storeDirectory: String, open: String) throws {
        let store = open == "warm" ? IndexStore(directory: storeDirectory, minimumEvents: 0) : .disabled
        let configuration = ViewerConfiguration(glyphs: .unicode, rows: ViewerBench.rows, columns: ViewerBench.columns)
        var grid = CellGrid(rows: ViewerBench.rows, columns: ViewerBench.columns)
        // As `ipcscope view` opens a trace (ViewLauncher): the first screen from a quick open without the
        // stored index; the stored index is loaded meanwhile (there on another thread; here after the first
        // screen, so its figure is an upper bound) and taken over.
        let start = Measurement.now()
        let opened = try IndexedTrace(path: trace, store: .disabled)
        let openSeconds = Measurement.now() - start
        let viewer = TraceViewer(trace: opened, configuration: configuration)
        viewer.render(into: &grid)
        Measurement.emit("first.seconds", Measurement.now() - start)
        Measurement.emit("first.open", openSeconds)
        if open == "warm" {
            let loadStart = Measurement.now()
            let loaded = try IndexedTrace(path: trace, store: store)
            guard case .stored = loaded.source else { throw BenchError("the stored index was not used") }
            Measurement.emit("stored.load", Measurement.now() - loadStart)
            guard viewer.adopt(loaded) else { throw BenchError("the stored index was not taken over") }
            viewer.render(into: &grid)
            Measurement.emit("stored.seconds", Measurement.now() - start)
        }

        // CPU time beside wall time: on a shared machine the process may wait for a core mid-keystroke.
        var cpuSamples: [String: [Double]] = [:]
        var current = ""
        func timed(_ keys: [Key]) -> Double {
            let begin = Measurement.now(), beginCPU = threadCPU()
            for key in keys { _ = viewer.update(.key(key)) }
            viewer.render(into: &grid)
            cpuSamples[current, default: []].append(threadCPU() - beginCPU)
            return Measurement.now() - begin
        }
        func report(_ name: String, _ samples: [Double]) {
            if let cpu = cpuSamples[name]?.sorted(), !cpu.isEmpty {
                Measurement.emit("\(name).cpuMedian", cpu[cpu.count / 2])
                Measurement.emit("\(name).cpuP99", cpu[min(cpu.count - 1, Int((Double(cpu.count) * 0.99).rounded(.up)) - 1)])
                Measurement.emit("\(name).cpuMax", cpu[cpu.count - 1])
            }
            let sorted = samples.sorted()
            guard !sorted.isEmpty else { return }
            Measurement.emit("\(name).count", sorted.count)
            Measurement.emit("\(name).median", sorted[sorted.count / 2])
            Measurement.emit("\(name).p99", sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.99).rounded(.up)) - 1)])
            Measurement.emit("\(name).max", sorted[sorted.count - 1])
        }

        // Paging down from the start: 400 pages (to the end of a small trace, then at the end).
        current = "pageDown"
        report("pageDown", (0..<400).map { _ in timed([.pageDown]) })
        // G and g alternately: the first G finds the end of a trace not yet (fully) indexed or analysed.
        current = "end"
        let ends = (0..<100).map { step in timed([step % 2 == 0 ? .character("G") : .character("g")]) }
        report("end", ends)
        Measurement.emit("end.first", ends[0])
        // A filter applied (Enter timed; typing it is validated per key) at the start, at the end, and
        // cleared; alternately at both ends.
        var filterSamples: [Double] = []
        var matched = 0
        for step in 0..<40 {
            current = ""
            _ = timed([step % 4 < 2 ? .character("g") : .character("G")])
            _ = timed([.character("/"), .control("u")] + ViewerBench.filter.map { Key.character($0) })
            current = "filter"
            filterSamples.append(timed([.enter]))
            current = ""
            matched = max(matched, grid.rowCount(containing: "paint_16"))
            _ = timed([.character("/"), .control("u"), .enter])  // cleared
        }
        report("filter", filterSamples)
        Measurement.emit("filter.rows", matched)

        // A filter on what only analysis knows (a latency), applied at the end before the analysis got there:
        // Enter answers at once; its rows come as the background analysis reaches them.
        var now: UInt64 = 1
        current = "analysisFilter"
        _ = timed([.character("G")])
        _ = timed([.character("/"), .control("u")] + ViewerBench.analysisFilter.map { Key.character($0) })
        Measurement.emit("analysisFilter.enter", timed([.enter]))
        let waitStart = Measurement.now()
        var waitTicks = 0
        while grid.text.contains("rows come as it goes on"), viewer.tickInterval != nil {
            now += 200_000_000
            if viewer.update(.tick(monotonicNanoseconds: now)) == .redraw { viewer.render(into: &grid) }
            waitTicks += 1
        }
        Measurement.emit("analysisFilter.rowsSeconds", Measurement.now() - waitStart)
        Measurement.emit("analysisFilter.ticks", waitTicks)
        _ = timed([.character("/"), .control("u"), .enter])

        // The background: ticks until none is asked for (indexing and analysis done).
        var slices: [Double] = []
        let idleStart = Measurement.now()
        var sliceCPU: [Double] = []
        while viewer.tickInterval != nil, slices.count < 1_000_000 {
            let begin = Measurement.now(), beginCPU = threadCPU()
            now += 200_000_000
            if viewer.update(.tick(monotonicNanoseconds: now)) == .redraw { viewer.render(into: &grid) }
            slices.append(Measurement.now() - begin)
            sliceCPU.append(threadCPU() - beginCPU)
        }
        cpuSamples["tick"] = sliceCPU
        Measurement.emit("idle.seconds", Measurement.now() - idleStart)
        Measurement.emit("idle.ticks", slices.count)
        report("tick", slices)
    }
}

/// This thread's CPU time (user + system), in seconds.
func threadCPU() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

extension CellGrid {
    /// Lines of the grid whose text contains `text`.
    func rowCount(containing needle: String) -> Int {
        (0..<rows).filter { text(ofRow: $0).contains(needle) }.count
    }
}

extension Optional {
    func orThrow(_ message: String) throws -> Wrapped {
        guard let self else { throw BenchError(message) }
        return self
    }
}
