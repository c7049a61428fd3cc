import TraceFormat

/// The words for a recording's totals, shared by `record`'s closing summary and `check`, so both say the
/// same thing about the same trace (docs/trace-format.md §5.9).
public enum TotalsWording {
    public static func count(_ value: UInt64, _ singular: String, _ plural: String? = nil) -> String {
        "\(value) " + (value == 1 ? singular : plural ?? singular + "s")
    }

    /// "N payload frames, M acks" and, when there were any, "U unknown-type frames".
    public static func frames(payload: UInt64, acknowledgements: UInt64?, unknownType: UInt64?) -> String {
        var text = count(payload, "payload frame")
        if let acknowledgements { text += ", " + count(acknowledgements, "ack") }
        if let unknownType, unknownType > 0 { text += ", " + count(unknownType, "unknown-type frame") }
        return text
    }

    /// "V violations, W near-limit warnings": a violation broke a rule (the receiver disconnects); a
    /// warning is a value near its limit (over 80 % of it, at most the limit itself), nothing broken.
    public static func findings(violations: UInt64, warnings: UInt64?) -> String {
        var text = count(violations, "violation")
        if let warnings { text += ", " + count(warnings, "near-limit warning") }
        return text
    }

    /// What the recorder counted, as its end record says.
    public static func recorded(_ summary: TraceSummary) -> String {
        frames(payload: summary.frames, acknowledgements: summary.acknowledgementFrames,
               unknownType: summary.unknownTypeFrames)
            + " (\(ByteCount.format(summary.bytes)) with headers), \(count(summary.fds, "fd")), "
            + findings(violations: summary.violations, warnings: summary.warnings)
    }
}

/// A byte count for people: "812 B", "1.5 KiB", "3.0 GiB".
public enum ByteCount {
    /// One decimal, rounded as printf's `%.1f` rounds the Double `bytes / 1024ⁿ` (to nearest, ties to
    /// even on the exact binary value), so the text is what `String(format: "%.1f")` gave before this
    /// moved out of the executable — without Foundation.
    public static func format(_ bytes: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        // Double(bytes) is what printf saw: above 2⁵³ it is already rounded. Dividing by 1024 is exact.
        let value = Double(bytes)
        var unit = 0
        var scale: Double = 1
        while value / scale >= 1024, unit < units.count - 1 {
            scale *= 1024
            unit += 1
        }
        guard unit > 0 else { return "\(bytes) B" }
        // The exact integer the Double holds (at most 2⁶⁴), over 1024^unit, to tenths.
        let exact = UInt128(value)
        let divisor = UInt128(scale)
        let tenths = exact * 10 / divisor
        let remainder = exact * 10 % divisor
        var rounded = tenths
        if remainder * 2 > divisor || (remainder * 2 == divisor && tenths % 2 == 1) { rounded += 1 }
        return "\(rounded / 10).\(rounded % 10) \(units[unit])"
    }
}
