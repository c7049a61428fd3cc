import Glibc
import SystemSupport

/// Where complete indexes are stored so that reopening a large trace costs almost nothing (the format:
/// docs/index-format.md). Stored indexes live in a cache directory of the user's, never next to the
/// trace: traces sit in directories the user may not be able to write (shipped samples, another user's
/// recording), and a cache file next to each trace would litter working trees. Each is named after the
/// trace file's device and inode, so a trace renamed into place (as the recorder does) keeps its index,
/// and is trusted only after validation against the trace (``IndexSidecar``).
public struct IndexStore: Sendable, Equatable {
    /// The directory; nil stores nothing.
    public var directory: String?
    /// Indexes of fewer events are not stored (they take milliseconds to build).
    public var minimumEvents: Int

    public init(directory: String?, minimumEvents: Int = 200_000) {
        self.directory = directory
        self.minimumEvents = minimumEvents
    }

    public static let disabled = IndexStore(directory: nil)

    /// `$XDG_CACHE_HOME/ipcscope/index`, else `$HOME/.cache/ipcscope/index`; disabled when neither is set.
    public static var userCache: IndexStore {
        if let cache = environment("XDG_CACHE_HOME"), cache.hasPrefix("/") { return IndexStore(directory: cache + "/ipcscope/index") }
        if let home = environment("HOME"), home.hasPrefix("/") { return IndexStore(directory: home + "/.cache/ipcscope/index") }
        return .disabled
    }

    /// The stored index's path for the trace file with this device and inode.
    func path(device: UInt64, inode: UInt64) -> String? {
        directory.map { "\($0)/trace-\(String(device, radix: 16))-\(String(inode, radix: 16)).idx" }
    }

    private static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        let string = String(cString: value)
        return string.isEmpty ? nil : string
    }

    /// Creates the directory and its missing parents, private to the user (0700).
    func createDirectory() throws(IndexStoreError) {
        guard let directory else { return }
        var prefix = ""
        for component in directory.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o700) != 0 && errno != EEXIST {
                throw IndexStoreError(path: prefix, operation: "mkdir", errno: errno)
            }
        }
    }
}

/// Why a stored index could not be written.
public struct IndexStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var operation: String
    public var errno: Int32

    public var description: String {
        "\(path): \(operation) failed: \(ErrnoText.describe(errno))"
    }
}
