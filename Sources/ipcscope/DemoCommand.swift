import ArgumentParser
import DemoPeers
import Foundation

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
            process succeeded. See docs/demo.md.
            """
    )

    @Flag(name: .customLong("no-record"), help: "Run without recording (the only mode until recording is built).")
    var noRecord = false

    @Flag(help: "After the scenario, break each LibIPC limit once and check that the victim disconnects.")
    var misbehave = false

    @Option(help: "About how many messages to send in all (bulk input traffic is scaled to it).")
    var messages: Int = DemoOptions.defaultMessages

    @Option(help: "Seed for every generated value (bodies, bitmaps, input events).")
    var seed: UInt64 = 1

    func validate() throws {
        guard messages >= 0 else { throw ValidationError("--messages must be 0 or more") }
    }

    func run() throws {
        if !noRecord {
            writeToStandardError("ipcscope demo: recording is not built yet; running with --no-record")
        }
        let options = DemoOptions(messages: messages, seed: seed, misbehave: misbehave)
        let result = DemoScenario.run(options, helperLauncher: SelfExecutableLauncher())
        if !result.report.isEmpty { print(result.report, terminator: "") }
        if let failure = result.failure { writeToStandardError(failure) }
        if !result.succeeded { throw ExitCode(1) }
    }

    private func writeToStandardError(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
