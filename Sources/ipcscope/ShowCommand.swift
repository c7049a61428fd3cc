import ArgumentParser
import Foundation
import IPCWire
import TraceAnalysis
import TraceFormat

/// `ipcscope show FILE`: one line per event in time order (docs/show.md). The formatting is
/// TraceAnalysis's ``ShowFormatter``; this shell opens the trace, compiles the filter, reads schemas and prints.
struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "List a trace's events, one line each, in time order.",
        discussion: """
            Columns: number, time, channel, sender → receiver, message (or magic:id), payload size, fds, \
            flags (SYNC/RESP with latency, VIOLATION, EOF, TRANSFER…). Queue samples and the header are not \
            listed unless a -f filter names `kind`. Exit status 0; 1 when the trace cannot be read or has \
            damaged records (listed around and reported); 64 for a filter that does not compile or a schema \
            that cannot be read.
            """
    )

    @Argument(help: "The trace file.")
    var file: String

    @Option(name: .shortAndLong, help: "Show only events matching this filter (docs/filters.md).")
    var filter: String?

    @Option(name: .long, help: "A .ipc schema file, or a directory searched recursively for .ipc files (repeatable).")
    var schema: [String] = []

    @Option(name: .short, help: "Stop after this many lines.")
    var count: Int?

    @Option(name: .long, help: "relative (to the first event, default), absolute (UTC wall clock) or delta (since the previous line).")
    var time: String = "relative"

    @Flag(name: .customShort("V"), help: "Add the decoded parameters and a hex dump of the captured bytes under each frame.")
    var verbose = false

    @Flag(help: "Keep printing as the trace grows (a recording in progress) until its end record or Ctrl-C.")
    var follow = false

    func run() throws {
        guard let timeMode = ShowTimeMode(rawValue: time) else {
            fail("--time must be relative, absolute or delta, not '\(time)'", status: ExitCode.validationFailure)
        }
        if let count, count < 0 { fail("-c must be 0 or more", status: ExitCode.validationFailure) }
        var compiled: CompiledFilter?
        if let filter {
            do {
                compiled = try CompiledFilter(filter)
            } catch {
                fail("-f: \(error)\n  \(filter)\n  " + String(repeating: " ", count: max(error.column - 1, 0)) + "^",
                     status: ExitCode.validationFailure)
            }
        }
        let schemas: [SchemaFile]
        switch ShowSchemas.load(schema) {
        case .success(let files): schemas = files
        case .failure(let problem): fail(problem.description, status: ExitCode.validationFailure)
        }
        var trace: IndexedTrace
        do {
            trace = try IndexedTrace(path: file)
        } catch {
            fail("\(error)", status: ExitCode.failure)
        }
        let colour = isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        var printer = ShowPrinter(filter: compiled, schemas: schemas, limit: count, timeMode: timeMode, verbose: verbose, colour: colour)
        if follow {
            ShowInterrupt.install()
            while true {
                do {
                    try trace.follow()
                } catch {
                    fail("\(error)", status: ExitCode.failure)
                }
                let done = try printer.printNew(trace)
                if done || ShowInterrupt.requested { break }
                usleep(100_000)  // a recorder's writes arrive in batches; polling 10 times a second is plenty
            }
        } else {
            trace.indexToEnd()
            _ = try printer.printNew(trace)
        }
        // Damage is listed around, reported, and fails the command as it fails `check` (a truncated tail,
        // left by a killed recorder, is not damage).
        let damaged = trace.index.corruptionCount
        guard damaged == 0 else {
            for damage in trace.index.damage.prefix(5) {
                let resumed = damage.resumedAt.map { "resumed at offset \($0)" } ?? "nothing readable after it"
                printToStandardError("ipcscope show: \(file): damaged record at offset \(damage.offset): \(damage.reason); \(resumed)")
            }
            if damaged > 5 { printToStandardError("ipcscope show: \(file): \(damaged - 5) more damaged regions") }
            throw ExitCode.failure
        }
    }

    private func fail(_ message: String, status: ExitCode) -> Never {
        printToStandardError("ipcscope show: \(message)")
        Foundation.exit(status.rawValue)
    }
}

/// Prints the events indexed since the last call, in time order, through one ``ShowFormatter``.
struct ShowPrinter {
    let filter: CompiledFilter?
    let schemas: [SchemaFile]
    let limit: Int?
    let timeMode: ShowTimeMode
    let verbose: Bool
    let colour: Bool
    var formatter: ShowFormatter?
    /// Events (file order) already considered: a followed trace prints only what came after.
    var seen = 0
    var shown = 0
    /// Events numbered so far (the line number column).
    var considered = 0

    init(filter: CompiledFilter?, schemas: [SchemaFile], limit: Int?, timeMode: ShowTimeMode, verbose: Bool, colour: Bool) {
        self.filter = filter
        self.schemas = schemas
        self.limit = limit
        self.timeMode = timeMode
        self.verbose = verbose
        self.colour = colour
    }

    /// Returns whether printing is over: the limit is reached or the end record was printed or passed.
    mutating func printNew(_ trace: IndexedTrace) throws -> Bool {
        let total = trace.eventCount
        guard total > seen else { return false }
        // The context (names, latencies) is rebuilt from every record when the trace grew: a response's latency
        // and a late endpoint record change what earlier lines would say. Linear per poll; fine for following.
        let context = TraceFilterContext(reader: trace.reader, schemas: schemas)
        var formatter = self.formatter ?? ShowFormatter(context: context, header: trace.reader.header, timeMode: timeMode, verbose: verbose, colour: colour)
        formatter.context = context
        if formatter.origin == nil, total > 1 {
            // Relative times count from the first event after the header, in time order.
            let first = trace.events(inTimeOrder: 0..<min(total, 2)).first { $0.rawKind != TraceRecordKind.header.rawValue }
            formatter.origin = first?.time
        }
        // The first call walks the index's time order in place; later calls sort just the new events.
        var newEvents: [Int] = []
        if seen > 0 {
            newEvents = Array(seen..<total)
            newEvents.sort { (trace.index.time(of: $0), $0) < (trace.index.time(of: $1), $1) }
        }
        let firstCall = seen == 0
        seen = total
        var out = ""
        var ended = false
        for position in 0..<(firstCall ? total : newEvents.count) {
            let number = firstCall ? trace.index.eventNumber(atTimePosition: position) : newEvents[position]
            if let limit, shown >= limit { break }
            let kind = trace.index.rawKind(of: number)
            if kind == TraceRecordKind.end.rawValue { ended = true }
            // Numbers count every event but the header, hidden or not, so a line keeps its number under any filter.
            if kind != TraceRecordKind.header.rawValue { considered += 1 }
            guard ShowSelection.isListed(kind: kind, filter: filter) else { continue }
            let offset = trace.index.offset(of: number)
            guard let record = trace.reader.record(at: offset) else { continue }
            if let filter, !filter.matches(TraceRecordSubject(record: record, offset: offset, context: context)) { continue }
            shown += 1
            out += formatter.format(number: considered, record: record, offset: offset)
            if out.utf8.count > 64 << 10 {
                try writeStandardOutput(out)
                out = ""
            }
        }
        try writeStandardOutput(out)
        self.formatter = formatter
        if let limit, shown >= limit { return true }
        return ended
    }
}

/// SIGINT ends `--follow` cleanly (exit 0) instead of killing the process mid-line.
enum ShowInterrupt {
    nonisolated(unsafe) static var flag: sig_atomic_t = 0

    static var requested: Bool { flag != 0 }

    static func install() {
        signal(SIGINT) { _ in ShowInterrupt.flag = 1 }
        // A parent that blocks SIGINT (a test harness, a recorder's thread) passes the mask on: unblock it.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }
}

/// `--schema FILE.ipc|DIR…`: files as given, directories searched recursively for `.ipc` files.
enum ShowSchemas {
    struct Problem: Error, CustomStringConvertible {
        var description: String
    }

    static func load(_ paths: [String]) -> Result<[SchemaFile], Problem> {
        var files: [SchemaFile] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                return .failure(Problem(description: "--schema \(path): no such file or directory"))
            }
            var candidates = [path]
            if isDirectory.boolValue {
                guard let walker = FileManager.default.enumerator(atPath: path) else {
                    return .failure(Problem(description: "--schema \(path): cannot be listed"))
                }
                candidates = walker.compactMap { $0 as? String }.filter { $0.hasSuffix(".ipc") }.sorted().map { path + "/" + $0 }
            }
            for candidate in candidates {
                switch SchemaFileReader.read(candidate) {
                case .failure(let failure): return .failure(Problem(description: "--schema \(failure)"))
                case .success(let bytes):
                    do {
                        files.append(try SchemaParser.parse(String(decoding: bytes, as: UTF8.self), path: candidate))
                    } catch {
                        return .failure(Problem(description: "--schema \(candidate): \(error)"))
                    }
                }
            }
        }
        return .success(files)
    }
}

private func writeStandardOutput(_ text: String) throws {
    guard !text.isEmpty else { return }
    try FileHandle.standardOutput.write(contentsOf: Data(text.utf8))
}

private func printToStandardError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
