import ArgumentParser
import Foundation
import IPCWire
import TraceAnalysis
import TraceExport
import TraceFormat

/// `ipcscope export FILE --format json|jsonl|chrome [-o OUT] [-f EXPR] [--payload]`: a thin shell over TraceExport.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a trace as JSON, JSON Lines or Chrome Trace Event Format (Perfetto UI, chrome://tracing).",
        discussion: """
            Events in time order; the fields of each format are in docs/export.md. With -o the export is \
            written to a temporary file next to OUT and renamed over it only when complete: a failed export \
            leaves OUT as it was. --payload adds bytes to json and jsonl; with chrome it is refused (Chrome \
            events carry none).

            Examples:
              ipcscope export t.ipctrace --format jsonl | jq 'select(.kind == "violation")'
              ipcscope export t.ipctrace --format chrome -o t.json    # then open it in ui.perfetto.dev
              ipcscope export t.ipctrace --format json --payload -f 'channel == 2' -o ch2.json

            Exit status: 0; 64 for a usage error (a filter that does not compile, an unknown format, a --schema \
            that cannot be used); 65 when the trace is not a trace or is damaged (a damaged one is exported as \
            far as it is readable); 66 when it cannot be opened; 73 when OUT cannot be created; 74 when writing fails.
            """
    )

    @Argument(help: "The trace file.")
    var file: String

    @Option(help: "json (one document), jsonl (one event per line) or chrome (Trace Event Format).")
    var format: String

    @Option(name: .shortAndLong, help: "Write to this file instead of standard output ('-' is standard output).")
    var output: String?

    @Option(name: [.customShort("f"), .customLong("filter")], help: "Export only the events this filter selects (docs/filters.md).")
    var filter: String?

    @Option(name: .long, help: "A .ipc schema file, or a directory searched recursively for .ipc files (repeatable).")
    var schema: [String] = []

    @Flag(help: "Add each frame's captured payload bytes, base64.")
    var payload = false

    func validate() throws {
        if payload && format == "chrome" {
            throw ValidationError("--payload does nothing with --format chrome (Chrome events carry no payload bytes)")
        }
    }

    func run() throws {
        do {
            try export()
        } catch {
            ErrorLine.write("export", error.message)
            throw ExitCode(error.status)
        }
    }

    private struct ExportFailure: Error {
        var message: String
        var status: Int32
    }

    private func export() throws(ExportFailure) {
        guard let chosen = ExportFormat(rawValue: format) else {
            throw ExportFailure(message: "--format must be json, jsonl or chrome, not '\(format)'", status: CLIStatus.usage)
        }
        let compiled: CompiledFilter?
        switch FilterOption.compile(filter) {
        case .success(let filter): compiled = filter
        case .failure(let problem): throw ExportFailure(message: problem.description, status: CLIStatus.usage)
        }
        let schemas: [SchemaFile]
        switch SchemaOptions.load(schema, command: "export") {
        case .success(let files): schemas = files
        case .failure(let problem): throw ExportFailure(message: problem.description, status: CLIStatus.usage)
        }
        let context: ExportContext
        do { context = try ExportContext(path: file, schemas: schemas) } catch {
            throw ExportFailure(message: "\(error)", status: CLIStatus.reading(error))
        }
        do {
            let destination = output.flatMap { $0 == "-" ? nil : $0 }
            let sink = try destination.map { path throws(ExportError) in try ExportOutput(path: path) } ?? ExportOutput()
            try TraceExporter(context: context, filter: compiled, includePayload: payload).export(chosen, to: sink)
        } catch {
            throw ExportFailure(message: "\(error)", status: CLIStatus.writing(error))
        }
        // Everything readable was exported; the damage is still an error (`ipcscope check` says where).
        if context.corruptionCount > 0 {
            throw ExportFailure(
                message: "\(file): damaged: \(context.corruptionCount) corrupt stretches skipped; the export holds what was readable (ipcscope check \(file) says where)",
                status: CLIStatus.dataError)
        }
    }
}
