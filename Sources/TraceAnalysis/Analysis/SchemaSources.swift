import IPCWire

/// `--schema FILE.ipc|DIR…` for `show`, `stats` and `export`: the parsing and merging half (the command
/// reads the files). A file named on the command line must parse — its error, `file:line:column: message`,
/// stops the command. A file found by searching a directory (a Ladybird checkout holds .ipc files this
/// parser may not know, or test inputs that are meant to fail) is skipped with a warning that names it
/// the same way. The files are used in the order given, before the trace's embedded schemas.
public enum SchemaSources {
    /// Bounds on what a directory search reads: a wrong path (the file system root) is an error, not a
    /// minutes-long walk or gigabytes read.
    public static let maximumFiles = 20_000
    public static let maximumTotalBytes = 256 << 20

    public struct Source: Sendable {
        public var path: String
        public var bytes: [UInt8]
        /// Named on the command line (not found in a directory).
        public var named: Bool

        public init(path: String, bytes: [UInt8], named: Bool) {
            self.path = path
            self.bytes = bytes
            self.named = named
        }
    }

    public struct Problem: Error, CustomStringConvertible, Sendable {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    public struct Loaded: Sendable {
        public var files: [SchemaFile] = []
        /// Files found in a directory that did not parse, each as `file:line:column: message`.
        public var skipped: [String] = []
    }

    public static func parse(_ sources: [Source]) -> Result<Loaded, Problem> {
        var loaded = Loaded()
        var total = 0
        for source in sources {
            total += source.bytes.count
            guard total <= maximumTotalBytes else {
                return .failure(Problem("--schema: more than \(maximumTotalBytes) bytes of schema files (at \(source.path))"))
            }
            do {
                loaded.files.append(try SchemaParser.parse(bytes: source.bytes, path: source.path))
            } catch {
                if source.named { return .failure(Problem("--schema \(error)")) }
                loaded.skipped.append("\(error)")
            }
        }
        return .success(loaded)
    }
}
