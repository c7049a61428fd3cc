import Glibc
import IPCTransport

/// The private directory (mode 0700) that holds the control socket, so no other user can even reach it.
struct ControlSocketDirectory: Sendable {
    let path: String
    static let socketName = "control"

    var socketPath: String { path + "/" + Self.socketName }

    /// A fresh directory under `base`, else under $XDG_RUNTIME_DIR when usable, else /tmp.
    static func create(base: String?) throws(SystemError) -> ControlSocketDirectory {
        let candidates = base.map { [$0] } ?? [runtimeDirectory(), "/tmp"].compactMap { $0 }
        var lastError = SystemError(errno: ENOENT, operation: "no directory for the control socket")
        for candidate in candidates {
            do { return try create(in: candidate) } catch { lastError = error }
        }
        throw lastError
    }

    private static func create(in base: String) throws(SystemError) -> ControlSocketDirectory {
        let trimmed = base.count > 1 && base.hasSuffix("/") ? String(base.dropLast()) : base
        var template = Array((trimmed + "/ipcscope-XXXXXX").utf8CString)
        let socketPathLength = template.count - 1 + 1 + socketName.utf8.count
        guard socketPathLength <= UnixSocketAddress.maxPathLength else {
            throw SystemError(errno: ENAMETOOLONG, operation: "control socket path under \(trimmed)")
        }
        guard mkdtemp(&template) != nil else { throw SystemError.current("mkdtemp in \(trimmed)") }
        let path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // mkdtemp already uses 0700; say it explicitly in case a platform differs.
        guard chmod(path, 0o700) == 0 else {
            let error = SystemError.current("chmod \(path)")
            rmdir(path)
            throw error
        }
        return ControlSocketDirectory(path: path)
    }

    private static func runtimeDirectory() -> String? {
        guard let raw = getenv("XDG_RUNTIME_DIR") else { return nil }
        let value = String(cString: raw)
        guard value.hasPrefix("/"), access(value, W_OK | X_OK) == 0 else { return nil }
        return value
    }

    /// Removes the socket and the directory (best effort: nothing else should be in there).
    func remove() {
        unlink(socketPath)
        rmdir(path)
    }
}
