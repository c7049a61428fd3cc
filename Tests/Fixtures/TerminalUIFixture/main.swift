// A tiny ViewerProgram under the real TerminalSession, for TerminalUITests to drive in tmux. It shows the
// last event and the size, draws every style role, wide characters and hostile text, and crashes or
// suspends on request. Options: --theme NAME|PATH, --tick-ms N, --follow-file PATH, --no-mouse.
#if canImport(Glibc)
import Glibc
#endif
import TerminalTheme
import TerminalUI
import ViewerModel

final class EchoProgram: ViewerProgram {
    let glyphs: Glyphs
    let tickInterval: Duration?
    var size = (rows: 0, columns: 0)
    var resizes = 0
    var ticks = 0
    var changes = 0
    var last = "none"

    init(glyphs: Glyphs, tickInterval: Duration?) {
        self.glyphs = glyphs
        self.tickInterval = tickInterval
    }

    func update(_ event: InputEvent) -> ViewerEffect {
        switch event {
        case .key(.character("q")):
            return .quit
        case .key(.character("z")):
            last = "suspend"
            return .suspend
        case .key(.character("!")):
            fatalError("crash requested by the test")
        case .key(.character("@")):
            UnsafeMutablePointer<Int>(bitPattern: 16)!.pointee = 1 // SIGSEGV, as a real bug would
        case .key(let key):
            last = "key \(key)"
        case .mouse(let mouse):
            last = "mouse \(mouse.action) row=\(mouse.row) col=\(mouse.column)"
        case .resize(let rows, let columns):
            size = (rows, columns)
            resizes += 1
        case .tick:
            ticks += 1
        case .traceChanged:
            changes += 1
        }
        return .redraw
    }

    func render(into grid: inout CellGrid) {
        grid.put("READY pid=\(getpid()) size=\(size.rows)x\(size.columns) resizes=\(resizes) ticks=\(ticks) changes=\(changes)", row: 0, column: 0, style: CellStyle(.title))
        grid.put("last=\(last)", row: 1, column: 0)
        let g = glyphs
        grid.put("glyphs: \(g.horizontal)\(g.vertical)\(g.topLeft)\(g.arrowRight)\(g.check)\(g.bars[8])|end", row: 2, column: 0, style: CellStyle(.border))
        grid.put("wide: 漢字🌍|end", row: 3, column: 0)
        grid.put("hostile: \u{1B}[31mEVIL\u{07}\u{202E}rtl|end", row: 4, column: 0)
        grid.put("combining: e\u{301}|end", row: 5, column: 0)
        for (index, role) in StyleRole.allCases.enumerated() {
            grid.put("role:\(role.rawValue)", row: 6 + index / 3, column: (index % 3) * 24, style: CellStyle(role))
        }
        let marker = "BOTTOM-RIGHT"
        grid.put(marker, row: grid.rows - 1, column: grid.columns - marker.count, style: CellStyle(.statusBar, bold: true))
    }
}

var themeOption: String?
var tickMilliseconds: Int?
var followFile: String?
var mouse = true
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--theme": themeOption = arguments.popFirst()
    case "--tick-ms": tickMilliseconds = arguments.popFirst().flatMap { Int($0) }
    case "--follow-file": followFile = arguments.popFirst()
    case "--no-mouse": mouse = false
    default:
        print("TerminalUIFixture: unknown argument \(argument)")
        exit(64)
    }
}

func environmentValue(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }

var followPoll: (() -> Bool)?
if let followFile {
    var lastSize: Int64 = -1
    followPoll = {
        var info = stat()
        guard stat(followFile, &info) == 0 else { return false }
        defer { lastSize = Int64(info.st_size) }
        return lastSize >= 0 && Int64(info.st_size) != lastSize
    }
    _ = followPoll?()
}

let locale = TerminalLocale.prepare()
do {
    var environment: [String: String] = [:]
    for name in ["NO_COLOR", Theme.environmentVariable] { environment[name] = environmentValue(name) }
    let theme = try Theme.load(nameOrPath: themeOption, environment: environment)
    let program = EchoProgram(glyphs: locale.glyphs, tickInterval: tickMilliseconds.map { .milliseconds($0) })
    let status = try TerminalSession.run(program: program, theme: theme, followPoll: followPoll, mouse: mouse)
    print("FIXTURE-EXIT status=\(status) theme=\(theme.name) utf8=\(locale.isUTF8)")
    exit(status)
} catch {
    print("TerminalUIFixture: \(error)")
    exit(2)
}
