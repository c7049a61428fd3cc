import ArgumentParser
import Foundation
import IPCWire
import TerminalTheme
import TerminalUI
import TraceAnalysis
import TraceFormat
import ViewerModel

/// `ipcscope view FILE`: the terminal viewer (docs/viewer.md). Parses options, opens the trace, and hands a
/// `TraceViewer` (ViewerModel) to a `TerminalSession` (TerminalUI); nothing of either is decided here.
struct ViewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "view",
        abstract: "Open a trace in the terminal viewer: sequence diagram, detail and hex, queues, violations, replay.",
        discussion: """
            Opens at once however large the trace is (the rest is indexed while you look; the status line shows \
            progress). A trace still being recorded can be followed (F, or --follow), like `less +F`. Press ? in \
            the viewer for every key. Themes: default, light, high-contrast, mono, or a TOML file \
            (docs/themes.md); NO_COLOR gives mono unless --theme is given.

            Examples:
              ipcscope view ipcscope-demo.ipctrace
              ipcscope view t.ipctrace -f 'message == "*Load*" or kind == violation'
              ipcscope view --follow --theme light t.ipctrace

            Exit status: 0; 1 when standard input/output is not a terminal; 64 for a usage error (a theme or \
            schema that cannot be used); 65 when the file is not a trace; 66 when it cannot be opened; 128+N \
            when ended by signal N (the terminal is restored).
            """
    )

    @Argument(help: "The trace file.")
    var file: String

    @Option(name: [.customShort("f"), .customLong("filter")], help: "Show only the events matching this filter (docs/filters.md).")
    var filter: String?

    @Option(name: .long, help: "A .ipc schema file, or a directory searched recursively for .ipc files (repeatable).")
    var schema: [String] = []

    @Option(name: .long, help: ArgumentHelp("Theme name or TOML file (default: $IPCSCOPE_THEME, else default).", valueName: "name|path"))
    var theme: String?

    @Flag(help: "Follow the trace as it grows (F toggles it in the viewer).")
    var follow = false

    @Flag(name: .customLong("no-mouse"), help: "Leave the mouse to the terminal (text selection without Shift).")
    var noMouse = false

    func run() throws {
        let status = try ViewLauncher.view(
            path: file, filter: filter ?? "", schemaPaths: schema, theme: theme, follow: follow, mouse: !noMouse,
            title: nil, command: "view")
        throw ExitCode(status)
    }
}

/// Opens the viewer on a trace; shared by `view`, `demo` and `record --view`.
enum ViewLauncher {
    /// Runs the viewer until the user quits; returns the exit status (see `view --help`).
    static func view(
        path: String, filter: String, schemaPaths: [String], theme themeName: String?, follow: Bool, mouse: Bool,
        title: String?, command: String
    ) throws -> Int32 {
        let theme: Theme
        do {
            theme = try Theme.load(nameOrPath: themeName, environment: ProcessInfo.processInfo.environment)
        } catch {
            return complain(command, "\(error)", CLIStatus.usage)
        }
        let schemas: [SchemaFile]
        switch SchemaOptions.load(schemaPaths, command: command) {
        case .success(let files): schemas = files
        case .failure(let problem): return complain(command, problem.description, CLIStatus.usage)
        }
        // The first screen from a quick open (the first 4 MiB indexed); the stored index, whose loading and
        // checking can take longer than the screen should (0.2–0.5 s at 10 M events), is loaded on another
        // thread and taken over when it is there (docs/viewer.md, "Background work").
        let trace: IndexedTrace
        do {
            trace = try IndexedTrace(path: path, store: .disabled)
        } catch {
            return complain(command, "\(error)", CLIStatus.reading(error))
        }
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
            return complain(command, "standard input and output must be a terminal (use `ipcscope show` in pipes)", CLIStatus.failure)
        }
        // The locale decides the glyphs before the model is built (ASCII when it is not UTF-8).
        let locale = TerminalLocale.prepare()
        var size = winsize()
        let measured = ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_row > 0
        let configuration = ViewerConfiguration(
            glyphs: locale.glyphs, filterText: filter, schemas: schemas, follow: follow,
            rows: measured ? Int(size.ws_row) : 24, columns: measured ? Int(size.ws_col) : 80, title: title)
        let viewer = TraceViewer(trace: trace, configuration: configuration)
        do {
            let waker = try TerminalWaker()
            let loader = StoredIndexLoader(path: path, waker: waker)
            return try TerminalSession.run(
                program: viewer, theme: theme, followPoll: { loader.take().map(viewer.adopt) ?? false }, waker: waker, mouse: mouse)
        } catch {
            return complain(command, "\(error)", CLIStatus.failure)
        }
    }

    private static func complain(_ command: String, _ message: String, _ status: Int32) -> Int32 {
        ErrorLine.write(command, message)
        return status
    }
}

/// Opens the trace again with the index store (loading its stored index when there is a valid one) on a
/// thread of its own, and wakes the terminal session when done; `take()` hands the result over once.
final class StoredIndexLoader: @unchecked Sendable {
    private let lock = NSLock()
    private var loaded: IndexedTrace?

    init(path: String, waker: TerminalWaker) {
        let thread = Thread { [self] in
            let opened: IndexedTrace
            do {
                opened = try IndexedTrace(path: path)
            } catch {
                return  // the viewer goes on with the trace it opened; the file was readable a moment ago
            }
            lock.withLock { loaded = opened }
            do { try waker.wake() } catch {}  // the session also polls every 200 ms
        }
        thread.name = "stored-index"
        thread.start()
    }

    func take() -> IndexedTrace? {
        lock.withLock {
            defer { loaded = nil }
            return loaded
        }
    }
}
