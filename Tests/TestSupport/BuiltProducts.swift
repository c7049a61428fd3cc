import Foundation

/// Where `swift build`/`swift test` put the products next to the test bundle, for tests that run them.
public enum BuiltProducts {
    public static let directories: [URL] = {
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

    /// The path of the executable `name`, when it was built.
    public static func executable(_ name: String) -> String? {
        directories.lazy
            .map { $0.appendingPathComponent(name).path }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    public struct Missing: Error, CustomStringConvertible {
        public var what: String
        public init(what: String) { self.what = what }
        public var description: String { "\(what) not found next to the test bundle (\(CommandLine.arguments[0]))" }
    }
}
