import Glibc

/// Finds the interposer (libIPCScopePreload.so) that `ipcscope record` puts in LD_PRELOAD.
public enum PreloadLibrary {
    public static let fileName = "libIPCScopePreload.so"
    /// The dynamic loader's variable.
    public static let environmentVariable = "LD_PRELOAD"

    /// The library next to the running executable (`swift build` puts both in the same folder), in
    /// `lib/` beside it, or in `../lib/` (an installed bin/ + lib/ layout). Canonical path, or nil.
    public static func locate() -> String? {
        guard let executable = currentExecutable() else { return nil }
        return locate(nextTo: executable)
    }

    public static func locate(nextTo executablePath: String) -> String? {
        let directory = executablePath.split(separator: "/", omittingEmptySubsequences: false).dropLast()
            .joined(separator: "/")
        let base = directory.isEmpty ? (executablePath.hasPrefix("/") ? "" : ".") : directory
        for candidate in [base + "/" + fileName, base + "/lib/" + fileName, base + "/../lib/" + fileName] {
            if let found = readableFile(candidate) { return found }
        }
        return nil
    }

    /// The LD_PRELOAD value with `library` first and what was already there after it; nil when `library`
    /// contains a space or colon, which the loader would take as a list separator.
    public static func preloadValue(library: String, existing: String?) -> String? {
        guard !library.isEmpty, !library.contains(" "), !library.contains(":") else { return nil }
        guard let existing, !existing.isEmpty else { return library }
        let others = existing.split(whereSeparator: { $0 == " " || $0 == ":" }).filter { $0 != library }
        return ([library] + others.map(String.init)).joined(separator: ":")
    }

    private static func currentExecutable() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return nil }
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The canonical path of a readable regular file, or nil.
    private static func readableFile(_ path: String) -> String? {
        var status = stat()
        guard stat(path, &status) == 0, status.st_mode & S_IFMT == S_IFREG, access(path, R_OK) == 0,
              let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
