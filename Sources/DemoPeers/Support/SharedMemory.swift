import CSystemShims
import Glibc
import IPCTransport

/// Anonymous shared memory as Ladybird's `Core::AnonymousBuffer` uses it: a memfd holding the bytes.
enum SharedMemory {
    /// A close-on-exec memfd containing `bytes`. The caller owns the fd.
    static func make(name: String, bytes: [UInt8]) throws(SystemError) -> Int32 {
        let fd = ipcs_memfd_create(name, IPCS_MFD_CLOEXEC)
        guard fd >= 0 else { throw SystemError.current("memfd_create") }
        do throws(SystemError) {
            guard ftruncate(fd, off_t(bytes.count)) == 0 else { throw SystemError.current("ftruncate") }
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeBytes { buffer in
                    pwrite(fd, buffer.baseAddress! + offset, buffer.count - offset, off_t(offset))
                }
                if written < 0 {
                    if errno == EINTR { continue }
                    throw SystemError.current("pwrite")
                }
                offset += written
            }
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
            let count = bytes.withUnsafeMutableBytes { buffer in
                pread(fd, buffer.baseAddress! + offset, size - offset, off_t(offset))
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw SystemError.current("pread")
            }
            if count == 0 { throw SystemError(errno: EIO, operation: "memfd ended at \(offset) of \(size) bytes") }
            offset += count
        }
        return bytes
    }
}
