import TraceFormat

/// The words for a recording's totals, shared by `record`'s closing summary and `check`, so both say the
/// same thing about the same trace (docs/trace-format.md §5.9).
enum TotalsWording {
    static func count(_ value: UInt64, _ singular: String, _ plural: String? = nil) -> String {
        "\(value) " + (value == 1 ? singular : plural ?? singular + "s")
    }

    /// "N payload frames, M acks" and, when there were any, "U unknown-type frames".
    static func frames(payload: UInt64, acknowledgements: UInt64?, unknownType: UInt64?) -> String {
        var text = count(payload, "payload frame")
        if let acknowledgements { text += ", " + count(acknowledgements, "ack") }
        if let unknownType, unknownType > 0 { text += ", " + count(unknownType, "unknown-type frame") }
        return text
    }

    /// "V violations, W near-limit warnings": a violation broke a rule (the receiver disconnects); a
    /// warning is a value near its limit (over 80 % of it, at most the limit itself), nothing broken.
    static func findings(violations: UInt64, warnings: UInt64?) -> String {
        var text = count(violations, "violation")
        if let warnings { text += ", " + count(warnings, "near-limit warning") }
        return text
    }

    /// What the recorder counted, as its end record says.
    static func recorded(_ summary: TraceSummary) -> String {
        frames(payload: summary.frames, acknowledgements: summary.acknowledgementFrames,
               unknownType: summary.unknownTypeFrames)
            + " (\(ByteCount.format(summary.bytes)) with headers), \(count(summary.fds, "fd")), "
            + findings(violations: summary.violations, warnings: summary.warnings)
    }
}
