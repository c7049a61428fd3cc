import CSystemShims
import Glibc
import SystemSupport

/// A read-only, shared mapping of a file's first `count` bytes, unmapped when the last user lets go.
/// Iterators keep the mapping they started with alive, so a reader can remap after growth meanwhile.
///
/// Guarded: if someone truncates the file below `count` while it is mapped, reading past the new end
/// gives zeros instead of a fatal SIGBUS (CSystemShims' guarded mappings), and ``shrankWhileMapped``
/// says so.
///
/// `@unchecked Sendable`: immutable after init and the memory is never written through it.
final class MappedFile: @unchecked Sendable {
    private let base: UnsafeRawPointer?
    private let guardSlot: Int32
    /// A copy of bytes held in memory, not a mapping: freed, not unmapped.
    private let isCopy: Bool
    let count: Int

    /// Bytes held in memory, copied, read like a mapping (for tools and the fuzzer that hold a trace).
    init(copying bytes: UnsafeRawBufferPointer) {
        count = bytes.count
        guardSlot = -1
        isCopy = true
        guard bytes.count > 0 else {
            base = nil
            return
        }
        let copy = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 16)
        copy.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        base = UnsafeRawPointer(copy)
    }

    init(fd: Int32, count: Int, path: String) throws(TraceFileError) {
        self.count = count
        isCopy = false
        guard count > 0 else {
            base = nil
            guardSlot = -1
            return
        }
        let address = mmap(nil, count, PROT_READ, MAP_SHARED, fd, 0)
        guard let address, address != MAP_FAILED else {
            throw .system(path: path, operation: "mmap", errno: errno)
        }
        base = UnsafeRawPointer(address)
        guardSlot = ipcs_guard_mapping(address, count)
    }

    deinit {
        if isCopy {
            base?.deallocate()
            return
        }
        ipcs_unguard_mapping(guardSlot)
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), count) }
    }

    /// Whether a read hit pages the file no longer had (they read as zeros).
    var shrankWhileMapped: Bool { !isCopy && ipcs_guarded_faults(guardSlot) > 0 }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Asks the kernel to map `range` of the file now, in one call, rather than page by page as it is read
    /// (a sequential scan then takes far fewer page faults). Only a hint: failures are ignored, as an
    /// older kernel refuses the advice and reading faults the pages in anyway.
    func prefault(_ range: Range<Int>) {
        guard !isCopy, let base, !range.isEmpty else { return }
        let pageSize = 4096
        let start = range.lowerBound / pageSize * pageSize
        let end = Swift.min(count, range.upperBound)
        guard start < end else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, 22 /* MADV_POPULATE_READ */)
    }
}

/// An fd closed when the last reader copy lets go of it.
final class OpenFile: Sendable {
    private let descriptor: SharedFD
    let path: String
    var fd: Int32 { descriptor.rawValue }

    init(path: String) throws(TraceFileError) {
        // O_NONBLOCK: opening a FIFO (or a device) for reading must not wait for a writer; `status()` then
        // refuses it. It changes nothing for a regular file, which is mapped, not read.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw .system(path: path, operation: "open", errno: errno) }
        descriptor = SharedFD(OwnedFD(adopting: fd))  // read only: closed when the last reader lets go
        self.path = path
    }

    /// The current size; refuses anything but a regular file.
    func size() throws(TraceFileError) -> Int {
        Int(try status().st_size)
    }

    /// fstat of the file; refuses anything but a regular file.
    func status() throws(TraceFileError) -> stat {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .system(path: path, operation: "fstat", errno: errno) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw .notARegularFile(path: path) }
        return info
    }
}
