import Glibc
import TraceFormat

/// Generates the traces, runs each measurement in a child process, prints the table.
struct BenchRun {
    var directory: String
    var sizes = [1_000_000, 10_000_000]
    var keep = false
    /// The release `ipcscope` whose commands are timed; nil skips them.
    var ipcscope: String?
    /// `jq`, when it is on PATH (the baseline a user would reach for).
    var jq: String?
    var jqEvents = 1_000_000

    init(arguments: [String]) throws {
        var access = stat()
        directory = stat("/dev/shm", &access) == 0 ? "/dev/shm" : "/tmp"
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            switch argument {
            case "--dir": directory = try Self.value(&rest, for: argument)
            case "--events": sizes = try Self.value(&rest, for: argument).split(separator: ",").map { Int($0) ?? 0 }
            case "--keep": keep = true
            case "--ipcscope": ipcscope = try Self.value(&rest, for: argument)
            case "--no-commands": ipcscope = ""
            case "--jq-events": jqEvents = Int(try Self.value(&rest, for: argument)) ?? -1
            default:
                throw BenchError("usage: TraceIndexBench [--dir DIR] [--events 1000000,10000000] [--keep] [--ipcscope PATH | --no-commands] [--jq-events N]")
            }
        }
        guard sizes.allSatisfy({ $0 >= 1000 }) else { throw BenchError("--events: counts of at least 1000") }
        guard jqEvents >= 0 else { throw BenchError("--jq-events: a count (0: every line)") }
        if ipcscope == nil {
            // Next to this binary (the same build).
            let own = Measurement.readLink("/proc/self/exe")
            ipcscope = own.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/") + "/ipcscope"
        }
        if ipcscope == "" || Glibc.access(ipcscope!, X_OK) != 0 { ipcscope = nil }
        jq = Self.onPath("jq")
    }

    static func onPath(_ name: String) -> String? {
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { access($0, X_OK) == 0 }
    }

    private static func value(_ rest: inout ArraySlice<String>, for option: String) throws -> String {
        guard let value = rest.popFirst() else { throw BenchError("\(option) needs a value") }
        return value
    }

    func run() throws {
        var template = Array("\(directory)/ipcscope-readbench.XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw BenchError("cannot create a directory in \(directory)")
        }
        let work = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        defer { if !keep { removeTree(work) } }
        print("TraceIndexBench: traces in \(work)\(keep ? " (kept)" : ""); crc32c hardware: \(CRC32C.usesHardware)")
        print("ipcscope: \(ipcscope ?? "not found (commands not measured)"); jq: \(jq ?? "not on PATH (no baseline)")")
        print("load average at start: \(Measurement.readText("/proc/loadavg").split(separator: " ").prefix(3).joined(separator: " "))")
        print("each figure from a fresh process; the machine is shared, so figures are noisy (run it twice)")
        // The commands find the stored index where the reader's measurements store it: $XDG_CACHE_HOME.
        let cache = "\(work)/cache"
        let store = "\(cache)/ipcscope/index"
        var rows: [[String: Double]] = []
        var notes: [String] = []
        for size in sizes {
            let trace = "\(work)/bench-\(size).ipctrace"
            let start = Measurement.now()
            let records = try SyntheticTrace(events: size).write(to: trace)
            var row: [String: Double] = ["events": Double(records), "generate": Measurement.now() - start]
            var info = stat()
            stat(trace, &info)
            row["fileBytes"] = Double(info.st_size)
            for what in ["first", "full", "reopen", "iterate"] {
                for (key, value) in try child(what, trace: trace, store: store) { row["\(what).\(key)"] = value }
            }
            if let ipcscope {
                try CommandBench(ipcscope: ipcscope, jq: jq, trace: trace, work: work, cache: cache, jqEvents: jqEvents)
                    .run(into: &row, notes: &notes)
            }
            rows.append(row)
            if !keep {
                unlink(trace)
                removeTree(cache)
            }
        }
        printTable(rows)
        if ipcscope != nil { CommandBench.printTable(rows) }
        printTargets(rows)
        for note in Set(notes).sorted() { print(note) }
    }

    private func child(_ what: String, trace: String, store: String) throws -> [String: Double] {
        let output = "\(trace).\(what).out"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv = ["/proc/self/exe", "measure", what, trace, store]
        var cArguments = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/proc/self/exe", &actions, nil, &cArguments, environ)
        guard spawned == 0 else { throw BenchError("posix_spawn: errno \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = Measurement.readText(output)
        unlink(output)
        guard status == 0 else { throw BenchError("measure \(what) failed: \(text)") }
        var values: [String: Double] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = Double(parts[1]) { values[String(parts[0])] = value }
        }
        return values
    }

    private func printTable(_ rows: [[String: Double]]) {
        func column(_ title: String, _ format: ([String: Double]) -> String) -> [String] { [title] + rows.map(format) }
        func seconds(_ value: Double?) -> String { value.map { fixed($0, 3) + " s" } ?? "-" }
        func mib(_ value: Double?) -> String { value.map { fixed($0 / 1048576, 0) + " MiB" } ?? "-" }
        func perEvent(_ value: Double?, _ row: [String: Double]) -> String {
            guard let value, let events = row["full.events"], events > 0 else { return "-" }
            return fixed(value / events, 1)
        }
        let columns: [[String]] = [
            column("events") { String(Int($0["events"] ?? 0)) },
            column("trace") { mib($0["fileBytes"]) },
            column("generate") { seconds($0["generate"]) },
            column("frames behind") { fixed(($0["full.framesBehind"] ?? 0) * 100, 0) + " %" },
            column("first 1000 (cpu)") { seconds($0["first.seconds"]) + " (" + seconds($0["first.cpu"]) + ")" },
            column("full index (cpu)") { seconds($0["full.seconds"]) + " (" + seconds($0["full.cpu"]) + ")" },
            column("store") { seconds($0["full.storeSeconds"]) },
            column("reopen (cpu)") { seconds($0["reopen.seconds"]) + " (" + seconds($0["reopen.cpu"]) + ")" },
            column("time-ordered iteration") { fixed(($0["iterate.eventsPerSecond"] ?? 0) / 1e6, 1) + " M events/s" },
            column("index B/event") { perEvent($0["full.indexBytes"], $0) },
            column("anon RSS B/event") { perEvent($0["full.RssAnon"], $0) },
            column("VmHWM full") { mib($0["full.VmHWM"]) },
            column("VmHWM reopen") { mib($0["reopen.VmHWM"]) },
        ]
        let widths = columns.map { $0.map(\.count).max() ?? 0 }
        for line in 0...rows.count {
            print(zip(columns, widths).map { $0[line].padding($1) }.joined(separator: "  "))
        }
        print("Times are wall clock from open to done, (cpu) the process's user + system time over the same span.")
        print("frames behind: payload frames that follow a record with a later time (Traces/demo.ipctrace: 62 of 301, 21 %).")
        print("index B/event: the index's own arrays (capacity); anon RSS: all anonymous memory of the process after")
        print("indexing (Swift runtime included); VmHWM: peak resident memory, the mapped trace pages included.")
        print("")
    }

    /// The targets of issue 11 next to the figures, PASS or MISS per size.
    private func printTargets(_ rows: [[String: Double]]) {
        print("Targets (issue 11):")
        for row in rows {
            let events = Int(row["events"] ?? 0)
            func check(_ name: String, _ figure: Double?, _ limit: Double, lower: Bool = true, _ text: (Double) -> String) -> String {
                guard let figure else { return "  n/a   \(name): not measured" }
                let met = lower ? figure < limit : figure >= limit
                return "  \(met ? "PASS" : "MISS")  \(name): \(text(figure))"
            }
            let secondsText = { (value: Double) in fixed(value, 3) + " s" }
            var lines = [
                check("first events < 0.2 s", row["first.seconds"], 0.2, secondsText),
                check("reopen < 0.2 s", row["reopen.seconds"], 0.2, secondsText),
                check("index memory ≤ 32 B/event (anon RSS after a full index)",
                      row["full.RssAnon"].map { $0 / max(1, row["full.events"] ?? 1) }, 32.000001) { fixed($0, 1) + " B/event" },
            ]
            if events >= 5_000_000 {
                lines.insert(check("full index of 10 M events < 2 s", row["full.seconds"], 2, secondsText), at: 1)
            }
            if let rate = row["export.eventsPerSecond"] {
                lines.append(check("JSONL export ≥ 1 M events/s", rate, 1e6, lower: false) { fixed($0 / 1e6, 2) + " M events/s" })
            }
            if let anon = row["export.peakAnon"] {
                lines.append(check("export memory beyond the mapped files ≤ 32 B/event (peak anon RSS)",
                                   anon / max(1, row["events"] ?? 1), 32.000001) { fixed($0, 1) + " B/event" })
            }
            print("\(events) events:")
            for line in lines { print(line) }
        }
    }

    private func removeTree(_ path: String) {
        if let directory = opendir(path) {
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name == "." || name == ".." { continue }
                let child = "\(path)/\(name)"
                if entry.pointee.d_type == UInt8(DT_DIR) { removeTree(child) } else { unlink(child) }
            }
            closedir(directory)
        }
        rmdir(path)
    }
}

extension String {
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}

/// `value` with `digits` decimals (no Foundation here).
func fixed(_ value: Double, _ digits: Int) -> String {
    guard value.isFinite else { return "-" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = Int((abs(value) * scale).rounded())
    let whole = String(scaled / Int(scale))
    let sign = value < 0 && scaled != 0 ? "-" : ""
    guard digits > 0 else { return sign + whole }
    let fraction = String(scaled % Int(scale))
    return sign + whole + "." + String(repeating: "0", count: digits - fraction.count) + fraction
}
