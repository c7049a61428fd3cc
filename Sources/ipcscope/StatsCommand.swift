import ArgumentParser
import Foundation
import IPCWire
import TraceAnalysis
import TraceExport
import TraceFormat

/// `ipcscope stats FILE [--json] [-f EXPR] [--schema …] [-o OUT]`: a thin shell over TraceAnalysis's
/// ``StatsReport`` (docs/stats.md).
struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Summarise a trace: traffic per endpoint pair and per message, sync latencies, queues, fds, violations.",
        discussion: """
            Per endpoint pair and per message: payload frames, bytes, fds and sync latency p50/p99/max; records \
            by kind; queue depth maxima per direction; fds never acknowledged; violations, warnings and EOFs by \
            kind; damage. With -f only the events the filter selects are counted (names and latencies still come \
            from the whole trace). With -o the report is written to a temporary file next to OUT and renamed over \
            it when complete.

            Examples:
              ipcscope stats t.ipctrace
              ipcscope stats t.ipctrace --json -f 'channel == 2' | jq .messages
              ipcscope stats t.ipctrace --schema Services/ -o report.txt

            Exit status: 0; 64 for a usage error (a filter that does not compile, a --schema that cannot be \
            read); 65 when the file is not a trace or has damaged records (the report of what was readable is \
            still written); 66 when it cannot be opened; 73 when OUT cannot be created; 74 when writing fails.
            """
    )

    @Argument(help: "The trace file.")
    var file: String

    @Flag(help: "Print the report as JSON (fields in docs/stats.md).")
    var json = false

    @Option(name: [.customShort("f"), .customLong("filter")], help: "Count only the events matching this filter (docs/filters.md).")
    var filter: String?

    @Option(name: .long, help: "A .ipc schema file, or a directory searched recursively for .ipc files (repeatable).")
    var schema: [String] = []

    @Option(name: .shortAndLong, help: "Write to this file instead of standard output ('-' is standard output).")
    var output: String?

    func run() throws {
        let compiled: CompiledFilter?
        switch FilterOption.compile(filter) {
        case .success(let filter): compiled = filter
        case .failure(let problem): fail(problem.description, status: CLIStatus.usage)
        }
        let schemas: [SchemaFile]
        switch SchemaOptions.load(schema, command: "stats") {
        case .success(let files): schemas = files
        case .failure(let problem): fail(problem.description, status: CLIStatus.usage)
        }
        var trace: IndexedTrace
        do {
            trace = try IndexedTrace(path: file)
        } catch {
            fail("\(error)", status: CLIStatus.reading(error))
        }
        trace.indexToEnd()
        let analyzer = TraceAnalyzer(schemas: schemas)
        analyzer.advance(over: trace)
        analyzer.isComplete = true
        var tally: StatsTally?
        if let compiled {
            // Second pass: each event the filter selects, judged with the finished analysis (names, latencies).
            var selected = StatsTally()
            for number in 0..<trace.eventCount where trace.index.rawKind(of: number) != TraceRecordKind.header.rawValue {
                let offset = trace.index.offset(of: number)
                guard let record = trace.reader.record(at: offset),
                      compiled.matches(TraceRecordSubject(record: record, offset: offset, context: analyzer)) else { continue }
                analyzer.count(record, offset: offset, into: &selected)
            }
            tally = selected
        }
        let report = StatsReport(trace: file, analyzer: analyzer, tally: tally, filter: filter, index: trace.index)
        let destination = output.flatMap { $0 == "-" ? nil : $0 }
        let colour = !json && destination == nil && isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        let text = json ? report.json() : report.text(colour: colour)
        do {
            let sink = try destination.map { path throws(ExportError) in try ExportOutput(path: path) } ?? ExportOutput()
            var failure: ExportError?
            Array(text.utf8).withUnsafeBytes { raw in
                do throws(ExportError) { try sink.write(raw) } catch { failure = error }
            }
            if let failure { throw failure }
            try sink.commit()
        } catch {
            fail("\(error)", status: (error as? ExportError).map(CLIStatus.writing) ?? CLIStatus.ioError)
        }
        if report.isDamaged {
            printError("\(file): damaged: \(report.damagedRegions) corrupt stretches skipped; the report counts what was readable (ipcscope check \(file) says where)")
            throw ExitCode(CLIStatus.dataError)
        }
    }

    private func fail(_ message: String, status: Int32) -> Never {
        printError(message)
        Foundation.exit(status)
    }

    private func printError(_ message: String) {
        FileHandle.standardError.write(Data("ipcscope stats: \(message)\n".utf8))
    }
}
