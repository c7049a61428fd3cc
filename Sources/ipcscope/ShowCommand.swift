import ArgumentParser
import Foundation
import SystemSupport
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
            listed unless a -f filter names `kind`. -c N stops after N lines, with --follow too.

            Examples:
              ipcscope show t.ipctrace -c 20
              ipcscope show t.ipctrace -f 'message == "*Load*"' -V --schema Services/
              ipcscope show --follow --time delta t.ipctrace

            Exit status: 0; 64 for a usage error (a filter that does not compile, a --schema that cannot be \
            read); 65 when the file is not a trace or has damaged records (listed around and reported); 66 \
            when it cannot be opened; 74 when reading it or writing standard output fails.
            """
    )

    @Argument(help: "The trace file.")
    var file: String

    @Option(name: .shortAndLong, help: "Show only events matching this filter (docs/filters.md).")
    var filter: String?

    @Option(name: .long, help: "A .ipc schema file, or a directory searched recursively for .ipc files (repeatable).")
    var schema: [String] = []

    @Option(name: .short, parsing: .unconditional, help: "Stop after this many lines (with --follow too: it stops following there).")
    var count: Int?

    @Option(name: .long, help: "relative (to the first event, default), absolute (UTC wall clock) or delta (since the previous line).")
    var time: String = "relative"

    @Flag(name: .customShort("V"), help: "Add the decoded parameters and a hex dump of the captured bytes under each frame.")
    var verbose = false

    @Flag(help: "Keep printing as the trace grows (a recording in progress) until its end record or Ctrl-C.")
    var follow = false

    func validate() throws {
        guard ShowTimeMode(rawValue: time) != nil else {
            throw ValidationError("--time must be relative, absolute or delta, not '\(time)'")
        }
        if let count, count < 0 { throw ValidationError("-c must be 0 or more, not \(count)") }
    }

    func run() throws {
        let timeMode = ShowTimeMode(rawValue: time) ?? .relative
        let compiled: CompiledFilter?
        switch FilterOption.compile(filter) {
        case .success(let filter): compiled = filter
        case .failure(let problem): fail(problem.description, status: CLIStatus.usage)
        }
        let schemas: [SchemaFile]
        switch SchemaOptions.load(schema, command: "show") {
        case .success(let files): schemas = files
        case .failure(let problem): fail(problem.description, status: CLIStatus.usage)
        }
        var trace: IndexedTrace
        do {
            trace = try IndexedTrace(path: file)
        } catch {
            fail("\(error)", status: CLIStatus.reading(error))
        }
        let colour = isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        var printer = ShowPrinter(filter: compiled, schemas: schemas, limit: count, timeMode: timeMode, verbose: verbose, colour: colour, following: follow)
        if follow {
            ShowInterrupt.install()
            while true {
                do {
                    try trace.follow()
                } catch {
                    fail("\(error)", status: CLIStatus.reading(error))
                }
                let done = try printer.printNew(trace, upTo: trace.eventCount, everything: true)
                if done || ShowInterrupt.requested { break }
                usleep(100_000)  // a recorder's writes arrive in batches; polling 10 times a second is plenty
            }
        } else {
            // Index, analyse and print chunk by chunk: the first lines come before the whole trace is read
            // (or analysed, when a stored index made indexing instant).
            var upTo = 0
            var chunk = 4096  // a small first chunk for the first screen, then larger ones
            while true {
                let target = upTo + chunk
                chunk = min(chunk * 2, ShowPrinter.chunkEvents)
                trace.indexMore(untilEvents: target)
                let last = trace.progress.isComplete && trace.eventCount <= target
                upTo = min(target, trace.eventCount)
                if try printer.printNew(trace, upTo: upTo, everything: last) || last { break }
            }
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
            throw ExitCode(CLIStatus.dataError)
        }
    }

    private func fail(_ message: String, status: Int32) -> Never {
        printToStandardError("ipcscope show: \(message)")
        Foundation.exit(status)
    }
}

/// Prints the events indexed since the last call (up to a chunk of them) in time order, through one ``ShowFormatter`` over one
/// ``TraceAnalyzer`` fed only the new records (file order), so a long trace prints as it is read and a
/// followed one costs what it grew by.
///
/// Records of different directions interleave out of time order in the file, but only by a relay's batch,
/// so an event is printed once the chunk after it has been read: the events taken by a call wait until
/// their time is at most the earliest time of the events taken with them (at the end, or with
/// `everything`, all are printed). At most ``maximumWaiting`` events wait (a damaged trace whose times jump
/// back would otherwise hold everything): beyond that the oldest are printed.
struct ShowPrinter {
    static let chunkEvents = 1 << 16
    static let maximumWaiting = 1 << 20
    let filter: CompiledFilter?
    let limit: Int?
    let analyzer: TraceAnalyzer
    var formatter: ShowFormatter
    /// Events (file order) taken into `waiting` or printed: a followed trace prints only what came after.
    var seen = 0
    /// Event numbers indexed but not printed yet, sorted by (time, number) before each print.
    var waiting: [UInt32] = []
    var shown = 0
    /// Events numbered so far (the line number column).
    var considered = 0
    var ended = false
    let following: Bool

    init(filter: CompiledFilter?, schemas: [SchemaFile], limit: Int?, timeMode: ShowTimeMode, verbose: Bool, colour: Bool, following: Bool) {
        self.filter = filter
        self.limit = limit
        self.following = following
        analyzer = TraceAnalyzer(schemas: schemas)
        formatter = ShowFormatter(context: analyzer, header: nil, timeMode: timeMode, verbose: verbose, colour: colour)
    }

    /// Returns whether printing is over: the limit is reached or the end record was printed or passed.
    /// `everything`: print all that is indexed (a followed trace's poll, or the last chunk of a file).
    mutating func printNew(_ trace: IndexedTrace, upTo total: Int, everything: Bool) throws -> Bool {
        analyzer.advance(over: trace, upTo: total)
        // Nothing more will come: a request without a response has none (a followed trace: after its end record).
        analyzer.isComplete = everything && (analyzer.end != nil || trace.progress.isComplete && !following)
        if formatter.header == nil { formatter.header = analyzer.header }
        let index = trace.index
        var watermark = UInt64.max
        for number in seen..<max(seen, total) {
            waiting.append(UInt32(number))
            if !everything { watermark = min(watermark, index.time(of: number)) }
        }
        seen = max(seen, total)
        waiting.sort { (index.time(of: Int($0)), $0) < (index.time(of: Int($1)), $1) }
        var ready = waiting.count
        if watermark != .max {
            var low = 0
            while low < ready {
                let middle = (low + ready) / 2
                if index.time(of: Int(waiting[middle])) <= watermark { low = middle + 1 } else { ready = middle }
            }
            ready = max(low, waiting.count - Self.maximumWaiting)
        }
        if formatter.origin == nil {
            // Relative times count from the first event after the header, in time order.
            formatter.origin = waiting.prefix(ready).first { index.rawKind(of: Int($0)) != TraceRecordKind.header.rawValue }
                .map { index.time(of: Int($0)) }
        }
        var out = ""
        var printed = 0
        for number in waiting.prefix(ready).lazy.map(Int.init) {
            if let limit, shown >= limit { break }
            printed += 1
            let kind = index.rawKind(of: number)
            if kind == TraceRecordKind.end.rawValue { ended = true }
            // Numbers count every event but the header, hidden or not, so a line keeps its number under any filter.
            if kind != TraceRecordKind.header.rawValue { considered += 1 }
            guard ShowSelection.isListed(kind: kind, filter: filter) else { continue }
            let offset = index.offset(of: number)
            guard let record = trace.reader.record(at: offset) else { continue }
            if let filter, !filter.matches(TraceRecordSubject(record: record, offset: offset, context: analyzer)) { continue }
            shown += 1
            out += formatter.format(number: considered, record: record, offset: offset)
            if out.utf8.count > 64 << 10 {
                try writeStandardOutput(out)
                out = ""
            }
        }
        waiting.removeFirst(printed)
        try writeStandardOutput(out)
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

private func writeStandardOutput(_ text: String) throws {
    guard !text.isEmpty else { return }
    let failure: SystemError? = Array(text.utf8).withUnsafeBytes { bytes in
        do throws(SystemError) {
            try writeAll(bytes, "write to standard output") { Glibc.write(STDOUT_FILENO, $0.baseAddress, $0.count) }
            return nil
        } catch {
            return error
        }
    }
    if let failure { throw CommandFailure("\(failure)", status: CLIStatus.ioError) }
}

private func printToStandardError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
