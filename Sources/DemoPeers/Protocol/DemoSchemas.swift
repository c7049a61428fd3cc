import Foundation
import IPCWire

/// The demo's `.ipc` files, shipped as resources of this target (Sources/DemoPeers/Schemas).
public enum DemoSchemas {
    /// Parses every bundled `.ipc` file, in name order.
    public static func load() throws(DemoFailure) -> [SchemaFile] {
        let step = "load demo schemas"
        guard let directory = Bundle.module.url(forResource: "Schemas", withExtension: nil) else {
            throw DemoFailure(step: step, "the Schemas folder is missing from the DemoPeers resource bundle")
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
