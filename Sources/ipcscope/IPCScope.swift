import ArgumentParser
import Foundation

struct IPCScope: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ipcscope",
        abstract: "Record, replay and export LibIPC traffic (the IPC of the Ladybird browser).",
        discussion: """
            ipcscope reads LibIPC exactly as Ladybird writes it: 12-byte frame headers, fd attachments, \
            fd acknowledgements, and the limits a receiver enforces. `ipcscope -V` prints the version too.

            Examples:
              ipcscope demo
              ipcscope record -o t.ipctrace -- ./Build/release/bin/Ladybird
              ipcscope show t.ipctrace -f 'kind == violation'
              ipcscope help record

            Exit status (every command): 0 success; 1 another failure; 64 a usage error; 65 a damaged or \
            invalid input (not a trace, a damaged trace, a .ipc file that does not parse); 66 an input file \
            that cannot be opened; 73 an output file that cannot be created; 74 an I/O error part way. \
            `record` exits with its command's status first (README, "Exit status").
            """,
        version: IPCScopeVersion.string,
        subcommands: [SchemaCommand.self, RecordCommand.self, CheckCommand.self, ShowCommand.self, ViewCommand.self, StatsCommand.self, ExportCommand.self, RedactCommand.self, DemoCommand.self, DemoPeerCommand.self]
    )
}

enum IPCScopeVersion {
    static let string = "0.1.0"
}

/// Runs ipcscope with one error format for every command: parse errors and our own failures are printed
/// as `ipcscope CMD: …` (a usage error adds the command's usage line) and exit with the status of
/// ``CLIStatus``. swift-argument-parser's own `main()` would print `Error: …` and accept `help nosuch`.
@main
enum IPCScopeMain {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        let name = commandName(in: arguments)
        if let early = handleWithoutParsing(arguments) { exit(early) }
        var command: ParsableCommand
        do {
            command = try IPCScope.parseAsRoot(arguments)
        } catch {
            exit(reportParseError(error, command: name))
        }
        do {
            try command.run()
        } catch let failure as CommandFailure {
            ErrorLine.write(name, failure.description)
            exit(failure.status)
        } catch let code as ExitCode {
            exit(code.rawValue)
        } catch {
            // A help request from `ipcscope help CMD`, or an error no command caught.
            let status = IPCScope.exitCode(for: error).rawValue
            if status == 0 {
                print(IPCScope.fullMessage(for: error))
                exit(0)
            }
            ErrorLine.write(name, lowercasingFirst(IPCScope.message(for: error)))
            exit(status == ExitCode.validationFailure.rawValue ? CLIStatus.usage : CLIStatus.failure)
        }
        exit(0)
    }

    static let commands = IPCScope.configuration.subcommands.map { $0.configuration.commandName ?? "" }

    /// The subcommand the arguments name (`nil` for the top level and for an unknown word).
    private static func commandName(in arguments: [String]) -> String? {
        guard let first = arguments.first, commands.contains(first) else { return nil }
        return first
    }

    /// What argument-parser would get wrong: `-V`, no command, an unknown command, `help` of an unknown
    /// command. Returns the exit status when it handled the arguments.
    private static func handleWithoutParsing(_ arguments: [String]) -> Int32? {
        guard let first = arguments.first else {
            ErrorLine.write(nil, "no command given")
            writeUsage(nil)
            return CLIStatus.usage
        }
        if first == "-V" || first == "--version" {
            guard arguments.count == 1 else {
                ErrorLine.write(nil, "\(first) takes nothing after it")
                return CLIStatus.usage
            }
            print(IPCScopeVersion.string)
            return 0
        }
        if first == "help" {
            for word in arguments.dropFirst() where !word.hasPrefix("-") && !commands.contains(word) {
                ErrorLine.write("help", "unknown command '\(word)' (commands: \(visibleCommands))")
                return CLIStatus.usage
            }
            return nil
        }
        if !first.hasPrefix("-") && !commands.contains(first) {
            ErrorLine.write(nil, "unknown command '\(first)' (commands: \(visibleCommands))")
            return CLIStatus.usage
        }
        return nil
    }

    private static var visibleCommands: String {
        IPCScope.configuration.subcommands.filter { $0.configuration.shouldDisplay }
            .compactMap { $0.configuration.commandName }.joined(separator: ", ")
    }

    /// Prints help (status 0) or a usage error; returns the exit status.
    private static func reportParseError(_ error: Error, command name: String?) -> Int32 {
        let status = IPCScope.exitCode(for: error).rawValue
        if status == 0 {
            print(IPCScope.fullMessage(for: error))
            return 0
        }
        ErrorLine.write(name, lowercasingFirst(IPCScope.message(for: error)))
        writeUsage(name)
        return CLIStatus.usage
    }

    private static func writeUsage(_ name: String?) {
        let type = IPCScope.configuration.subcommands.first { $0.configuration.commandName == name }
        let usage = type.map { IPCScope.usageString(for: $0) } ?? IPCScope.usageString()
        let help = name.map { "ipcscope \($0) --help" } ?? "ipcscope --help"
        let lines = usage.split(separator: "\n").map { "  " + $0.trimmingCharacters(in: .whitespaces) }
        FileHandle.standardError.write(Data(("usage:\n" + lines.joined(separator: "\n") + "\n(\(help) says more)\n").utf8))
    }

    /// argument-parser's messages start with a capital ("Missing value for…"); ours do not.
    private static func lowercasingFirst(_ message: String) -> String {
        guard let first = message.first, first.isUppercase,
              message.dropFirst().first.map({ !$0.isUppercase }) ?? true else { return message }
        return first.lowercased() + message.dropFirst()
    }
}
