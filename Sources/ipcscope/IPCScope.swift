import ArgumentParser

@main
struct IPCScope: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ipcscope",
        abstract: "Record, replay and export LibIPC traffic (the IPC of the Ladybird browser).",
        discussion: """
            ipcscope reads LibIPC exactly as Ladybird writes it: 12-byte frame headers, fd attachments, \
            fd acknowledgements, and the limits a receiver enforces.
            """,
        version: IPCScopeVersion.string,
        subcommands: [SchemaCommand.self, RecordCommand.self, CheckCommand.self, ShowCommand.self, ViewCommand.self, StatsCommand.self, ExportCommand.self, RedactCommand.self, DemoCommand.self, DemoPeerCommand.self]
    )
}

enum IPCScopeVersion {
    static let string = "0.1.0"
}
