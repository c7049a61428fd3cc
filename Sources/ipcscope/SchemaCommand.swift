import ArgumentParser

// Placeholder until the .ipc parser lands; replaced in the same change series.
struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "schema", abstract: "List endpoints and messages of .ipc files.")
    @Argument var files: [String]
    func run() throws { throw ValidationError("schema: not built yet") }
}
