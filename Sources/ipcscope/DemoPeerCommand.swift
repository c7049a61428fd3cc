import ArgumentParser
import DemoPeers

/// `ipcscope demo-peer ROLE`: a helper of `ipcscope demo`, started by it with SOCKET_TAKEOVER set.
struct DemoPeerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo-peer",
        abstract: "Run one helper process of `ipcscope demo` (started by the demo itself).",
        shouldDisplay: false
    )

    @Argument(help: "The helper to run: \(DemoRole.allCases.map(\.rawValue).joined(separator: " or ")).")
    var role: String

    func validate() throws {
        guard DemoRole(rawValue: role) != nil else {
            throw ValidationError("unknown role '\(role)'; expected \(DemoRole.allCases.map(\.rawValue).joined(separator: " or "))")
        }
    }

    func run() throws {
        guard let role = DemoRole(rawValue: role) else { throw ExitCode(2) }
        let status = DemoPeerMain.run(role)
        if status != 0 { throw ExitCode(status) }
    }
}
