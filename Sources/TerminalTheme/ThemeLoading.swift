#if canImport(Glibc)
import Glibc
import SystemSupport
#endif
import ShippedThemes

extension Theme {
    /// The environment variable that names a theme when `--theme` is not given.
    public static let environmentVariable = "IPCSCOPE_THEME"

    /// The theme to use. `nameOrPath` is `--theme`'s argument: a shipped theme's name (`light`) or a file
    /// (anything with a `/` or ending in `.toml`). Without it: `mono` when `NO_COLOR` is set and not empty
    /// (no-color.org: an explicit option overrides NO_COLOR, the environment does not), else
    /// `IPCSCOPE_THEME`, else `default`.
    public static func load(nameOrPath: String?, environment: [String: String]) throws(ThemeError) -> Theme {
        if let nameOrPath, !nameOrPath.isEmpty { return try load(nameOrPath) }
        if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return try shipped("mono") }
        if let chosen = environment[environmentVariable], !chosen.isEmpty { return try load(chosen) }
        return try shipped("default")
    }

    private static func load(_ nameOrPath: String) throws(ThemeError) -> Theme {
        nameOrPath.contains("/") || nameOrPath.hasSuffix(".toml") ? try load(path: nameOrPath) : try shipped(nameOrPath)
    }

    /// A theme shipped with ipcscope, by name.
    public static func shipped(_ name: String) throws(ThemeError) -> Theme {
        guard ShippedThemes.names.contains(name) else {
            throw ThemeError(source: name, "unknown theme; the shipped themes are \(ShippedThemes.names.joined(separator: ", ")), or give a file path")
        }
        guard let path = ShippedThemes.path(of: name) else {
            throw ThemeError(source: name, "the shipped themes (ipcscope_ShippedThemes.resources) are not next to the executable; give a file path instead")
        }
        var theme = try load(path: path)
        theme.source = name
        return theme
    }

    /// A theme file. Only a regular file is read, and at most `ThemeParser.maximumBytes` of it (a FIFO,
    /// a device or a huge file is an error, never a hang or an unbounded allocation).
    public static func load(path: String) throws(ThemeError) -> Theme {
        try ThemeParser.parse(bytes: try readBounded(path: path), source: path)
    }

    static func readBounded(path: String) throws(ThemeError) -> [UInt8] {
        // O_NONBLOCK: opening a FIFO without a writer must not wait.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw ThemeError(source: path, "cannot open: \(ErrnoText.describe(errno))") }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let message = ErrnoText.describe(errno)
            _ = close(fd) // read-only: nothing to lose if close fails
            throw ThemeError(source: path, "cannot stat: \(message)")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            _ = close(fd)
            throw ThemeError(source: path, "not a regular file")
        }
        let limit = ThemeParser.maximumBytes
        var bytes = [UInt8](repeating: 0, count: limit + 1)
        var count = 0
        while count < bytes.count {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + count, $0.count - count) }
            if n < 0, errno == EINTR { continue }
            if n < 0 {
                let message = ErrnoText.describe(errno)
                _ = close(fd)
                throw ThemeError(source: path, "cannot read: \(message)")
            }
            if n == 0 { break }
            count += n
        }
        _ = close(fd)
        guard count <= limit else {
            throw ThemeError(source: path, "the file is larger than \(limit / 1024) KiB; a theme is a few KiB")
        }
        return Array(bytes[..<count])
    }
}
