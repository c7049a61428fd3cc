import TestSupport
import Foundation

/// The `ipcscope` executable that `swift build`/`swift test` put next to the test bundle.
enum DemoBinary {
    static let path: String? = {
        var directories = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            Bundle.main.bundleURL.deletingLastPathComponent(),
            Bundle.main.bundleURL,
        ]
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            directories.append(URL(fileURLWithPath: executable).deletingLastPathComponent())
        }
        return directories.lazy
            .map { $0.appendingPathComponent("ipcscope").path }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    struct Missing: Error, CustomStringConvertible {
        var description: String { "ipcscope not found next to the test bundle (\(CommandLine.arguments[0]))" }
    }

    static func run(_ arguments: [String], timeoutSeconds: Int32 = 120) throws -> CommandResult {
        guard let path else { throw Missing() }
        return try CommandRunner.run(path, arguments, timeoutSeconds: timeoutSeconds)
    }
}
