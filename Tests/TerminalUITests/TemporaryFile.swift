#if canImport(Glibc)
import Glibc
#endif

/// Files for theme tests, in a fresh temporary folder each.
enum TemporaryFile {
    struct Failure: Error { var what: String }

    static func directory() throws -> String {
        var template = Array("/tmp/ipcscope-theme-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Failure(what: "mkdtemp errno \(errno)") }
        return String(cString: made)
    }

    static func write(_ text: String) throws -> String {
        let path = try directory() + "/theme.toml"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure(what: "open errno \(errno)") }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { _ = close(fd); throw Failure(what: "write errno \(errno)") }
            written += n
        }
        guard close(fd) == 0 else { throw Failure(what: "close errno \(errno)") }
        return path
    }

    /// Removes a file made here and its folder (best effort: a leftover in /tmp fails no test).
    static func remove(_ path: String) {
        _ = unlink(path)
        if let slash = path.lastIndex(of: "/") { _ = rmdir(String(path[..<slash])) }
    }

    static func fifo() throws -> String {
        let path = try directory() + "/fifo.toml"
        guard mkfifo(path, 0o600) == 0 else { throw Failure(what: "mkfifo errno \(errno)") }
        return path
    }
}
