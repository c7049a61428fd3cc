#if canImport(Glibc)
import Glibc
#endif
import CNCurses
import CTerminalSignals
import TerminalTheme
import ViewerModel

/// Runs a `ViewerProgram` on the terminal: feeds it keys, mouse, resizes, ticks and trace changes, draws
/// what it renders, and gives the terminal back as it found it on every way out — quit, Ctrl-C, SIGTERM,
/// SIGHUP, SIGQUIT, a crash (SIGSEGV, SIGBUS, SIGABRT, SIGILL, SIGFPE, SIGTRAP, SIGSYS), and for the time of
/// a Ctrl-Z.
///
///     let locale = TerminalLocale.prepare()               // before building the model: it picks the glyphs
///     let theme = try Theme.load(nameOrPath: option, environment: ProcessInfo.processInfo.environment)
///     let model = Viewer(trace: trace, glyphs: locale.glyphs)
///     let status = try TerminalSession.run(program: model, theme: theme, followPoll: { trace.refresh() })
///     exit(status)
public enum TerminalSession {
    /// How often `followPoll` is asked when nothing wakes the session.
    public static let defaultFollowPollInterval: Duration = .milliseconds(200)

    /// Runs until the program quits (returns 0) or a termination signal arrives (returns 128 + its
    /// number: 130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP or a terminal that went away).
    ///
    /// - followPoll: asked every `followPollInterval` and whenever `waker` is woken; when it returns true
    ///   the program gets `.traceChanged`. Runs on the calling thread, between events.
    /// - waker: lets another thread cut the wait short (a file watcher); one is made when not given.
    /// - mouse: report mouse clicks and the wheel (the terminal then leaves text selection to Shift+drag).
    /// - theme: colours are used only when the terminal has them; under 8 colours the theme's attributes alone.
    public static func run(
        program: some ViewerProgram, theme: Theme, followPoll: (() -> Bool)? = nil,
        followPollInterval: Duration = defaultFollowPollInterval, waker: TerminalWaker? = nil, mouse: Bool = true
    ) throws(TerminalError) -> Int32 {
        guard isatty(0) == 1, isatty(1) == 1 else { throw .notATerminal }
        let locale = TerminalLocale.prepare()
        let wakeUp: TerminalWaker
        if let waker { wakeUp = waker } else { wakeUp = try TerminalWaker() }
        var loop = try SessionLoop(
            program: program, theme: theme, locale: locale, waker: wakeUp, followPoll: followPoll,
            followPollInterval: followPollInterval, mouse: mouse)
        return loop.run()
    }
}

/// One session: set up in `init` (signals first, so ncurses leaves them to us), torn down by `run`.
private struct SessionLoop<Program: ViewerProgram> {
    let program: Program
    let waker: TerminalWaker
    let followPoll: (() -> Bool)?
    let followPollNanoseconds: UInt64
    let screen: OpaquePointer
    let window: UnsafeMutablePointer<WINDOW>
    var painter: GridPainter

    var needsFrame = true
    var reportedSize: (rows: Int, columns: Int)?
    var nextTick: UInt64?
    var nextFollowPoll: UInt64?

    init(
        program: Program, theme: Theme, locale: TerminalLocale, waker: TerminalWaker, followPoll: (() -> Bool)?,
        followPollInterval: Duration, mouse: Bool
    ) throws(TerminalError) {
        self.program = program
        self.waker = waker
        self.followPoll = followPoll
        let (seconds, attoseconds) = followPollInterval.components
        followPollNanoseconds = UInt64(max(1_000_000, seconds * 1_000_000_000 + attoseconds / 1_000_000_000))

        guard ipct_install(waker.writeFD, 1) == 0 else { throw .system("sigaction", errno) }
        guard let screen = newterm(nil, ipcs_curses_stdout(), ipcs_curses_stdin()) else {
            ipct_uninstall()
            let term = getenv("TERM").map { String(cString: $0) } ?? ""
            throw .unusableTerminal(term: term)
        }
        self.screen = screen
        set_term(screen)
        window = ipcs_curses_stdscr()

        cbreak() // not raw: Ctrl-C, Ctrl-Z and Ctrl-\ stay signals, which the handlers turn into events
        noecho()
        nonl()
        keypad(window, true)
        nodelay(window, true) // the session waits in poll(), where signals and the waker can reach it
        intrflush(window, false)
        set_escdelay(25)
        curs_set(0)

        var colors = 0
        var defaultColors = false
        if theme.usesColor, has_colors() {
            start_color()
            defaultColors = use_default_colors() == OK
            colors = Int(ipcs_curses_colors())
        }
        let styles = StyleTable(theme: theme, colors: colors, colorPairs: Int(ipcs_curses_color_pairs()), defaultColors: defaultColors)
        painter = GridPainter(styles: styles, asciiOnly: !locale.isUTF8)

        var mouseOn = false
        if mouse {
            mouseinterval(0) // report presses at once instead of waiting to tell clicks from drags
            mouseOn = mousemask(ipcs_curses_all_mouse_events(), nil) != 0
        }
        let reset = Self.resetSequence(mouse: mouseOn)
        reset.withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { ipct_set_reset_sequence($0.baseAddress, $0.count) } }
        ipct_set_active(1)
    }

    /// What an emergency restore writes: the terminfo strings that undo the modes ncurses set (padding
    /// removed, since no tputs runs in a signal handler), after switching xterm mouse reporting off.
    static func resetSequence(mouse: Bool) -> [UInt8] {
        var bytes: [UInt8] = []
        if mouse { bytes += Array("\u{1B}[?1006l\u{1B}[?1003l\u{1B}[?1002l\u{1B}[?1000l".utf8) }
        for capability in ["rmkx", "sgr0", "cnorm", "rmcup"] {
            guard let value = ipcs_curses_tigetstr(capability) else { continue }
            bytes += withoutPadding(Array(String(cString: value).utf8))
        }
        return bytes
    }

    /// Removes terminfo padding (`$<5>`, `$<2*/>`), which only tputs understands.
    static func withoutPadding(_ bytes: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "$"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "<"),
               let close = bytes[(index + 2)...].firstIndex(of: UInt8(ascii: ">")) {
                index = close + 1
                continue
            }
            result.append(bytes[index])
            index += 1
        }
        return result
    }

    mutating func run() -> Int32 {
        let status = loop()
        ipct_set_active(0)
        endwin()
        delscreen(screen)
        ipct_uninstall()
        return status
    }

    private mutating func loop() -> Int32 {
        if let status = deliverSize(rows: Int(ipcs_curses_lines()), columns: Int(ipcs_curses_cols())) { return status }
        scheduleTimers(now: Self.now())
        var fds = [pollfd(fd: 0, events: Int16(POLLIN), revents: 0), pollfd(fd: waker.readFD, events: Int16(POLLIN), revents: 0)]
        while true {
            if needsFrame {
                drawFrame()
                needsFrame = false
            }
            fds[0].revents = 0
            fds[1].revents = 0
            let ready = poll(&fds, nfds_t(fds.count), timeoutMilliseconds(now: Self.now()))
            if ready < 0, errno != EINTR { return 128 + SIGHUP }
            if fds[0].revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 { return 128 + SIGHUP }
            let woken = waker.drain()

            let pending = ipct_take_pending()
            if pending & UInt32(IPCT_PENDING_TERMINATE) != 0 { return 128 + ipct_termination_signal() }
            if pending & UInt32(IPCT_PENDING_SUSPEND) != 0 {
                if let status = suspend(wholeGroup: false) { return status }
            }
            if pending & UInt32(IPCT_PENDING_CONTINUE) != 0 { resumeAfterOutsideStop() }
            if pending & UInt32(IPCT_PENDING_RESIZE) != 0 { checkSize() }

            if let status = readInput() { return status }

            let now = Self.now()
            if let tick = nextTick, now >= tick {
                nextTick = nil
                if let status = dispatch(.tick(monotonicNanoseconds: now)) { return status }
            }
            if let followPoll, woken || (nextFollowPoll.map { now >= $0 } ?? false) {
                nextFollowPoll = nil
                if followPoll(), let status = dispatch(.traceChanged) { return status }
            }
            scheduleTimers(now: Self.now())
        }
    }

    /// Reads every key and mouse report ncurses has; a status when the program quit.
    private mutating func readInput() -> Int32? {
        while true {
            var character: wint_t = 0
            let result = wget_wch(window, &character)
            if result == ERR { return nil }
            let event: InputEvent?
            if result == ipcs_curses_key_code_yes() {
                switch Int32(character) {
                case KEY_RESIZE:
                    if let status = deliverSize(rows: Int(ipcs_curses_lines()), columns: Int(ipcs_curses_cols())) { return status }
                    event = nil
                case KEY_MOUSE:
                    var report = MEVENT()
                    event = getmouse(&report) == OK
                        ? InputTranslator.mouse(buttonState: report.bstate, row: Int(report.y), column: Int(report.x)).map(InputEvent.mouse)
                        : nil
                default:
                    event = InputTranslator.key(code: Int32(character)).map(InputEvent.key)
                }
            } else {
                event = InputTranslator.key(character: UInt32(character)).map(InputEvent.key)
            }
            if let event, let status = dispatch(event) { return status }
        }
    }

    /// Applies an event; a status when the program quit (or was suspended and then told to quit).
    private mutating func dispatch(_ event: InputEvent) -> Int32? {
        switch program.update(event) {
        case .none: return nil
        case .redraw: needsFrame = true; return nil
        case .quit: return 0
        case .suspend: return suspend(wholeGroup: true)
        }
    }

    /// Tells the program the size once per distinct size (a SIGWINCH and ncurses' KEY_RESIZE may report
    /// the same change twice).
    private mutating func deliverSize(rows: Int, columns: Int) -> Int32? {
        if let reportedSize, reportedSize == (rows, columns) { return nil }
        reportedSize = (rows, columns)
        needsFrame = true
        painter.invalidate()
        return dispatch(.resize(rows: rows, columns: columns))
    }

    /// After SIGWINCH (or a resume): tell ncurses the new size, which queues KEY_RESIZE for `readInput`.
    private mutating func checkSize() {
        var rows: Int32 = 0, columns: Int32 = 0
        guard ipcs_curses_window_size(1, &rows, &columns) == 0, rows > 0, columns > 0 else { return }
        if rows != ipcs_curses_lines() || columns != ipcs_curses_cols() {
            resizeterm(rows, columns)
        }
        _ = deliverSize(rows: Int(ipcs_curses_lines()), columns: Int(ipcs_curses_cols()))
    }

    /// Gives the terminal back, stops, and on `fg` takes it again and repaints everything. Without job
    /// control (SIGTSTP ignored by the parent) it only repaints.
    private mutating func suspend(wholeGroup: Bool) -> Int32? {
        if ipct_job_control_available() != 0 {
            ipct_set_active(0)
            endwin()
            ipct_stop_self(wholeGroup ? 1 : 0)
            ipct_set_active(1)
            // A termination signal may have come while stopped.
            if ipct_take_pending() & UInt32(IPCT_PENDING_TERMINATE) != 0 { return 128 + ipct_termination_signal() }
        }
        checkSize()
        forceFullRepaint()
        return nil
    }

    /// Continued after a stop we did not make (SIGSTOP, or a SIGTSTP that came while busy): the shell has
    /// put its own terminal modes back and written on the screen. Leaving and re-entering curses mode
    /// re-applies every mode (raw input, keypad, mouse, alternate screen), then everything is repainted.
    private mutating func resumeAfterOutsideStop() {
        ipct_set_active(0)
        endwin()
        ipct_set_active(1)
        checkSize()
        forceFullRepaint()
    }

    private mutating func forceFullRepaint() {
        clearok(ipcs_curses_curscr(), true)
        painter.invalidate()
        needsFrame = true
    }

    private mutating func drawFrame() {
        var grid = CellGrid(rows: Int(ipcs_curses_lines()), columns: Int(ipcs_curses_cols()))
        program.render(into: &grid)
        painter.draw(grid, into: window)
        wnoutrefresh(window)
        doupdate()
    }

    private mutating func scheduleTimers(now: UInt64) {
        if let interval = program.tickInterval {
            // Zero: background work is waiting (the viewer's indexing and analysis slices): tick as soon as
            // no input is, so a key waits at most one slice.
            let (seconds, attoseconds) = interval.components
            let nanoseconds = interval <= .zero ? 0 : UInt64(max(1_000_000, seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
            if nextTick == nil { nextTick = now + nanoseconds }
        } else {
            nextTick = nil
        }
        if followPoll != nil, nextFollowPoll == nil { nextFollowPoll = now + followPollNanoseconds }
    }

    private func timeoutMilliseconds(now: UInt64) -> Int32 {
        let deadlines = [nextTick, nextFollowPoll].compactMap { $0 }
        guard let next = deadlines.min() else { return -1 }
        if next <= now { return 0 }
        return Int32(min(UInt64(Int32.max), (next - now + 999_999) / 1_000_000))
    }

    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
