import Foundation
import Glibc
import TestSupport
import Testing

/// The README's exit-status table and the one error format (`ipcscope CMD: what went wrong: why`),
/// checked on the real binary for every command: each case runs `ipcscope`, asserts its status, that the
/// first line of stderr is in the format, and that it says what the table's row is about.
@Suite struct ExitStatusTableTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var arguments: [String]
        var status: Int32
        /// The `CMD` of the first stderr line (nil: `ipcscope: …`).
        var command: String?
        /// Text the first stderr line must contain (an option's name, the errno's one wording…).
        var says: String
        var testDescription: String { "\(arguments.joined(separator: " ")) → \(status)" }
    }

    /// Files the cases read: a good trace, a damaged copy, garbage, a malformed .ipc, paths that do not exist.
    struct Files {
        static let directory: String = {
            let path = NSTemporaryDirectory() + "ipcscope-exit-\(getpid())"
            mkdir(path, 0o700)
            let original = try! Data(contentsOf: URL(fileURLWithPath: good))
            var damaged = original
            damaged[damaged.count / 2] ^= 0xFF
            try! damaged.write(to: URL(fileURLWithPath: path + "/damaged.ipctrace"))
            try! Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 37) }).write(to: URL(fileURLWithPath: path + "/garbage.ipctrace"))
            try! Data("endpoint Broken {\n  oops(\n".utf8).write(to: URL(fileURLWithPath: path + "/broken.ipc"))
            return path
        }()
        static let good = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Traces/demo.ipctrace").standardizedFileURL.path
        static var damaged: String { directory + "/damaged.ipctrace" }
        static var garbage: String { directory + "/garbage.ipctrace" }
        static var brokenSchema: String { directory + "/broken.ipc" }
        static var missing: String { directory + "/absent.ipctrace" }
        static var noDirectory: String { directory + "/no/such/dir/out" }
        static var scratch: String { directory + "/scratch.ipctrace" }
    }

    /// The one wording of ENOENT, whichever command meets it.
    static let enoent = "No such file or directory (ENOENT, errno 2)"

    static let cases: [Case] = [
        // Top level: no command, an unknown command, help of an unknown command, an unknown option.
        Case(arguments: [], status: 64, command: nil, says: "no command given"),
        Case(arguments: ["nosuch"], status: 64, command: nil, says: "unknown command 'nosuch'"),
        Case(arguments: ["help", "nosuch"], status: 64, command: "help", says: "unknown command 'nosuch'"),
        Case(arguments: ["--nosuch"], status: 64, command: nil, says: "'--nosuch'"),
        // schema
        Case(arguments: ["schema"], status: 64, command: "schema", says: "at least one .ipc file"),
        Case(arguments: ["schema", "--nosuch", Files.brokenSchema], status: 64, command: "schema", says: "unknown option '--nosuch'"),
        Case(arguments: ["schema", Files.brokenSchema], status: 65, command: "schema", says: "broken.ipc:3:"),
        Case(arguments: ["schema", Files.missing], status: 66, command: "schema", says: enoent),
        // record
        Case(arguments: ["record", "-o", Files.scratch, "--listen", "/tmp/x.sock"], status: 64, command: "record", says: "--listen needs --upstream"),
        Case(arguments: ["record", "-o", Files.scratch, "--upstream", "/tmp/x.sock"], status: 64, command: "record", says: "--upstream needs --listen"),
        Case(arguments: ["record", "-o", Files.scratch, "--listen", "/tmp/a.sock", "--upstream", "/tmp/b.sock", "--no-preload"],
             status: 64, command: "record", says: "--no-preload"),
        Case(arguments: ["record", "-o", Files.scratch, "--no-preload", "--interpose-connect", "--", "/bin/true"],
             status: 64, command: "record", says: "--interpose-connect"),
        Case(arguments: ["record", "-o", Files.scratch, "--snaplen", "-5", "--", "/bin/true"], status: 64, command: "record", says: "--snaplen must be between 0 and"),
        Case(arguments: ["record", "-o", Files.scratch, "--schema", Files.brokenSchema, "--", "/bin/true"], status: 64, command: "record", says: "--schema "),
        Case(arguments: ["record", "-o", Files.noDirectory, "--", "/bin/true"], status: 73, command: "record", says: "cannot create the trace: "),
        Case(arguments: ["record", "-o", Files.scratch, "--", "/nonexistent-binary"], status: 1, command: "record", says: "cannot run /nonexistent-binary: "),
        // check
        Case(arguments: ["check"], status: 64, command: "check", says: "missing expected argument"),
        Case(arguments: ["check", Files.garbage], status: 65, command: "check", says: "not an ipcscope trace"),
        Case(arguments: ["check", Files.missing], status: 66, command: "check", says: enoent),
        Case(arguments: ["check", Files.garbage, Files.missing], status: 66, command: "check", says: "not an ipcscope trace"),
        // show
        Case(arguments: ["show", Files.good, "-c", "-5"], status: 64, command: "show", says: "-c must be 0 or more"),
        Case(arguments: ["show", Files.good, "--time", "sideways"], status: 64, command: "show", says: "--time must be"),
        Case(arguments: ["show", Files.good, "-f", "size >"], status: 64, command: "show", says: "-f: "),
        Case(arguments: ["show", Files.good, "--schema", Files.missing], status: 64, command: "show", says: enoent),
        Case(arguments: ["show", Files.garbage], status: 65, command: "show", says: "not an ipcscope trace"),
        Case(arguments: ["show", Files.damaged], status: 65, command: "show", says: "damaged record at offset"),
        Case(arguments: ["show", Files.missing], status: 66, command: "show", says: enoent),
        // view (standard input is /dev/null here: a good trace gets as far as asking for a terminal)
        Case(arguments: ["view"], status: 64, command: "view", says: "missing expected argument"),
        Case(arguments: ["view", Files.good, "--theme", Files.missing], status: 64, command: "view", says: "absent.ipctrace"),
        Case(arguments: ["view", Files.garbage], status: 65, command: "view", says: "not an ipcscope trace"),
        Case(arguments: ["view", Files.missing], status: 66, command: "view", says: enoent),
        Case(arguments: ["view", Files.good], status: 1, command: "view", says: "must be a terminal"),
        // stats
        Case(arguments: ["stats", Files.good, "-f", "size >"], status: 64, command: "stats", says: "-f: "),
        Case(arguments: ["stats", Files.garbage], status: 65, command: "stats", says: "not an ipcscope trace"),
        Case(arguments: ["stats", Files.damaged], status: 65, command: "stats", says: "damaged"),
        Case(arguments: ["stats", Files.missing], status: 66, command: "stats", says: enoent),
        Case(arguments: ["stats", Files.good, "-o", Files.noDirectory], status: 73, command: "stats", says: enoent),
        Case(arguments: ["stats", Files.good, "-o", "/dev/full"], status: 74, command: "stats", says: "(ENOSPC, errno 28)"),
        // export
        Case(arguments: ["export", Files.good], status: 64, command: "export", says: "'--format <format>'"),
        Case(arguments: ["export", Files.good, "--format", "xml"], status: 64, command: "export", says: "--format must be json, jsonl or chrome"),
        Case(arguments: ["export", Files.good, "--format", "chrome", "--payload"], status: 64, command: "export", says: "--payload does nothing with --format chrome"),
        Case(arguments: ["export", Files.garbage, "--format", "jsonl"], status: 65, command: "export", says: "not an ipcscope trace"),
        Case(arguments: ["export", Files.damaged, "--format", "jsonl", "-o", "/dev/null"], status: 65, command: "export", says: "damaged"),
        Case(arguments: ["export", Files.missing, "--format", "jsonl"], status: 66, command: "export", says: enoent),
        Case(arguments: ["export", Files.good, "--format", "jsonl", "-o", Files.noDirectory], status: 73, command: "export", says: enoent),
        Case(arguments: ["export", Files.good, "--format", "jsonl", "-o", "/dev/full"], status: 74, command: "export", says: "(ENOSPC, errno 28)"),
        // demo
        Case(arguments: ["demo", "--no-record", "-o", Files.scratch], status: 64, command: "demo", says: "-o does nothing with --no-record"),
        Case(arguments: ["demo", "--no-record", "--via", "takeover"], status: 64, command: "demo", says: "--via does nothing with --no-record"),
        Case(arguments: ["demo", "--messages", "-5"], status: 64, command: "demo", says: "--messages must be 0 or more"),
        Case(arguments: ["demo", "--seed", "-5"], status: 64, command: "demo", says: "'--seed <seed>'"),
        Case(arguments: ["demo", "--messages"], status: 64, command: "demo", says: "'--messages <messages>'"),
        Case(arguments: ["demo", "-o", Files.noDirectory, "--no-view"], status: 73, command: "record", says: "cannot create the trace: "),
        // redact
        Case(arguments: ["redact", Files.good], status: 64, command: "redact", says: "'--output <output>'"),
        Case(arguments: ["redact", Files.garbage, "-o", Files.scratch], status: 65, command: "redact", says: "not an ipcscope trace"),
        Case(arguments: ["redact", Files.damaged, "-o", Files.scratch], status: 65, command: "redact", says: "damaged"),
        Case(arguments: ["redact", Files.missing, "-o", Files.scratch], status: 66, command: "redact", says: enoent),
        Case(arguments: ["redact", Files.good, "-o", Files.noDirectory], status: 73, command: "redact", says: "cannot create "),
        Case(arguments: ["redact", Files.good, "-o", Files.brokenSchema], status: 73, command: "redact", says: "cannot create "),
        // demo-peer (started by demo; still one format)
        Case(arguments: ["demo-peer", "nosuch"], status: 64, command: "demo-peer", says: "unknown role 'nosuch'"),
    ]

    @Test(arguments: cases) func statusAndErrorLine(_ example: Case) throws {
        let result = try CommandRunner.run(try SchemaCommandTests.ipcscopeBinary(), example.arguments, timeoutSeconds: 60)
        #expect(result.status == example.status, "stderr: \(result.stderr)")
        let first = String(result.stderr.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
        let prefix = example.command.map { "ipcscope \($0): " } ?? "ipcscope: "
        #expect(first.hasPrefix(prefix), "\(result.stderr)")
        // What went wrong starts at once, in lower case (argument-parser's capitals are not ours).
        let rest = first.dropFirst(prefix.count)
        #expect(rest.first.map { !$0.isWhitespace && !$0.isUppercase || rest.hasPrefix("--") } ?? false, "\(first)")
        #expect(first.contains(example.says), "\(result.stderr)")
        #expect(!result.stderr.contains("Error: "), "argument-parser's own format leaked: \(result.stderr)")
    }

    /// Usage errors from argument-parser carry the command's usage line and where to read more.
    @Test func parseErrorsShowTheUsage() throws {
        let result = try CommandRunner.run(try SchemaCommandTests.ipcscopeBinary(), ["show", Files.good, "--nosuch"])
        #expect(result.status == 64)
        #expect(result.stderr.hasPrefix("ipcscope show: unknown option '--nosuch'\nusage:\n  ipcscope show "), "\(result.stderr)")
        #expect(result.stderr.hasSuffix("(ipcscope show --help says more)\n"), "\(result.stderr)")
    }

    @Test(arguments: [["--version"], ["-V"]]) func versionIsPrinted(_ arguments: [String]) throws {
        let result = try CommandRunner.run(try SchemaCommandTests.ipcscopeBinary(), arguments)
        #expect(result.status == 0 && result.stderr.isEmpty, "\(result.stderr)")
        #expect(result.stdout.range(of: #"^\d+\.\d+\.\d+\n$"#, options: .regularExpression) != nil, "\(result.stdout)")
    }

    /// `-V` is the version only at the top level; `show -V` stays verbose.
    @Test func showDashVIsStillVerbose() throws {
        let binary = try SchemaCommandTests.ipcscopeBinary()
        let plain = try CommandRunner.run(binary, ["show", "-c", "30", Files.good])
        let verbose = try CommandRunner.run(binary, ["show", "-V", "-c", "30", Files.good])
        #expect(plain.status == 0 && verbose.status == 0, "\(verbose.stderr)")
        #expect(plain.stdout.split(separator: "\n").count == 30)
        #expect(verbose.stdout.split(separator: "\n").count > 30, "verbose adds lines under each frame: \(verbose.stdout)")
    }

    /// `help CMD` is CMD's help; every command's help has examples of itself.
    @Test(arguments: ["schema", "record", "check", "show", "view", "stats", "export", "redact", "demo"])
    func everyHelpHasExamples(_ command: String) throws {
        let binary = try SchemaCommandTests.ipcscopeBinary()
        let help = try CommandRunner.run(binary, [command, "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("Examples:\n"), "\(help.stdout)")
        #expect(help.stdout.contains("\n  ipcscope \(command) "), "\(help.stdout)")
        let viaHelp = try CommandRunner.run(binary, ["help", command])
        #expect(viaHelp.status == 0 && viaHelp.stdout == help.stdout)
    }
}
