import CSystemShims
import Glibc
import SystemSupport

/// Keeps room at the end of a trace for its end record, so that a recorder whose disk fills up can still
/// say so in the file: `bytes` of disk space stay reserved past the last record (fallocate with
/// FALLOC_FL_KEEP_SIZE: readers do not see them), and a batch that would eat into the reserve is not
/// written at all. The same rule holds for the file size limit (RLIMIT_FSIZE): a batch that would leave
/// less than `bytes` below it is refused with EFBIG before any of it is written, so no record is cut.
///
/// Where fallocate is not supported the reserve is given up (a full disk then cuts a record, which the
/// writer truncates away, and the end record may not fit). Used only by the writer thread, then by `close`.
struct EndRecordReserve {
    /// Enough for an end record with a long operation text, and rounded up to a block by the file system.
    static let defaultBytes = 4096
    /// Reserving runs ahead by this much, so that fallocate is called about once per MiB written.
    static let allocationStep: UInt64 = 1 << 20

    let bytes: UInt64
    private let fd: Int32
    /// The soft RLIMIT_FSIZE when it is finite.
    private let sizeLimit: UInt64?
    private(set) var preallocating = true
    /// Disk space is reserved up to this offset.
    private var allocatedEnd: UInt64

    init(fd: Int32, bytes: Int, fileEnd: UInt64) {
        self.fd = fd
        self.bytes = UInt64(bytes)
        allocatedEnd = fileEnd
        let limit = ipcs_file_size_limit()
        sizeLimit = limit >= 0 ? UInt64(limit) : nil
    }

    /// Makes sure `count` bytes can be written at `end` with the reserve still free after them. Returns
    /// what failed and its errno when they cannot: then nothing may be written but the end record.
    mutating func makeRoom(for count: Int, at end: UInt64) -> (operation: String, errno: Int32)? {
        let needed = end + UInt64(count) + bytes
        if let sizeLimit, needed > sizeLimit {
            return ("writing past the file size limit (RLIMIT_FSIZE, \(sizeLimit) bytes)", EFBIG)
        }
        guard preallocating, needed > allocatedEnd else { return nil }
        // A step ahead normally; exactly what is needed when that much is no longer free.
        var result = allocate(upTo: needed + Self.allocationStep)
        if result != 0, preallocating { result = allocate(upTo: needed) }
        guard result != 0, preallocating else { return nil }
        return ("fallocate", result)
    }

    /// Reserves disk space up to `target`. Returns 0, or the errno; gives up reserving (and returns 0)
    /// where the file system does not support it.
    private mutating func allocate(upTo target: UInt64) -> Int32 {
        do throws(SystemError) {
            let (start, length) = (Int64(allocatedEnd), Int64(target - allocatedEnd))
            _ = try retryingOnInterrupt("fallocate") { ipcs_fallocate_keep_size(fd, start, length) }
            allocatedEnd = target
            return 0
        } catch {
            guard error.errno == EOPNOTSUPP || error.errno == ENOSYS else { return error.errno }
            preallocating = false
            return 0
        }
    }

    /// Gives back the space reserved past `end`, the file's size (the trace is complete): ftruncate to the
    /// size the file already has frees blocks past it (ext4, tmpfs; XFS frees them on close) without
    /// changing what any reader sees. Only disk usage depends on it, so its failure is not an error.
    mutating func release(after end: UInt64) {
        guard preallocating, allocatedEnd > end else { return }
        var info = stat()
        guard fstat(fd, &info) == 0, UInt64(info.st_size) == end else { return }
        _ = ftruncate(fd, off_t(end))
        allocatedEnd = end
    }
}
