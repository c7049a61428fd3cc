import Glibc

/// Finds the processes holding a socket by its inode, the way `ss -p` and `lsof` do: every
/// /proc/PID/fd/N link to `socket:[INODE]`. Processes this user may not inspect are skipped.
enum SocketHolders {
    static func firstHolder(ofInode inode: UInt64) -> Int32? {
        let wanted = "socket:[\(inode)]"
        guard let proc = opendir("/proc") else { return nil }
        defer { closedir(proc) }
        while let entry = readdir(proc) {
            guard let pid = Int32(name(of: entry)), pid != getpid() else { continue }
            if holds(pid: pid, link: wanted) { return pid }
        }
        return nil
    }

    private static func holds(pid: Int32, link wanted: String) -> Bool {
        let directory = "/proc/\(pid)/fd"
        guard let fds = opendir(directory) else { return false }
        defer { closedir(fds) }
        var target = [CChar](repeating: 0, count: 64)
        while let entry = readdir(fds) {
            let fd = name(of: entry)
            guard fd.first?.isNumber == true else { continue }
            let length = readlink(directory + "/" + fd, &target, target.count - 1)
            guard length > 0 else { continue }
            let text = String(decoding: target[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if text == wanted { return true }
        }
        return false
    }

    private static func name(of entry: UnsafeMutablePointer<dirent>) -> String {
        withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }
}
