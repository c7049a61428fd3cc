#if canImport(Glibc)
import Glibc
#endif

/// Wakes the session's wait from any thread: the session then checks its `followPoll` at once instead of
/// at the next interval (a follow watcher calls `wake()` when the trace grew). Signal handlers write to
/// the same pipe.
public final class TerminalWaker: Sendable {
    let readFD: Int32
    let writeFD: Int32

    public init() throws(TerminalError) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw .system("pipe", errno) }
        for fd in fds {
            let flags = fcntl(fd, F_GETFL)
            guard flags >= 0, fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0, fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 else {
                let code = errno
                _ = close(fds[0]) // setup failed; the pipe was never used
                _ = close(fds[1])
                throw .system("fcntl", code)
            }
        }
        readFD = fds[0]
        writeFD = fds[1]
    }

    deinit {
        _ = close(readFD) // a pipe: nothing is lost if close reports an error
        _ = close(writeFD)
    }

    /// Wakes the session. A full pipe means it is already awake.
    public func wake() throws(TerminalError) {
        var byte: UInt8 = 1
        while write(writeFD, &byte, 1) < 0 {
            if errno == EINTR { continue }
            if errno == EAGAIN { return }
            throw .system("write to the wake-up pipe", errno)
        }
    }

    /// Empties the pipe; true when there was something in it.
    func drain() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 256)
        var any = false
        while true {
            let n = buffer.withUnsafeMutableBytes { read(readFD, $0.baseAddress, $0.count) }
            if n > 0 { any = true; continue }
            if n < 0, errno == EINTR { continue }
            return any
        }
    }
}
