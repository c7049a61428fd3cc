import TraceFormat

/// Checks arbitrary bytes as a trace file, as `ipcscope check` does: the file header, every record's
/// framing and checksum, the resync after damage, every body's decoding. What must hold: no trap, and the
/// report accounts only for bytes that exist.
enum TraceFuzzing {
    static func run(_ data: UnsafeRawBufferPointer) {
        // Most inputs fail the magic; give the rest of them a valid file header so records get exercised.
        var bytes = TraceFileLayout.fileHeaderBytes()
        bytes.append(contentsOf: data)
        for candidate in [Array(data), bytes] {
            candidate.withUnsafeBytes { raw in
                guard let report = try? TraceReader.validate(bytes: raw, path: "fuzz") else { return }
                precondition(report.fileSize == raw.count)
                for damage in report.corruptions {
                    precondition(damage.offset < raw.count)
                    // A structural report on a good record (a missing header) resumes at that record itself.
                    if let resumed = damage.resumedAt { precondition(resumed >= damage.offset && resumed <= raw.count) }
                }
                if let tail = report.truncatedTail { precondition(tail.offset + tail.length == raw.count) }
                precondition(report.capturedPayloadBytes <= UInt64(raw.count))
            }
        }
    }
}
