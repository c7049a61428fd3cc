import TerminalTheme

/// Arbitrary bytes given to the theme loader (TOML through TOMLKit, behind ipcscope's own checks).
/// What must hold: no trap or abort (toml++ aborts on some inputs: TOMLHazards must refuse them first);
/// an error that names a line names one inside the text.
enum ThemeFuzzing {
    static func run(_ data: UnsafeRawBufferPointer) {
        let bytes = Array(data)
        do {
            _ = try ThemeParser.parse(bytes: bytes, source: "fuzz.toml")
        } catch {
            if let line = error.line {
                let lines = bytes.reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
                precondition(line >= 1 && line <= lines, "error line \(line) outside the \(lines)-line input")
            }
        }
    }
}
