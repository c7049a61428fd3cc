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

    /// The most of /proc/PID/cmdline a process record keeps.
    static let commandLineLimit = 4096

    /// What /proc says about `pid` now (docs/trace-format.md §5.15); nil when it has exited or /proc
    /// will not say.
    static func snapshot(of pid: Int32) -> ProcessSnapshot? {
        guard var snapshot = started(pid) else { return nil }
        // One byte more than kept tells a command line that was cut.
        if let raw = readSmallFile("/proc/\(pid)/cmdline", limit: commandLineLimit + 1) {
            snapshot.commandLineTruncated = raw.count > commandLineLimit
            var kept = raw.prefix(commandLineLimit)
            if kept.last == 0 { kept.removeLast() }
            snapshot.arguments = kept.split(separator: 0, omittingEmptySubsequences: false).map {
                String(decoding: $0, as: UTF8.self)
            }
        }
        if snapshot.arguments.isEmpty, let comm = readSmallFile("/proc/\(pid)/comm") {
            // Kernel threads and zombies have no command line: their name, in brackets as ps shows it.
            snapshot.arguments = ["[" + String(decoding: comm, as: UTF8.self).trimmingSuffixSpaces() + "]"]
        }
        snapshot.executable = readLink("/proc/\(pid)/exe") ?? ""
        return snapshot
    }

    /// Only the parent and start time (one read of /proc/PID/stat): enough to tell whether a pid is a
    /// process seen before.
    static func started(_ pid: Int32) -> ProcessSnapshot? {
        guard pid > 0, let stat = readSmallFile("/proc/\(pid)/stat"), let fields = statFields(stat),
              fields.count > 19, let parent = Int32(fields[1]), let ticks = UInt64(fields[19]) else { return nil }
        let perSecond = UInt64(max(1, sysconf(Int32(_SC_CLK_TCK))))
        return ProcessSnapshot(pid: pid, parentPID: parent, startTime: ticks &* (1_000_000_000 / perSecond),
                               bootClock: bootClockNanoseconds())
    }

    /// CLOCK_BOOTTIME in ns: the clock /proc/PID/stat's start times count on.
    static func bootClockNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_BOOTTIME, &now)
        return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
    }

    /// The fields after the command name, which may itself hold spaces and parentheses: field 3 (state) is
    /// element 0, so field N is element N − 3.
    private static func statFields(_ stat: [UInt8]) -> [Substring]? {
        guard let close = stat.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        return String(decoding: stat[(close + 1)...], as: UTF8.self).split(separator: " ")
    }

    private static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink(path, &buffer, buffer.count - 1)
        guard length > 0 else { return nil }
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Reads at most `limit` bytes (4 KiB by default): enough for a command line, and never unbounded.
    private static func readSmallFile(_ path: String, limit: Int = 4096) -> [UInt8]? {
        let opened = open(path, O_RDONLY | O_CLOEXEC)
        guard opened >= 0 else { return nil }
        let file = OwnedFD(adopting: opened)  // read only: closed when it goes out of scope
        var buffer = [UInt8](repeating: 0, count: limit)
        var filled = 0
        while filled < limit {
            let count = buffer.withUnsafeMutableBytes { bytes in
                Result { () throws(SystemError) in
                    try retryingOnInterrupt("read \(path)") { read(file.rawValue, bytes.baseAddress! + filled, limit - filled) }
                }
            }
            // A process that exits meanwhile makes the read fail: what was read so far is all there is.
            guard case .success(let got) = count, got > 0 else { break }
            filled += got
        }
        return filled > 0 ? Array(buffer[0..<filled]) : nil
    }
}

/// One process as /proc shows it.
struct ProcessSnapshot: Equatable {
    var pid: Int32
    var parentPID: Int32
    /// Boot-clock ns (docs/trace-format.md §5.15).
    var startTime: UInt64
    /// The boot clock when it was read.
    var bootClock: UInt64
    var arguments: [String] = []
    var commandLineTruncated = false
    var executable = ""
}

extension String {
    fileprivate func trimmingSuffixSpaces() -> String {
        var result = self
        while let last = result.last, last == " " || last == "\n" || last == "\0" { result.removeLast() }
        return result
    }
}
