import Foundation

/// The theme files shipped with ipcscope (the `.toml` files beside this one), copied by SwiftPM into a
/// resource bundle next to the executable.
public enum ShippedThemes {
    static let resourceBundleName = "ipcscope_ShippedThemes.resources"

    /// The names `--theme NAME` accepts, in the order the docs list them.
    public static let names = ["default", "light", "high-contrast", "mono"]

    /// The folder holding the shipped `.toml` files. Looked up by hand rather than with `Bundle.module`,
    /// which traps when the bundle is missing (a binary copied away from its build folder): a missing file
    /// must be an error message.
    public static func directory() -> URL? {
        var bases = [Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()]
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            bases.insert(URL(fileURLWithPath: executable).deletingLastPathComponent(), at: 0)
        }
        return bases.map { $0.appendingPathComponent(resourceBundleName) }
            .first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("default.toml").path) }
    }

    /// The path of a shipped theme, when `name` is one and the bundle is there.
    public static func path(of name: String) -> String? {
        guard names.contains(name), let directory = directory() else { return nil }
        return directory.appendingPathComponent(name + ".toml").path
    }
}
