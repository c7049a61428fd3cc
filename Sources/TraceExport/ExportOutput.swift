import Glibc
import SystemSupport

/// Why an export could not be written.
public struct ExportError: Error, CustomStringConvertible, Sendable {
    public var description: String
    /// The output could not be created (as opposed to written): `ipcscope` exits 73, not 74.
    public var isCreation: Bool
    public init(_ description: String, isCreation: Bool = false) {
        self.description = description
        self.isCreation = isCreation
    }

    static func system(_ operation: String, _ path: String, _ number: Int32) -> ExportError {
        ExportError("\(operation) \(path): \(ErrnoText.describe(number))")
    }

    static func creating(_ operation: String, _ path: String, _ number: Int32) -> ExportError {
        ExportError("\(operation) \(path): \(ErrnoText.describe(number))", isCreation: true)
    }
}

/// Where an export goes: standard output, or a file written as a temporary file in the same directory
/// (mode 0600) and renamed over the destination only when the export succeeded — a failed export never
/// leaves a partial file and never touches an existing one. Every write and close error is reported.
public final class ExportOutput {
    private var fd: Int32
    private let destination: String?
    private var temporaryPath: String?

    /// Standard output.
    public init() {
        fd = STDOUT_FILENO
        destination = nil
    }

    /// A file at `path` (created when ``commit()`` succeeds). An existing `path` that is not a regular file
    /// (`/dev/null`, a FIFO, a terminal) is written directly: it cannot be replaced by a rename.
    public init(path: String) throws(ExportError) {
        destination = path
        var info = stat()
        if stat(path, &info) == 0, info.st_mode & S_IFMT != S_IFREG {
            guard info.st_mode & S_IFMT != S_IFDIR else { throw ExportError("\(path) is a directory", isCreation: true) }
            let descriptor = open(path, O_WRONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw .creating("open", path, errno) }
            fd = descriptor
            return
        }
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[..<$0]) } ?? "."
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        var template = Array(((directory.isEmpty ? "" : directory) + "/." + base + ".export-XXXXXX").utf8CString)
        // mkstemp creates the file with mode 0600 (fchmod below makes sure whatever the umask).
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { throw .creating("cannot create a file in", directory.isEmpty ? "/" : directory, errno) }
        fd = descriptor
        temporaryPath = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard fcntl(descriptor, F_SETFD, FD_CLOEXEC) == 0, fchmod(descriptor, 0o600) == 0 else {
            let number = errno
            discard()
            throw .creating("fchmod", temporaryPath ?? path, number)  // or fcntl
        }
    }

    deinit { discard() }

    /// Writes all of `bytes`.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(ExportError) {
        guard let base = bytes.baseAddress else { return }
        var written = 0
        while written < bytes.count {
            let result = Glibc.write(fd, base + written, bytes.count - written)
            if result < 0 {
                if errno == EINTR { continue }
                throw .system("write", destination ?? "standard output", errno)
            }
            written += result
        }
    }

    /// Flushes `buffer` and empties it.
    public func flush(_ buffer: JSONBuffer) throws(ExportError) {
        try buffer.withBytes { (bytes) throws(ExportError) in try write(bytes) }
        buffer.removeAll()
    }

    /// Makes the file durable and renames it into place (for standard output: nothing).
    public func commit() throws(ExportError) {
        guard let temporary = temporaryPath, let destination else {
            if fd > STDERR_FILENO {  // a device or FIFO written directly
                let closing = fd
                fd = -1
                guard close(closing) == 0 else { throw .system("close", self.destination ?? "output", errno) }
            }
            return
        }
        guard fsync(fd) == 0 else { throw .system("fsync", temporary, errno) }
        let closing = fd
        fd = -1
        guard close(closing) == 0 else { throw .system("close", temporary, errno) }
        guard rename(temporary, destination) == 0 else { throw .system("rename to", destination, errno) }
        temporaryPath = nil
    }

    /// Removes the temporary file of an export that did not complete.
    private func discard() {
        if let temporary = temporaryPath {
            unlink(temporary)  // best effort: the export already failed and says why
            temporaryPath = nil
        }
        if fd > STDERR_FILENO { close(fd) }  // an abandoned partial file: its close error changes nothing
        fd = -1
    }
}
