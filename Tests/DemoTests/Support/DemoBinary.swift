import TestSupport
import Foundation

/// The `ipcscope` executable that `swift build`/`swift test` put next to the test bundle.
enum DemoBinary {
    static let path: String? = BuiltProducts.executable("ipcscope")

    static func run(_ arguments: [String], timeoutSeconds: Int32 = 120) throws -> CommandResult {
        guard let path else { throw BuiltProducts.Missing(what: "ipcscope") }
        return try CommandRunner.run(path, arguments, timeoutSeconds: timeoutSeconds)
    }
}
