import ArgumentParser
import Foundation
import TraceFormat

/// `ipcscope redact IN -o OUT [--keep-commands] [--force]`: a copy of a trace whose captured payload bytes
/// (past each message's 8-byte envelope) are zeros and whose command lines are masked. A trace, not an
/// export: `check`, `show`, `stats`, `export` and the viewer read it as they read the original
/// (docs/security.md, "Redacting a trace").
struct RedactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redact",
        abstract: "Copy a trace with its payload bytes zeroed and its command lines masked, to share it.",
        discussion: """
            Every record is kept, with its size: frame headers, message envelopes (endpoint magic and \
            message id), fds' kinds, inodes and sizes, times, queue samples, violations, EOFs. Replaced, \
            byte for byte: each captured payload past its first 8 bytes (zeros); the first bytes of a \
            channel that is not LibIPC (zeros); unless --keep-commands, every argument after argv[0] of \
            the recorder's and each process's command line, and the host name (`*`). Executable paths, \
            endpoint names and embedded schemas are kept. OUT is written under a temporary name and \
            renamed into place when complete, mode 0600.

            Records of kinds this version does not know are left out (they could hold anything), and so \
            are damaged regions; both are counted on standard error.

            Exit status 0 when OUT is written; 64 for a usage mistake; 65 when IN is not a trace, or is \
            damaged (OUT then holds what was readable, redacted); 66 when IN cannot be opened; 73 when OUT \
            cannot be created (or is a file that is not a trace, without --force); 74 when reading or \
            writing fails part way (OUT is then not created, and a file already there is left as it was).

            Examples:
              ipcscope redact session.ipctrace -o shared.ipctrace
              ipcscope redact session.ipctrace -o shared.ipctrace --keep-commands
            """
    )

    @Argument(help: "The trace to redact.")
    var input: String

    @Option(name: .shortAndLong, help: "Where to write the redacted trace.")
    var output: String

    @Flag(help: "Keep command lines and the host name (payloads are redacted regardless).")
    var keepCommands = false

    @Flag(help: "Replace OUT even when it is a file that is not an ipcscope trace.")
    var force = false

    func run() throws {
        let outcome = try redact()
        if outcome.skippedRecords > 0 {
            ErrorLine.write("redact", "\(input): left out \(outcome.skippedRecords) records of kinds this version does not know")
        }
        if outcome.damagedRegions > 0 {
            throw CommandFailure(
                "\(input): damaged: \(outcome.damagedRegions) damaged regions left out; \(output) holds what was readable (ipcscope check \(input) says where)",
                status: CLIStatus.dataError)
        }
    }

    private struct Outcome {
        var skippedRecords = 0
        var damagedRegions = 0
    }

    private func redact() throws(CommandFailure) -> Outcome {
        let reader: TraceReader
        do { reader = try TraceReader(path: input) } catch { throw CommandFailure("\(error)", status: CLIStatus.reading(error)) }
        let report = reader.validate()
        guard let header = reader.header else {
            throw CommandFailure("\(input): not an ipcscope trace: it has no readable header record", status: CLIStatus.dataError)
        }
        let redaction = TraceRedaction(keepCommands: keepCommands)
        guard case .header(let redactedHeader) = redaction.redact(.header(header)) else {
            preconditionFailure("a header redacts to a header")
        }
        var options = TraceWriter.Options()
        options.publishesAtOnce = false
        options.existingOutput = force ? .replaceAnyFile : .replaceOnlyTraces
        let writer: TraceWriter
        do {
            writer = try TraceWriter(path: output, header: redactedHeader, options: options)
        } catch {
            throw CommandFailure("cannot create \(output): \(error)", status: CLIStatus.cannotCreate)
        }
        var end: EndRecord?
        for (_, record) in reader.records() {
            switch record {
            case .header:
                continue  // the writer wrote the (redacted) header first
            case .end(let record):
                end = record  // written last, by close
            default:
                // Waits for the disk rather than dropping anything: nothing is relayed here.
                guard writer.submit(redaction.redact(record), waitForRoom: true) else {
                    // Never published: close removes the temporary file; the refusal is what is told.
                    do { try writer.close() } catch {}
                    throw CommandFailure(
                        "cannot write \(output): " + (writer.writeFailure.map { "\($0)" } ?? "the writer refused a record"),
                        status: CLIStatus.ioError)
                }
            }
        }
        do {
            try writer.flush()
            try writer.publish()
            try writer.close(ending: end)
        } catch {
            throw CommandFailure("cannot write \(output): \(error)", status: CLIStatus.ioError)
        }
        return Outcome(skippedRecords: report.unknownKinds.count, damagedRegions: report.corruptions.count)
    }
}
