import Glibc

/// The real commands on a generated trace, each in its own process with output to /dev/null: `ipcscope
/// stats` (when this build has it), `show`, `export --format jsonl`, and `jq -c .` over that JSONL (the
/// baseline). Each opens the trace with the index the reader's measurements stored ($XDG_CACHE_HOME).
struct CommandBench {
    var ipcscope: String
    var jq: String?
    var trace: String
    var work: String
    var cache: String
    /// jq reads at most this many lines of the JSONL (its rate per line does not depend on the file's
    /// length, and over 10 M events it would take minutes); 0: all of them.
    var jqEvents: Int

    func run(into row: inout [String: Double], notes: inout [String]) throws {
        let environment = ["XDG_CACHE_HOME=\(cache)", "NO_COLOR=1"]
        func record(_ name: String, _ run: ChildRun) {
            row["\(name).seconds"] = run.seconds
            row["\(name).cpu"] = run.cpu
            row["\(name).maxRSS"] = Double(run.maxRSS)
            row["\(name).peakAnon"] = Double(run.peakAnon)
        }
        let errors = "\(work)/command.err"
        func failed(_ what: String, _ run: ChildRun) -> BenchError {
            BenchError("\(what) exited with \(run.status): \(Measurement.readText(errors).prefix(2000))")
        }
        // The JSONL once into a file: the line count is the number of events a command goes through, and
        // jq's input.
        let jsonl = "\(work)/bench.jsonl"
        let toFile = try ChildRun.run([ipcscope, "export", trace, "--format", "jsonl", "-o", jsonl], errors: errors, environment: environment)
        guard toFile.succeeded else { throw failed("ipcscope export -o", toFile) }
        let events = Double(Measurement.countLines(jsonl))
        row["commands.events"] = events
        var info = stat()
        stat(jsonl, &info)
        row["jsonl.bytes"] = Double(info.st_size)

        // `--help` after an unknown subcommand prints the top-level help and succeeds: its usage must name stats.
        let helpText = "\(work)/stats-help.txt"
        let help = try ChildRun.run([ipcscope, "stats", "--help"], output: helpText, environment: environment)
        let hasStats = help.succeeded && Measurement.readText(helpText).contains("USAGE: ipcscope stats")
        unlink(helpText)
        if hasStats {
            let stats = try ChildRun.run([ipcscope, "stats", trace], errors: errors, environment: environment)
            guard stats.succeeded else { throw failed("ipcscope stats", stats) }
            record("stats", stats)
        } else {
            notes.append("stats: n/a (no stats command in \(ipcscope))")
        }
        let show = try ChildRun.run([ipcscope, "show", trace], errors: errors, environment: environment)
        guard show.succeeded else { throw failed("ipcscope show", show) }
        record("show", show)
        row["show.eventsPerSecond"] = events / show.seconds
        let export = try ChildRun.run([ipcscope, "export", trace, "--format", "jsonl"], errors: errors, environment: environment)
        guard export.succeeded else { throw failed("ipcscope export", export) }
        record("export", export)
        row["export.eventsPerSecond"] = events / export.seconds
        if let jq {
            var input = jsonl
            var lines = events
            if jqEvents > 0, Int(events) > jqEvents {
                input = "\(work)/bench-head.jsonl"
                try Measurement.copyLines(from: jsonl, to: input, lines: jqEvents)
                lines = Double(jqEvents)
            }
            let baseline = try ChildRun.run([jq, "-c", ".", input], errors: errors)
            guard baseline.succeeded else { throw failed("jq", baseline) }
            record("jq", baseline)
            row["jq.events"] = lines
            row["jq.eventsPerSecond"] = lines / baseline.seconds
            if input != jsonl { unlink(input) }
        } else {
            notes.append("jq: not on PATH, no baseline (apt-get install jq)")
        }
        unlink(jsonl)
        unlink(errors)
    }

    static func printTable(_ rows: [[String: Double]]) {
        func column(_ title: String, _ format: ([String: Double]) -> String) -> [String] { [title] + rows.map(format) }
        func rate(_ value: Double?) -> String { value.map { fixed($0 / 1e6, 2) + " M/s" } ?? "-" }
        /// Events per second of the command's own CPU time: what it would do with a core to itself.
        func cpuRate(_ row: [String: Double], _ name: String) -> String {
            guard let cpu = row["\(name).cpu"], let events = name == "jq" ? row["jq.events"] : row["commands.events"] else { return "-" }
            return fixed(events / cpu / 1e6, 2) + " M/s"
        }
        func run(_ row: [String: Double], _ name: String) -> String {
            guard let seconds = row["\(name).seconds"] else { return name == "stats" ? "n/a (no stats command)" : "-" }
            return fixed(seconds, 2) + " s (cpu " + fixed(row["\(name).cpu"] ?? 0, 2) + ")"
        }
        func memory(_ row: [String: Double], _ name: String) -> String {
            guard let rss = row["\(name).maxRSS"], let anon = row["\(name).peakAnon"],
                  let events = name == "jq" ? row["jq.events"] : row["events"] else { return "-" }
            return fixed(rss / 1048576, 0) + " / " + fixed(anon / events, 1)
        }
        let columns: [[String]] = [
            column("events") { String(Int($0["events"] ?? 0)) },
            column("JSONL") { $0["jsonl.bytes"].map { fixed($0 / 1048576, 0) + " MiB" } ?? "-" },
            column("stats") { run($0, "stats") },
            column("show") { run($0, "show") },
            column("show events/s") { rate($0["show.eventsPerSecond"]) },
            column("(per cpu s)") { cpuRate($0, "show") },
            column("export jsonl") { run($0, "export") },
            column("export events/s") { rate($0["export.eventsPerSecond"]) },
            column("(per cpu s)") { cpuRate($0, "export") },
            column("jq -c . (lines)") { row in run(row, "jq") + (row["jq.events"].map { " (" + String(Int($0)) + ")" } ?? "") },
            column("jq events/s") { rate($0["jq.eventsPerSecond"]) },
            column("(per cpu s)") { cpuRate($0, "jq") },
            column("export ÷ jq") { row in
                guard let export = row["export.eventsPerSecond"], let jq = row["jq.eventsPerSecond"] else { return "-" }
                var text = fixed(export / jq, 1) + "×"
                if let exportCPU = row["export.cpu"], let jqCPU = row["jq.cpu"], let events = row["commands.events"],
                   let jqEvents = row["jq.events"] {
                    text += " (cpu " + fixed((events / exportCPU) / (jqEvents / jqCPU), 1) + "×)"
                }
                return text
            },
            column("maxRSS MiB / anon B/event: stats") { memory($0, "stats") },
            column("show") { memory($0, "show") },
            column("export") { memory($0, "export") },
            column("jq") { memory($0, "jq") },
        ]
        let widths = columns.map { $0.map(\.count).max() ?? 0 }
        print("Commands (the release ipcscope; output to /dev/null; each reopens the trace with its stored index):")
        for line in 0...rows.count {
            print(zip(columns, widths).map { $0[line].padding($1) }.joined(separator: "  "))
        }
        print("events/s: the JSONL's lines (every event but the header) over the wall time, (per cpu s) over the command's")
        print("CPU time (user + system: steadier on a shared machine); show reads every event and")
        print("hides queue samples by default. maxRSS: peak resident memory (wait4), the mapped trace and stored index")
        print("included; anon B/event: the peak of RssAnon (memory beyond the mapped files, sampled every 5 ms) per event.")
        print("")
    }
}
