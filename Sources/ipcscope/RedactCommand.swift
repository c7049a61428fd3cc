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

            Examples:
              ipcscope redact session.ipctrace -o shared.ipctrace
              ipcscope redact session.ipctrace -o shared.ipctrace --keep-commands

            Exit status 0 when OUT is written, 64 for a usage mistake, 1 when IN cannot be read or OUT \
            cannot be written.
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
        do {
            let outcome = try redact()
            if outcome.skippedRecords > 0 || outcome.damagedRegions > 0 {
                warn("left out \(outcome.skippedRecords) records of unknown kinds and \(outcome.damagedRegions) damaged regions of \(input)")
            }
        } catch {
            warn("\(error.what): \(error.why)")
            throw ExitCode(1)
        }
    }

    private struct Failure: Error {
        var what: String
        var why: String
    }

    private struct Outcome {
        var skippedRecords = 0
        var damagedRegions = 0
    }

    private func redact() throws(Failure) -> Outcome {
        let reader: TraceReader
        do { reader = try TraceReader(path: input) } catch { throw Failure(what: "cannot read \(input)", why: "\(error)") }
        let report = reader.validate()
        guard let header = reader.header else {
            throw Failure(what: "cannot read \(input)", why: "it has no readable header record")
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
            throw Failure(what: "cannot create \(output)", why: "\(error)")
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
                    throw Failure(what: "cannot write \(output)", why: writer.writeFailure.map { "\($0)" } ?? "the writer refused a record")
                }
            }
        }
        do {
            try writer.flush()
            try writer.publish()
            try writer.close(ending: end)
        } catch {
            throw Failure(what: "cannot write \(output)", why: "\(error)")
        }
        return Outcome(skippedRecords: report.unknownKinds.count, damagedRegions: report.corruptions.count)
    }

    private func warn(_ line: String) {
        FileHandle.standardError.write(Data("ipcscope redact: \(line)\n".utf8))
    }
}
