import Glibc
import IPCTransport
import Synchronization
import SystemSupport

/// Writes bytes into a pipe on its own thread, then closes it: how RequestServer streams a response body
/// (the reader may be slower than the pipe is large).
final class PipeWriter: Sendable {
    private let thread: OSThread
    private let failure = Locked<String?>(nil)

    /// Takes ownership of `fd`.
    init(fd: Int32, bytes: [UInt8], name: String) throws(SystemError) {
        let failure = self.failure
        do throws(SystemError) {
            thread = try OSThread(name: name) {
                do throws(SystemError) {
                    try Descriptor.writeAll(fd, bytes)
                } catch {
                    failure.withLock { $0 = error.description }
                }
                Descriptor.close(fd)
            }
        } catch {
            Descriptor.close(fd)
            throw error
        }
    }

    /// Waits for the write to end; the error, if it failed.
    func finish() -> String? {
        thread.join()
        return failure.withLock { $0 }
    }
}

/// Reads a pipe to its end on a thread, keeping its text (up to a cap): how the UI collects the log lines
/// WebContent writes into the `IPC::File` it was given, and each helper's stderr.
final class TextCollector: Sendable {
    private let thread: OSThread
    private let state = Locked<(text: [UInt8], overflowed: Bool)>(([], false))

    /// Takes ownership of `fd`. `onLine` sees each complete line as it arrives (on the collector's thread).
    init(fd: Int32, name: String, limit: Int = 1 << 20, onLine: @escaping @Sendable (String) -> Void = { _ in }) throws(SystemError) {
        let state = self.state
        do throws(SystemError) {
            thread = try OSThread(name: name) {
                var chunk = [UInt8](repeating: 0, count: 4096)
                var partial: [UInt8] = []
                while true {
                    let read = chunk.withUnsafeMutableBytes { buffer in
                        Result { () throws(SystemError) in
                            try retryingOnInterrupt("read") { Glibc.read(fd, buffer.baseAddress, buffer.count) }
                        }
                    }
                    guard case .success(let count) = read, count > 0 else { break }  // EOF, or the pipe failed
                    state.withLock { state in
                        if state.text.count + count <= limit {
                            state.text.append(contentsOf: chunk[0..<count])
                        } else {
                            state.overflowed = true
                        }
                    }
                    partial.append(contentsOf: chunk[0..<count])
                    while let newline = partial.firstIndex(of: UInt8(ascii: "\n")) {
                        onLine(String(decoding: partial[..<newline], as: UTF8.self))
                        partial.removeSubrange(...newline)
                    }
                    if partial.count > limit { partial.removeAll() }
                }
                if !partial.isEmpty { onLine(String(decoding: partial, as: UTF8.self)) }
                Descriptor.close(fd)
            }
        } catch {
            Descriptor.close(fd)
            throw error
        }
    }

    /// Waits until the writers closed the pipe, then returns its lines.
    func finish() -> [String] {
        thread.join()
        return state.withLock { state in
            String(decoding: state.text, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        }
    }
}
