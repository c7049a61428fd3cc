#if canImport(Glibc)
import Glibc
#endif
import TestSupport

/// A private tmux server (its own socket in its own folder) with one pane running an interactive bash,
/// driven as a person would: type a command line, send keys, read the screen with capture-pane. No
/// client ever attaches. `close()` kills the server and removes the folder.
final class TmuxPane {
    struct Failure: Error, CustomStringConvertible { var description: String }

    /// The terminal modes tmux tracks for the pane; equal before a program starts and after it left means
    /// it gave the terminal back.
    static let modeFormat = "#{alternate_on} cursor=#{cursor_flag} keypad=#{keypad_flag} keypad-cursor=#{keypad_cursor_flag} "
        + "mouse=#{mouse_any_flag}#{mouse_standard_flag}#{mouse_button_flag}#{mouse_all_flag}#{mouse_sgr_flag} "
        + "insert=#{insert_flag} origin=#{origin_flag} wrap=#{wrap_flag}"

    let directory: String
    private let tmux: String
    private var closed = false

    init(columns: Int = 100, rows: Int = 40) throws {
        guard let tmux = ["/usr/bin/tmux", "/usr/local/bin/tmux", "/bin/tmux"].first(where: { (path: String) in access(path, X_OK) == 0 }) else {
            throw Failure(description: "tmux is not installed (CI installs it from .ci/apt-packages)")
        }
        self.tmux = tmux
        var template = Array("/tmp/ipcscope-tmux-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Failure(description: "mkdtemp: errno \(errno)") }
        directory = String(cString: made)
        // A clean shell: no rc files, a prompt the tests can find, no core files from the crash tests.
        let shell = "env -i PATH=/usr/bin:/bin HOME=\(directory) TERM=tmux-256color LC_ALL=C.UTF-8 "
            + "PS1='PROMPT$ ' bash --norc --noprofile -i"
        try run(["new-session", "-d", "-s", "t", "-x", "\(columns)", "-y", "\(rows)", shell])
        _ = try waitFor("the shell prompt") { $0.contains("PROMPT$") }
        try type("ulimit -c 0")
    }

    deinit { close() }

    func close() {
        guard !closed else { return }
        closed = true
        _ = try? run(["kill-server"]) // the server may already be gone; the folder is removed either way
        _ = try? CommandRunner.run("/bin/rm", ["-rf", directory])
    }

    @discardableResult
    func run(_ arguments: [String]) throws -> String {
        let result = try CommandRunner.run(tmux, ["-S", directory + "/socket", "-f", "/dev/null"] + arguments, timeoutSeconds: 30)
        guard result.status == 0 else {
            throw Failure(description: "tmux \(arguments.joined(separator: " ")): status \(result.status): \(result.stderr)")
        }
        return result.stdout
    }

    /// Types a command line and presses Enter.
    func type(_ line: String) throws {
        try run(["send-keys", "-t", "t", "-l", line])
        try run(["send-keys", "-t", "t", "Enter"])
    }

    /// Keys by tmux name (`Up`, `C-c`, `q`).
    func send(_ keys: String...) throws { try run(["send-keys", "-t", "t"] + keys) }

    /// Raw bytes as if the terminal sent them (mouse reports).
    func sendBytes(_ text: String) throws { try run(["send-keys", "-t", "t", "-l", text]) }

    /// The visible screen; `escapes` keeps SGR sequences; `history` adds the scrollback.
    func screen(escapes: Bool = false, history: Bool = false) throws -> String {
        try run(["capture-pane", "-p", "-t", "t"] + (escapes ? ["-e"] : []) + (history ? ["-S", "-"] : []))
    }

    func modes() throws -> String { try run(["display-message", "-p", "-t", "t", Self.modeFormat]) }

    func resize(columns: Int, rows: Int) throws { try run(["resize-window", "-t", "t", "-x", "\(columns)", "-y", "\(rows)"]) }

    /// Polls the screen (with scrollback) until `condition` holds. The bound only keeps a broken run from
    /// hanging; it decides nothing (the screen usually changes within milliseconds).
    func waitFor(_ what: String, seconds: Double = 30, _ condition: (String) -> Bool) throws -> String {
        let deadline = Self.now() + seconds
        var last = ""
        while true {
            last = try screen(history: true)
            if condition(last) { return last }
            if Self.now() > deadline { throw Failure(description: "timed out waiting for \(what); screen:\n\(last)") }
            usleep(20_000)
        }
    }

    /// Polls the pane's modes until `condition` holds (same bound as `waitFor`).
    func waitForModes(_ what: String, seconds: Double = 30, _ condition: (String) -> Bool) throws -> String {
        let deadline = Self.now() + seconds
        while true {
            let modes = try self.modes()
            if condition(modes) { return modes }
            if Self.now() > deadline { throw Failure(description: "timed out waiting for \(what); modes: \(modes)") }
            usleep(20_000)
        }
    }

    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
