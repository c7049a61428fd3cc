/// How many terminal columns a character takes: 0 (combining marks, joiners), 1, or 2 (East Asian wide
/// and fullwidth, emoji). A small table of the ranges that matter, not full Unicode data: a wrong guess costs
/// one misaligned row, never a crash, and the grid never lets a character spill past its cell.
public enum TerminalWidth {
    public static func of(_ character: Character) -> Int {
        var width = 0
        for scalar in character.unicodeScalars {
            width = max(width, of(scalar))
        }
        return width
    }

    public static func of(_ scalar: Unicode.Scalar) -> Int {
        let v = scalar.value
        if v < 0x300 { return 1 }
        if isZeroWidth(v) { return 0 }
        if isWide(v) { return 2 }
        return 1
    }

    /// Characters a terminal would act on instead of drawing: C0, DEL, C1, and the bidi overrides that
    /// can make hostile text display as something else. The grid draws a replacement for them.
    public static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        return v < 0x20 || (v >= 0x7F && v < 0xA0) || (v >= 0x202A && v <= 0x202E) || (v >= 0x2066 && v <= 0x2069)
    }

    static func isZeroWidth(_ v: UInt32) -> Bool {
        (v >= 0x300 && v <= 0x36F) || (v >= 0x200B && v <= 0x200F) || v == 0x2060 || (v >= 0xFE00 && v <= 0xFE0F)
            || (v >= 0x1AB0 && v <= 0x1AFF) || (v >= 0x20D0 && v <= 0x20FF) || (v >= 0xFE20 && v <= 0xFE2F)
            || (v >= 0xE0100 && v <= 0xE01EF)
    }

    static func isWide(_ v: UInt32) -> Bool {
        (v >= 0x1100 && v <= 0x115F) || (v >= 0x2E80 && v <= 0x303E) || (v >= 0x3041 && v <= 0x33FF)
            || (v >= 0x3400 && v <= 0x4DBF) || (v >= 0x4E00 && v <= 0x9FFF) || (v >= 0xA000 && v <= 0xA4CF)
            || (v >= 0xAC00 && v <= 0xD7A3) || (v >= 0xF900 && v <= 0xFAFF) || (v >= 0xFE30 && v <= 0xFE4F)
            || (v >= 0xFF00 && v <= 0xFF60) || (v >= 0xFFE0 && v <= 0xFFE6) || (v >= 0x1F300 && v <= 0x1F64F)
            || (v >= 0x1F900 && v <= 0x1F9FF) || (v >= 0x20000 && v <= 0x3FFFD)
    }
}
