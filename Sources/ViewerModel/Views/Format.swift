/// Numbers as the viewer prints them. Only ASCII plus what `glyphs` supplies, so the ASCII glyph set
/// yields ASCII screens.
struct Format {
    let glyphs: Glyphs

    /// `+1.532104 s` from nanoseconds since the trace's origin (negative when a damaged trace runs backwards).
    func offset(_ nanoseconds: Int64, digits: Int = 6) -> String {
        let sign = nanoseconds < 0 ? "-" : "+"
        let magnitude = nanoseconds.magnitude
        let scale = UInt64([1_000_000_000, 100_000_000, 10_000_000, 1_000_000, 100_000, 10_000, 1000][min(max(digits, 0), 6)])
        let units = magnitude / scale
        let per = 1_000_000_000 / scale
        guard digits > 0 else { return "\(sign)\(units) s" }
        let fraction = String(units % per)
        return "\(sign)\(units / per)." + String(repeating: "0", count: max(0, digits - fraction.count)) + fraction + " s"
    }

    /// `2.1 ms`, `850 µs`, `12 ns`, `1.25 s`: three significant-ish digits.
    func duration(_ nanoseconds: Int64) -> String {
        let sign = nanoseconds < 0 ? "-" : ""
        let n = nanoseconds.magnitude
        if n < 1000 { return "\(sign)\(n) ns" }
        if n < 1_000_000 { return sign + tenths(n, unit: 1000) + " \(glyphs.micro)s" }
        if n < 1_000_000_000 { return sign + tenths(n, unit: 1_000_000) + " ms" }
        return sign + hundredths(n, unit: 1_000_000_000) + " s"
    }

    private func tenths(_ n: UInt64, unit: UInt64) -> String {
        let value = (n * 10 + unit / 2) / unit
        return value >= 1000 ? "\(value / 10)" : "\(value / 10).\(value % 10)"
    }

    private func hundredths(_ n: UInt64, unit: UInt64) -> String {
        let value = n / (unit / 100)
        let fraction = value % 100
        return "\(value / 100)." + (fraction < 10 ? "0" : "") + "\(fraction)"
    }

    /// `96 B`, `4 KiB`, `1.5 MiB`.
    static func bytes(_ value: UInt64) -> String {
        if value < 1024 { return "\(value) B" }
        let units = ["KiB", "MiB", "GiB", "TiB"]
        var scaled = Double(value) / 1024
        var unit = 0
        while scaled >= 1024 && unit < units.count - 1 {
            scaled /= 1024
            unit += 1
        }
        let tenths = Int((scaled * 10).rounded())
        return (tenths % 10 == 0 || tenths >= 1000 ? "\(tenths / 10)" : "\(tenths / 10).\(tenths % 10)") + " " + units[unit]
    }

    /// `1,204,877`.
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (position, digit) in digits.enumerated() {
            if position > 0 && (digits.count - position) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return (value < 0 ? "-" : "") + out
    }

    /// `text` cut to `width` columns, ending in the ellipsis glyph when cut.
    func fit(_ text: String, _ width: Int) -> String {
        guard width > 0 else { return "" }
        var columns = 0
        var out = ""
        for character in text {
            let w = TerminalWidth.of(character)
            if columns + w > width {
                while !out.isEmpty && columns + 1 > width {
                    columns -= TerminalWidth.of(out.removeLast())
                }
                out.append(glyphs.ellipsis)
                return out
            }
            out.append(character)
            columns += w
        }
        return out
    }

    static func width(_ text: String) -> Int { text.reduce(0) { $0 + TerminalWidth.of($1) } }
}
