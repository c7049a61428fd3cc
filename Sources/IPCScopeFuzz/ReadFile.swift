#if canImport(Glibc)
import Glibc
#endif

/// Reads a whole file with plain libc (the harness avoids Foundation so fuzz builds stay small).
func readWholeFile(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0 { return nil }
        if count == 0 { return bytes }
        bytes.append(contentsOf: buffer[0..<count])
    }
}

/// Writes `bytes` to a new file (mode 0644; it must not exist); false on any error, which the caller reports.
func writeWholeFile(_ path: String, _ bytes: [UInt8]) -> Bool {
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard fd >= 0 else {
        print("cannot create \(path): errno \(errno)")
        return false
    }
    var offset = 0
    while offset < bytes.count {
        let count = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { continue }
        guard count > 0 else {
            print("cannot write \(path): errno \(errno)")
            close(fd)
            return false
        }
        offset += count
    }
    guard close(fd) == 0 else {
        print("cannot close \(path): errno \(errno)")
        return false
    }
    return true
}
