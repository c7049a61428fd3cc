import ArgumentParser
import DemoPeers
import Foundation
import IPCTransport
import Recorder

/// `ipcscope demo`: runs a miniature Ladybird — this process as the UI, plus a WebContent and a
/// RequestServer helper — talking real LibIPC, and prints what every process sent and received.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a UI, WebContent and RequestServer that talk LibIPC like Ladybird, and check every message.",
        discussion: """
            The UI (this process) spawns `ipcscope demo-peer webcontent` and `ipcscope demo-peer requestserver` \
            the way Ladybird spawns its helpers (socketpair + SOCKET_TAKEOVER). The scenario loads a page, passes \
            fds (pipes, memfds), transfers transports (connect_new_client → connect_to_request_server, a \
            MessagePort hand-over) and ends in an orderly shutdown. Exit status 0 only if every step of every \
            process succeeded (1 when a step failed, 64 for a usage error). Recording, the demo exits like \
            `ipcscope record`: 73 when the trace cannot be created, 74 when the demo succeeded but writing the \
            trace failed. Options of the recording (-o, --force, --via, --no-view) are refused with --no-record. \
            See docs/demo.md.

            Examples:
              ipcscope demo
              ipcscope demo -o demo.ipctrace --no-view --misbehave
              ipcscope demo --no-record --messages 50 --seed 7
            """
    )

    @Flag(name: .customLong("no-record"), help: "Run the demo without recording it.")
    var noRecord = false

    @Option(name: .shortAndLong, help: ArgumentHelp("Trace file to record into (replaced only when it is an ipcscope trace; default: ipcscope-demo.ipctrace).", valueName: "file"))
    var output: String?

    @Flag(help: "Replace the output file even when it is not an ipcscope trace.")
    var force = false

    @Option(help: ArgumentHelp("How the recorder finds the demo's channels: preload (every socketpair, through the interposer library; the default) or takeover (each helper wrapped in `ipcscope record`, as SOCKET_TAKEOVER helpers).", valueName: "mechanism"))
    var via: RecordingMechanism?

    @Flag(help: "After the scenario, break each LibIPC limit once and check that the victim disconnects.")
    var misbehave = false

    @Option(parsing: .unconditional, help: "About how many messages to send in all (bulk input traffic is scaled to it).")
    var messages: Int = DemoOptions.defaultMessages

    @Option(parsing: .unconditional, help: "Seed for every generated value (bodies, bitmaps, input events).")
    var seed: UInt64 = 1

    @Flag(name: .customLong("no-view"), help: "Do not open the viewer on the recorded trace (it opens only when standard output is a terminal).")
    var noView = false

    /// Set by a recording run for the UI it starts: launch each helper under a nested `ipcscope record`.
    @Flag(name: .customLong("wrap-helpers"), help: .hidden)
    var wrapHelpers = false

    enum RecordingMechanism: String, ExpressibleByArgument, CaseIterable {
        case preload
        case takeover
    }

    func validate() throws {
        // Options of the recording do nothing without one: refused rather than ignored.
        if noRecord {
            if noView { throw ValidationError("--no-view does nothing with --no-record (nothing is recorded to view)") }
            if output != nil { throw ValidationError("-o does nothing with --no-record (nothing is recorded)") }
            if force { throw ValidationError("--force does nothing with --no-record (nothing is recorded)") }
            if via != nil { throw ValidationError("--via does nothing with --no-record (nothing is recorded)") }
        } else if wrapHelpers {
            throw ValidationError("--wrap-helpers is for the demo's own recording run, with --no-record")
        }
        if let output, output.isEmpty || output == "-" { throw ValidationError("-o needs a file name") }
        guard messages >= 0 else { throw ValidationError("--messages must be 0 or more, not \(messages)") }
    }

    func run() throws {
        if noRecord {
            try runScenario()
        } else {
            try recordScenario()
        }
    }

    private func runScenario() throws {
        let options = DemoOptions(messages: messages, seed: seed, misbehave: misbehave)
        let executable = SelfExecutableLauncher.invocationName()
        let launcher = wrapHelpers
            ? SelfExecutableLauncher(executable: executable, arguments: ["record", "--no-preload", "--", executable, "demo-peer"])
            : SelfExecutableLauncher(executable: executable)
        let result = DemoScenario.run(options, helperLauncher: launcher)
        if !result.report.isEmpty { print(result.report, terminator: "") }
        if let failure = result.failure { writeToStandardError(failure) }
        if !result.succeeded { throw ExitCode(1) }
    }

    /// Runs this very command with --no-record under `ipcscope record`, with the demo's schemas.
    private func recordScenario() throws {
        let executable = SelfExecutableLauncher.invocationName()
        let output = output ?? "ipcscope-demo.ipctrace"
        var via = via ?? .preload
        if via == .preload, PreloadLibrary.locate() == nil {
            // `swift run ipcscope` builds only this executable, not the interposer library beside it.
            writeToStandardError("ipcscope demo: \(PreloadLibrary.fileName) is not built next to ipcscope (`swift build` builds it); recording via helper takeover instead")
            via = .takeover
        }
        var arguments = ["record", "-o", output]
        if force { arguments.append("--force") }
        for path in DemoSchemas.paths() { arguments += ["--schema", path] }
        if via == .takeover { arguments.append("--no-preload") }
        arguments += ["--", executable, "demo", "--no-record", "--messages", String(messages), "--seed", String(seed)]
        if misbehave { arguments.append("--misbehave") }
        if via == .takeover { arguments.append("--wrap-helpers") }
        let recorder = try ProcessSpawner.spawn(executable: executable, arguments: arguments)
        let status = recorder.wait()
        // The demo ran and its trace is complete: show it, when there is someone to look at it.
        if status == .exited(0), !noView, isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 {
            let viewed = try ViewLauncher.view(
                path: output, filter: "", schemaPaths: [], theme: nil, follow: false, mouse: true, title: nil, command: "demo")
            throw ExitCode(viewed)
        }
        SignalWaiter.exit(like: status)
    }

    private func writeToStandardError(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
