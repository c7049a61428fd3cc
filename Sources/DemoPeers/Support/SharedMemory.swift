import CSystemShims
import Glibc
import IPCTransport
import SystemSupport

/// Anonymous shared memory as Ladybird's `Core::AnonymousBuffer` uses it: a memfd holding the bytes.
enum SharedMemory {
    /// A close-on-exec memfd containing `bytes`. The caller owns the fd.
    static func make(name: String, bytes: [UInt8]) throws(SystemError) -> Int32 {
        let fd = ipcs_memfd_create(name, IPCS_MFD_CLOEXEC)
        guard fd >= 0 else { throw SystemError.current("memfd_create") }
        do throws(SystemError) {
            guard ftruncate(fd, off_t(bytes.count)) == 0 else { throw SystemError.current("ftruncate") }
            try bytes.withUnsafeBytes { buffer in
                Result { () throws(SystemError) in
                    do throws(IncompleteWrite) {
                        try writeAll(buffer, "pwrite") { rest, offset in pwrite(fd, rest.baseAddress!, rest.count, off_t(offset)) }
                    } catch {
                        throw error.error
                    }
                }
            }.get()
        } catch {
            Descriptor.close(fd)
            throw error
        }
        return fd
    }

    /// The first `size` bytes of a memfd, checking that it is one and is big enough.
    static func read(_ fd: Int32, size: Int) throws(SystemError) -> [UInt8] {
        let info = try Descriptor.info(fd)
        guard info.kind == .memfd else { throw SystemError(errno: EINVAL, operation: "expected a memfd, got a \(info.kind)") }
        guard info.size >= Int64(size) else {
            throw SystemError(errno: EINVAL, operation: "memfd holds \(info.size) bytes, the message says \(size)")
        }
        var bytes = [UInt8](repeating: 0, count: size)
        var offset = 0
        while offset < size {
            let count = try bytes.withUnsafeMutableBytes { buffer in
                Result { () throws(SystemError) in
                    try retryingOnInterrupt("pread") { pread(fd, buffer.baseAddress! + offset, size - offset, off_t(offset)) }
                }
            }.get()
            if count == 0 { throw SystemError(errno: EIO, operation: "memfd ended at \(offset) of \(size) bytes") }
            offset += count
        }
        return bytes
    }
}
