import Glibc
import SystemSupport

/// The file a trace is written to: created under a temporary name in the output's directory, and renamed
/// to the output path once the recording has started. A failed start therefore never touches what is at
/// the output path, and a reader mapping an earlier trace there keeps it whole (rename replaces the name,
/// not the file).
struct TraceOutputFile {
    let path: String
    let temporaryPath: String
    /// The open temporary file, owned from the moment it was created: closed when the last holder (the
    /// writer and its thread) lets go, or by an explicit `close()` that reports the error.
    let descriptor: SharedFD
    var fd: Int32 { descriptor.rawValue }

    /// Checks what is at `path` against `policy`, then creates the temporary file (mode 0600, exclusive).
    static func create(path: String, policy: TraceWriter.ExistingOutput) throws(TraceFileError) -> TraceOutputFile {
        try checkExisting(path: path, policy: policy)
        var attempts = 0
        while true {
            let temporaryPath = temporaryName(for: path)
            // O_EXCL: never an existing file; O_NOFOLLOW: never through a symlink someone placed there.
            let opened = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if opened >= 0 {
                let fd = OwnedFD(adopting: opened)
                // The mode given to open is reduced by the umask; a trace holds private traffic: exactly 0600.
                guard fchmod(fd.rawValue, 0o600) == 0 else {
                    let error = errno
                    // `fd` is dropped, so closed: the file is unlinked, fchmod's error is the one told.
                    unlink(temporaryPath)
                    throw .system(path: path, operation: "fchmod \(temporaryPath)", errno: error)
                }
                return TraceOutputFile(path: path, temporaryPath: temporaryPath, descriptor: SharedFD(fd))
            }
            let error = errno
            attempts += 1
            guard error == EEXIST, attempts < 16 else {
                throw .system(path: path, operation: "create \(temporaryPath)", errno: error)
            }
        }
    }

    /// `DIR/NAME.ipctrace` → `DIR/NAME.<random>.ipctrace.tmp`: same directory (so rename is atomic), unique,
    /// and matched by the `*.ipctrace.tmp` ignore pattern.
    static func temporaryName(for path: String) -> String {
        let stem = path.hasSuffix(".ipctrace") ? String(path.dropLast(".ipctrace".count)) : path
        let token = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        return "\(stem).\(String(repeating: "0", count: 8 - token.count))\(token).ipctrace.tmp"
    }

    /// Throws when what is at `path` must not be replaced: a directory or another non-regular file, a
    /// symlink (never followed), or — unless `policy` allows it — a non-empty file that is not a trace.
    static func checkExisting(path: String, policy: TraceWriter.ExistingOutput) throws(TraceFileError) {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            let error = errno
            if error == ENOENT { return }  // nothing there (or no directory: creating the file says so)
            throw .system(path: path, operation: "lstat", errno: error)
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFLNK: throw .existingOutput(path: path, .symbolicLink)
        case S_IFDIR: throw .system(path: path, operation: "open", errno: EISDIR)
        default: throw .notARegularFile(path: path)
        }
        guard policy == .replaceOnlyTraces, info.st_size > 0 else { return }
        let opened = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard opened >= 0 else { throw .existingOutput(path: path, .unreadable(errno: errno)) }
        let file = OwnedFD(adopting: opened)  // read only: closed when it goes out of scope
        var magic = [UInt8](repeating: 0, count: TraceFileLayout.magic.count)
        var count = 0
        while count < magic.count {
            let read = magic.withUnsafeMutableBytes { buffer in
                Result { () throws(SystemError) in
                    try retryingOnInterrupt("read") { Glibc.read(file.rawValue, buffer.baseAddress! + count, buffer.count - count) }
                }
            }
            let got: Int
            switch read {
            case .success(let bytes): got = bytes
            case .failure(let error): throw .existingOutput(path: path, .unreadable(errno: error.errno))
            }
            if got == 0 { break }
            count += got
        }
        guard count == magic.count, magic == TraceFileLayout.magic else {
            throw .existingOutput(path: path, .notATrace)
        }
    }

    /// Puts the trace at its path, checking again what is there now (it may have changed since `create`).
    func publish(policy: TraceWriter.ExistingOutput) throws(TraceFileError) {
        try Self.checkExisting(path: path, policy: policy)
        guard rename(temporaryPath, path) == 0 else {
            throw .system(path: path, operation: "rename from \(temporaryPath)", errno: errno)
        }
    }

    /// Removes the temporary file of a recording that never started.
    func discard() throws(TraceFileError) {
        guard unlink(temporaryPath) == 0 else {
            throw .system(path: path, operation: "unlink \(temporaryPath)", errno: errno)
        }
    }
}
