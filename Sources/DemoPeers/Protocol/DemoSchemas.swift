import Foundation
import IPCWire

/// The demo's `.ipc` files, shipped as resources of this target (Sources/DemoPeers/Schemas).
public enum DemoSchemas {
    /// SwiftPM's resource bundle for this target, which `swift build` puts next to the executable.
    static let resourceBundleName = "ipcscope_DemoPeers.resources"

    /// The bundled Schemas folder. Looked up by hand: SwiftPM's `Bundle.module` traps when the bundle is
    /// missing (a binary copied away from its build folder), and a missing file must be an error message.
    public static func directory() -> URL? {
        let executable = URL(fileURLWithPath: SelfExecutableLauncher.currentExecutable())
        let candidates = [
            executable.deletingLastPathComponent(),
            Bundle.main.bundleURL,
        ].map { $0.appendingPathComponent(resourceBundleName).appendingPathComponent("Schemas") }
        return candidates.first { FileManager.default.fileExists(atPath: $0.path) }
    }

    /// Paths of the bundled `.ipc` files, in name order (for `ipcscope record --schema`).
    public static func paths() -> [String] {
        guard let directory = directory(),
              let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return [] }
        return names.filter { $0.hasSuffix(".ipc") }.sorted().map { directory.appendingPathComponent($0).path }
    }

    /// Parses every bundled `.ipc` file, in name order.
    public static func load() throws(DemoFailure) -> [SchemaFile] {
        let step = "load demo schemas"
        guard let directory = directory() else {
            throw DemoFailure(step: step, "the demo's Schemas folder (\(resourceBundleName)/Schemas) is not next to \(SelfExecutableLauncher.currentExecutable())")
        }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
                .filter { $0.hasSuffix(".ipc") }.sorted()
        } catch {
            throw DemoFailure(step: step, "cannot list \(directory.path): \(error)")
        }
        guard !names.isEmpty else { throw DemoFailure(step: step, "no .ipc files in \(directory.path)") }
        var files: [SchemaFile] = []
        for name in names {
            let url = directory.appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw DemoFailure(step: step, "cannot read \(url.path)")
            }
            do {
                files.append(try SchemaParser.parse(bytes: Array(data), path: name))
            } catch {
                throw DemoFailure(step: step, "\(error)")
            }
        }
        return files
    }
}
