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
            leaves OUT as it was. Exit status 0 on success, 64 for a filter that does not compile or an unknown format, \
            1 on any other error (unreadable trace, write error); a damaged trace is exported as far as it is readable and exits 1.
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

    func run() throws {
        do {
            try export()
        } catch {
            FileHandle.standardError.write(Data("ipcscope export: \(error.message)\n".utf8))
            throw ExitCode(error.isUsage ? 64 : 1)
        }
    }

    private struct ExportFailure: Error {
        var message: String
        /// A mistake in the command line (as `show` reports it): exit 64, EX_USAGE.
        var isUsage = false
    }

    private func export() throws(ExportFailure) {
        guard let chosen = ExportFormat(rawValue: format) else {
            throw ExportFailure(message: "unknown format '\(format)' (json, jsonl or chrome)", isUsage: true)
        }
        var compiled: CompiledFilter?
        if let filter {
            do { compiled = try CompiledFilter(filter) } catch {
                throw ExportFailure(message: "filter: \(error)", isUsage: true)
            }
        }
        let schemas: [SchemaFile]
        switch SchemaOptions.load(schema, command: "export") {
        case .success(let files): schemas = files
        case .failure(let problem): throw ExportFailure(message: problem.description, isUsage: true)
        }
        let context: ExportContext
        do { context = try ExportContext(path: file, schemas: schemas) } catch { throw ExportFailure(message: "\(file): \(error)") }
        do {
            let destination = output.flatMap { $0 == "-" ? nil : $0 }
            let sink = try destination.map { path throws(ExportError) in try ExportOutput(path: path) } ?? ExportOutput()
            try TraceExporter(context: context, filter: compiled, includePayload: payload).export(chosen, to: sink)
        } catch {
            throw ExportFailure(message: "\(error)")
        }
        // Everything readable was exported; the damage is still an error (`ipcscope check` says where).
        if context.corruptionCount > 0 {
            throw ExportFailure(message: "\(file): damaged: \(context.corruptionCount) corrupt stretches skipped; the export holds what was readable (ipcscope check \(file) says where)")
        }
    }
}
