import Glibc
import CSystemShims
import IPCTransport

/// Who is at the other end of a socket: pid from SO_PEERCRED, command from /proc.
enum ProcessLookup {
    static func peerPID(of socket: Int32) -> Int32 {
        var pid: pid_t = -1
        var uid: uid_t = 0
        var gid: gid_t = 0
        return ipcs_peercred(socket, &pid, &uid, &gid) == 0 ? pid : -1
    }

    /// The command line of `pid` (arguments joined by spaces), or its `comm`, or "" when gone.
    static func command(of pid: Int32) -> String {
        guard pid > 0 else { return "" }
        if let raw = readSmallFile("/proc/\(pid)/cmdline"), !raw.isEmpty {
            let parts = raw.split(separator: 0, omittingEmptySubsequences: false).map {
                String(decoding: $0, as: UTF8.self)
            }
            return parts.joined(separator: " ").trimmingSuffixSpaces()
        }
        if let comm = readSmallFile("/proc/\(pid)/comm") {
            return String(decoding: comm, as: UTF8.self).trimmingSuffixSpaces()
        }
        return ""
    }

    /// Reads at most 4 KiB: enough for a command line in a summary, and never unbounded.
    private static func readSmallFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        return count > 0 ? Array(buffer[0..<count]) : nil
    }
}

extension String {
    fileprivate func trimmingSuffixSpaces() -> String {
        var result = self
        while let last = result.last, last == " " || last == "\n" || last == "\0" { result.removeLast() }
        return result
    }
}
