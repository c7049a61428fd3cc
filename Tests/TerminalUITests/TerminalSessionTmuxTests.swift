#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
import ViewerModel

/// The real backend (TerminalSession over ncursesw) running TerminalUIFixture in tmux: it draws, input
/// arrives, resizes arrive, and every way out — q, signals, a crash, Ctrl-Z — gives the terminal back.
@Suite(.serialized) struct TerminalSessionTmuxTests {
    static let terms = ["tmux-256color", "xterm-256color", "screen"]

    /// A pane with the fixture started from its shell; `baseline` holds the pane's modes before it started.
    struct Session {
        let pane: TmuxPane
        let baseline: String

        init(environment: String = "LC_ALL=C.UTF-8", arguments: String = "", columns: Int = 100, rows: Int = 40) throws {
            let fixture = try #require(BuiltProducts.executable("TerminalUIFixture"), "TerminalUIFixture not built")
            pane = try TmuxPane(columns: columns, rows: rows)
            baseline = try pane.modes()
            // stty -g before and after: the terminal driver's modes must come back byte for byte.
            try pane.type("stty -g > \(pane.directory)/before; \(environment) SWIFT_BACKTRACE=enable=no '\(fixture)' \(arguments); echo APP-EXIT=$?")
            // The frame is complete once its last row is there (ncurses sends rows top to bottom).
            _ = try pane.waitFor("the fixture's first frame") { $0.contains("READY pid=") && $0.contains("BOTTOM-RIGHT") }
        }

        func line(_ index: Int) throws -> String {
            let lines = try pane.screen().split(separator: "\n", omittingEmptySubsequences: false)
            return index < lines.count ? String(lines[index]) : ""
        }

        func waitForLine(_ index: Int, _ text: String) throws {
            _ = try pane.waitFor("line \(index) to read \(text)") { _ in (try? line(index)).map { $0.hasPrefix(text) } ?? false }
        }

        /// The fixture's pid from its first line. Waited for, not read once: a frame being redrawn (after the
        /// first resize ncurses clears and repaints) can have line 0 momentarily blank on a loaded machine.
        var pid: pid_t {
            get throws {
                func token(_ line: String) -> Substring? { line.split(separator: " ").first { $0.hasPrefix("pid=") } }
                _ = try pane.waitFor("line 0 to show the pid") { _ in (try? line(0)).flatMap(token) != nil }
                let digits = try #require(token(try line(0))).dropFirst(4)
                return try #require(pid_t(digits))
            }
        }

        /// Waits for the shell to report the fixture's exit status and checks the terminal is as before.
        func expectExitAndRestored(status expected: Int32) throws {
            let screen = try pane.waitFor("APP-EXIT") { Self.exitStatus(in: $0) != nil }
            #expect(Self.exitStatus(in: screen) == expected, "screen:\n\(screen)")
            try expectRestored()
        }

        /// The status the shell printed (`APP-EXIT=N` on a line of its own; the typed command line has `$?`).
        static func exitStatus(in screen: String) -> Int32? {
            screen.split(separator: "\n").last { $0.hasPrefix("APP-EXIT=") }.flatMap { Int32($0.dropFirst(9)) }
        }

        func expectRestored() throws {
            try pane.type("stty -g > \(pane.directory)/after; cmp -s \(pane.directory)/before \(pane.directory)/after && echo STTY-\"SAME\" || echo STTY-\"DIFFERENT\"")
            let screen = try pane.waitFor("the stty comparison") { $0.contains("STTY-SAME\n") || $0.contains("STTY-DIFFERENT\n") }
            #expect(screen.contains("STTY-SAME\n"), "terminal driver modes changed; screen:\n\(screen)")
            #expect(try pane.modes() == baseline)
        }
    }

    @Test(arguments: terms)
    func drawsReadsInputResizesAndRestoresOnQuit(term: String) throws {
        let session = try Session(environment: "TERM=\(term) LC_ALL=C.UTF-8")
        defer { session.pane.close() }
        #expect(try session.pane.modes().hasPrefix("1 "), "not on the alternate screen")

        let screen = try session.pane.screen()
        #expect(screen.contains("size=40x100 resizes=1"))
        #expect(screen.contains("glyphs: ─│┌▶✓█|end"))
        #expect(screen.contains("wide: 漢字🌍|end")) // two columns each: "|end" lands where the grid put it
        #expect(screen.contains("hostile: \u{FFFD}[31mEVIL\u{FFFD}\u{FFFD}rtl|end"))
        #expect(screen.contains("combining: e\u{301}|end") || screen.contains("combining: é|end"))
        for role in StyleRole.allCases { #expect(screen.contains("role:\(role.rawValue)"), "\(role)") }
        let lines = screen.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[39].hasSuffix("BOTTOM-RIGHT") && lines[39].count == 100, "the bottom-right cell is drawn")

        // Colours as the terminal can show them: 256-colour index 75 for the theme's #5fafff, or its
        // nearest of 8 with TERM=screen (and no bright or 256-colour codes at all there).
        let parameters = try Self.sgrParameters(session.pane.screen(escapes: true))
        if term == "screen" {
            #expect(!parameters.contains { $0.contains("38;5") || $0.contains("48;5") })
            #expect(!parameters.flatMap(Self.numbers).contains { (90...97).contains($0) || (100...107).contains($0) })
            #expect(parameters.flatMap(Self.numbers).contains { (30...37).contains($0) })
        } else {
            #expect(parameters.contains { $0.contains("38;5;75") }, "\(parameters)")
        }

        try session.pane.send("Up")
        try session.waitForLine(1, "last=key up")
        try session.pane.send("x")
        try session.waitForLine(1, "last=key character(\"x\")")
        try session.pane.send("F5")
        try session.waitForLine(1, "last=key function(5)")

        // Mouse reports in the encoding this TERM's kmous announces: X10 (ESC [ M) or SGR (ESC [ <).
        let sgr = term == "xterm-256color"
        try session.pane.sendBytes(sgr ? "\u{1B}[<0;11;6M" : "\u{1B}[M +&")
        try session.waitForLine(1, "last=mouse press(button: 1) row=5 col=10")
        try session.pane.sendBytes(sgr ? "\u{1B}[<65;21;4M" : "\u{1B}[Ma5$")
        try session.waitForLine(1, "last=mouse wheelDown row=")

        try session.pane.resize(columns: 80, rows: 30)
        try session.waitForLine(0, "READY pid=\(try session.pid) size=30x80 resizes=2")
        let resized = try session.pane.screen().split(separator: "\n", omittingEmptySubsequences: false)
        #expect(resized[29].hasSuffix("BOTTOM-RIGHT") && resized[29].count == 80)

        try session.pane.send("q")
        _ = try session.pane.waitFor("the fixture's exit line") { $0.contains("FIXTURE-EXIT status=0 theme=default utf8=true") }
        try session.expectExitAndRestored(status: 0)
    }

    @Test(arguments: [("C-c", Int32(130)), ("C-\\", Int32(131))])
    func interruptKeysRestoreTheTerminal(key: String, status: Int32) throws {
        let session = try Session()
        defer { session.pane.close() }
        try session.pane.send(key)
        try session.expectExitAndRestored(status: status)
    }

    @Test(arguments: [(SIGTERM, Int32(143)), (SIGHUP, Int32(129))])
    func terminationSignalsRestoreTheTerminal(signal: Int32, status: Int32) throws {
        let session = try Session()
        defer { session.pane.close() }
        #expect(kill(try session.pid, signal) == 0)
        try session.expectExitAndRestored(status: status)
    }

    /// A real crash (null pointer write: SIGSEGV; fatalError: SIGILL or SIGTRAP) and an abort sent from
    /// outside: the terminal is restored by the async-signal-safe handler, then the signal kills the process.
    @Test(arguments: ["@", "!", "SIGABRT"])
    func crashesRestoreTheTerminal(trigger: String) throws {
        let session = try Session()
        defer { session.pane.close() }
        if trigger == "SIGABRT" {
            #expect(kill(try session.pid, SIGABRT) == 0)
        } else {
            try session.pane.send(trigger)
        }
        let screen = try session.pane.waitFor("APP-EXIT") { Session.exitStatus(in: $0) != nil }
        let status = Session.exitStatus(in: screen)
        let expected: Set<Int32> = trigger == "@" ? [128 + SIGSEGV] : trigger == "!" ? [128 + SIGILL, 128 + SIGTRAP] : [128 + SIGABRT]
        #expect(status.map(expected.contains) == true, "screen:\n\(screen)")
        #expect(!screen.contains("FIXTURE-EXIT"))
        try session.expectRestored()
    }

    /// Ctrl-Z on the terminal (SIGTSTP) and the program's own `.suspend` both give the terminal back while
    /// stopped; `fg` takes it again and repaints the whole screen (the alternate screen comes back empty).
    @Test(arguments: ["C-z", "z"])
    func suspendAndForegroundRedraws(key: String) throws {
        let session = try Session()
        defer { session.pane.close() }
        try session.pane.send(key)
        _ = try session.pane.waitFor("the shell to report the stopped job") { $0.contains("Stopped") }
        #expect(try session.pane.waitForModes("the alternate screen to be left") { $0.hasPrefix("0 ") } == session.baseline)

        try session.pane.type("fg")
        _ = try session.pane.waitForModes("the alternate screen again") { $0.hasPrefix("1 ") }
        _ = try session.pane.waitFor("a full repaint") { screen in
            screen.contains("READY pid=") && StyleRole.allCases.allSatisfy { screen.contains("role:\($0.rawValue)") }
                && screen.contains("BOTTOM-RIGHT")
        }
        try session.pane.send("y")
        try session.waitForLine(1, "last=key character(\"y\")")
        try session.pane.sendBytes("\u{1B}[M +&")
        try session.waitForLine(1, "last=mouse press(button: 1) row=5 col=10")

        try session.pane.send("q")
        _ = try session.pane.waitFor("the fixture's exit line") { $0.contains("FIXTURE-EXIT status=0") }
        // The shell already printed APP-EXIT=148 when the job stopped; the terminal must still be as before.
        try session.expectRestored()
    }

    /// SIGSTOP cannot be caught: the shell writes its "Stopped" notice over the viewer's screen. On `fg`
    /// SIGCONT makes the session repaint everything, so none of the shell's text is left on it.
    @Test func continuingAfterSIGSTOPRepaintsOverTheShellsText() throws {
        let session = try Session()
        defer { session.pane.close() }
        #expect(kill(try session.pid, SIGSTOP) == 0)
        _ = try session.pane.waitFor("the shell to report the stopped job") { $0.contains("Stopped") }
        try session.pane.type("fg")
        _ = try session.pane.waitFor("a repaint without the shell's text") { screen in
            !screen.contains("Stopped") && !screen.contains("PROMPT$ fg") && screen.contains("READY pid=")
                && StyleRole.allCases.allSatisfy { screen.contains("role:\($0.rawValue)") }
        }
        try session.pane.send("q")
        _ = try session.pane.waitFor("the fixture's exit line") { $0.contains("FIXTURE-EXIT status=0") }
        try session.expectRestored() // the shell printed APP-EXIT=147 when the job stopped
    }

    @Test func noColorDrawsWithoutColourButWithAttributes() throws {
        let session = try Session(environment: "NO_COLOR=1 LC_ALL=C.UTF-8")
        defer { session.pane.close() }
        let parameters = try Self.sgrParameters(session.pane.screen(escapes: true))
        let numbers = parameters.flatMap(Self.numbers)
        let colours = numbers.filter { (30...38).contains($0) || (40...48).contains($0) || (90...97).contains($0) || (100...107).contains($0) }
        #expect(colours.isEmpty, "colour SGR under NO_COLOR: \(parameters)")
        #expect(numbers.contains(7)) // reverse: mono's selection and status bar
        #expect(numbers.contains(1)) // bold
        try session.pane.send("q")
        _ = try session.pane.waitFor("the fixture's exit line") { $0.contains("FIXTURE-EXIT status=0 theme=mono") }
        try session.expectExitAndRestored(status: 0)
    }

    @Test func nonUTF8LocaleDrawsASCIIOnly() throws {
        let session = try Session(environment: "LC_ALL=C")
        defer { session.pane.close() }
        let screen = try session.pane.screen()
        #expect(screen.unicodeScalars.allSatisfy { $0.value < 0x80 }, "non-ASCII on screen:\n\(screen)")
        #expect(screen.contains("glyphs: -|+>v#|end"))
        #expect(screen.contains("wide: ? ? ? |end"))
        try session.pane.send("q")
        _ = try session.pane.waitFor("the fixture's exit line") { $0.contains("FIXTURE-EXIT status=0 theme=default utf8=false") }
        try session.expectExitAndRestored(status: 0)
    }

    @Test func ticksAndTheFollowPollReachTheProgram() throws {
        var template = Array("/tmp/ipcscope-follow-XXXXXX".utf8CString)
        let directory = String(cString: try #require(mkdtemp(&template)))
        defer { _ = try? CommandRunner.run("/bin/rm", ["-rf", directory]) }
        let trace = directory + "/growing"
        try Self.append("start\n", to: trace)
        let session = try Session(arguments: "--tick-ms 20 --follow-file \(trace)")
        defer { session.pane.close() }
        _ = try session.pane.waitFor("three ticks") { screen in
            screen.split(separator: " ").first { $0.hasPrefix("ticks=") }.flatMap { Int($0.dropFirst(6)) }.map { $0 >= 3 } ?? false
        }
        #expect(try session.line(0).contains("changes=0"))
        try Self.append("more\n", to: trace)
        _ = try session.pane.waitFor("one change") { $0.contains("changes=1") }
        try Self.append("more\n", to: trace)
        _ = try session.pane.waitFor("two changes") { $0.contains("changes=2") }
        try session.pane.send("q")
        try session.expectExitAndRestored(status: 0)
    }

    @Test func anUnusableTermIsAnErrorMessageAndLeavesTheTerminalAlone() throws {
        let fixture = try #require(BuiltProducts.executable("TerminalUIFixture"), "TerminalUIFixture not built")
        let pane = try TmuxPane()
        defer { pane.close() }
        let baseline = try pane.modes()
        try pane.type("TERM=no-such-terminal LC_ALL=C.UTF-8 '\(fixture)'; echo APP-EXIT=$?")
        let screen = try pane.waitFor("APP-EXIT") { Session.exitStatus(in: $0) != nil }
        #expect(Session.exitStatus(in: screen) == 2)
        #expect(screen.contains("cannot use the terminal type TERM=no-such-terminal"))
        #expect(try pane.modes() == baseline)
    }

    @Test func withoutATerminalItRefusesToStart() throws {
        let fixture = try #require(BuiltProducts.executable("TerminalUIFixture"), "TerminalUIFixture not built")
        let result = try CommandRunner.run(fixture, [], timeoutSeconds: 60) // stdin /dev/null, stdout a pipe
        #expect(result.status == 2)
        #expect(result.stdout.contains("standard input and output must be a terminal"))
    }

    /// The parameter lists of every SGR sequence (`ESC [ … m`) in a capture.
    static func sgrParameters(_ capture: String) -> [String] {
        var result: [String] = []
        var rest = Substring(capture)
        while let start = rest.range(of: "\u{1B}[") {
            rest = rest[start.upperBound...]
            let body = rest.prefix { $0.isNumber || $0 == ";" }
            if rest.dropFirst(body.count).first == "m" { result.append(String(body)) }
        }
        return result
    }

    /// SGR numbers, with the arguments of 38/48 (;5;N and ;2;R;G;B) folded into their introducer.
    static func numbers(_ parameters: String) -> [Int] {
        let values = parameters.split(separator: ";").compactMap { Int($0) }
        var result: [Int] = []
        var index = 0
        while index < values.count {
            result.append(values[index])
            if values[index] == 38 || values[index] == 48 {
                index += index + 1 < values.count && values[index + 1] == 2 ? 5 : 3
            } else {
                index += 1
            }
        }
        return result
    }

    static func append(_ text: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw TmuxPane.Failure(description: "open \(path): errno \(errno)") }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let closed = close(fd)
        guard written == bytes.count, closed == 0 else { throw TmuxPane.Failure(description: "append to \(path): errno \(errno)") }
    }
}
