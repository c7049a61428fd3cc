import Foundation
import Recorder

/// Binaries `swift build`/`swift test` put next to the test bundle.
enum BuiltProducts {
    static let directories: [URL] = {
        var result = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            Bundle.main.bundleURL.deletingLastPathComponent(),
            Bundle.main.bundleURL,
        ]
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            result.append(URL(fileURLWithPath: executable).deletingLastPathComponent())
        }
        return result
    }()

    static let fixture: String? = directories.lazy
        .map { $0.appendingPathComponent("PreloadFixture").path }
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Found the way the recorder finds it.
    static let preloadLibrary: String? = PreloadLibrary.locate()

    struct Missing: Error, CustomStringConvertible {
        var what: String
        var description: String { "\(what) not found next to the test bundle (\(CommandLine.arguments[0]))" }
    }
}
