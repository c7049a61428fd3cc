import Glibc
import IPCTransport
import Recorder
import TestSupport

/// One run of PreloadFixture: posix_spawn (signal mask reset, stdio captured), never Foundation.Process.
struct FixtureRun {
    var status: ExitStatus?
    var pid: pid_t
    var standardOutput: String
    var standardError: String

    var succeeded: Bool { status == .exited(0) && standardOutput.contains("fixture ok") }
    var summary: String { "status \(status.map(String.init(describing:)) ?? "timeout"), stdout: \(standardOutput), stderr: \(standardError)" }

    /// Runs the fixture with `arguments`. `control` is IPCSCOPE_CONTROL ("" = inert), `preload` false runs
    /// it without the interposer at all.
    static func run(
        _ arguments: [String], control: String? = nil, preload: Bool = true, interposeConnect: Bool = false,
        debug: Bool = false, timeout: Duration = .seconds(40)
    ) throws -> FixtureRun {
        guard let fixture = BuiltProducts.fixture else { throw BuiltProducts.Missing(what: "PreloadFixture") }
        var environment: [String: String] = [
            ControlEnvironment.controlVariable: control ?? "",
            ControlEnvironment.interposeConnectVariable: interposeConnect ? "1" : "0",
            ControlEnvironment.debugVariable: debug ? "1" : "0",
            PreloadLibrary.environmentVariable: "",
        ]
        if preload {
            guard let library = BuiltProducts.preloadLibrary else { throw BuiltProducts.Missing(what: PreloadLibrary.fileName) }
            environment[PreloadLibrary.environmentVariable] = library
        }
        let process = try ProcessSpawner.spawn(
            executable: fixture, arguments: arguments, environment: environment,
            standardOutput: .capture, standardError: .capture)
        // The fixture's output is a few lines, far below a pipe's capacity: waiting first cannot deadlock.
        var status = process.wait(timeout: timeout)
        if status == nil {
            process.kill(SIGKILL)
            process.wait()
            status = nil
        }
        let output = (try? process.readStandardOutput()) ?? []
        let errors = (try? process.readStandardError()) ?? []
        return FixtureRun(
            status: status, pid: process.pid,
            standardOutput: String(decoding: output, as: UTF8.self),
            standardError: String(decoding: errors, as: UTF8.self))
    }
}
