import CSystemShims
import Glibc
import IPCTransport
import Synchronization

/// Finds the processes holding a socket by its inode, the way `ss -p` and `lsof` do: every
/// /proc/PID/fd/N link to `socket:[INODE]`. Processes this user may not inspect are skipped.
enum SocketHolders {
    static func firstHolder(ofInode inode: UInt64) -> Int32? {
        holders(ofInode: inode, atMost: 1).first
    }

    /// The processes (other than this one) holding the socket, at most `atMost` of them. Processes found
    /// holding recorded sockets before are tried first: a whole /proc scan reads every fd of every process,
    /// which on a busy host takes long enough for a short-lived socket to be closed before it is found.
    /// The scan runs when none of them holds it, or only `excluding` (a side's holder before a transfer) does.
    static func holders(ofInode inode: UInt64, excluding: Int32? = nil, atMost: Int = 8) -> [Int32] {
        let wanted = "socket:[\(inode)]"
        var found = recentHolders.withLock { Array($0) }.filter { holds(pid: $0, link: wanted) }
        return holders(wanted, found: &found, excluding: excluding, atMost: atMost)
    }

    private static func holders(_ wanted: String, found: inout [Int32], excluding: Int32?, atMost: Int) -> [Int32] {
        if found.isEmpty || found.allSatisfy({ $0 == excluding }), let proc = opendir("/proc") {
            defer { closedir(proc) }
            while found.count < atMost, let entry = readdir(proc) {
                guard let pid = Int32(name(of: entry)), pid != getpid(), !found.contains(pid) else { continue }
                if holds(pid: pid, link: wanted) { found.append(pid) }
            }
        }
        remember(found)
        return found
    }

    /// Holders found lately, most recent last (bounded).
    private static let recentHolders = Mutex<[Int32]>([])
    private static let recentLimit = 32

    static func remember(_ pids: [Int32]) {
        guard !pids.isEmpty else { return }
        recentHolders.withLock { recent in
            recent.removeAll { pids.contains($0) }
            recent.append(contentsOf: pids)
            if recent.count > recentLimit { recent.removeFirst(recent.count - recentLimit) }
        }
    }

    /// The inode of the socket connected to `socket` (an AF_UNIX stream socket), as `ss -x` shows it.
    static func peerInode(of socket: Int32) -> UInt64? {
        guard let own = try? Descriptor.info(socket).inode else { return nil }
        let peer = ipcs_unix_peer_inode(own)
        return peer == 0 ? nil : peer
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
