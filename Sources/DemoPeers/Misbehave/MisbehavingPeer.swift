import Foundation
import Glibc
import IPCTransport
import SystemSupport

/// WebContent's misbehaving side: instead of adopting a RequestServer client connection, it writes one
/// bad frame on the raw socket and waits for the victim to hang up (as LibIPC does on these errors).
enum MisbehavingPeer {
    static let hangUpTimeout: Int32 = 5_000  // milliseconds

    /// Writes `kind`'s bytes on `socket` (owned; closed before returning) and reports what happened.
    static func misbehave(_ kind: Misbehavior, on socket: Int32, demoProtocol: DemoProtocol) -> Result<String, DemoFailure> {
        defer { Descriptor.close(socket) }
        let step = "misbehave \(kind.rawValue)"
        let bytes = kind.frameBytes(demoProtocol)
        let start = ContinuousClock.now
        do {
            try Descriptor.writeAll(socket, bytes)
        } catch where error.errno == EPIPE || error.errno == ECONNRESET {
            // Already disconnected: the victim was faster than our write.
        } catch {
            return .failure(DemoFailure(step: step, "writing the bad frame: \(error)"))
        }
        guard waitForHangUp(socket) else {
            return .failure(DemoFailure(step: step, "the victim did not hang up within \(hangUpTimeout) ms"))
        }
        let elapsed = ContinuousClock.now - start
        let milliseconds = Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
        return .success("wrote \(bytes.count) bytes (\(kind.brokenRule)); victim hung up after \(String(format: "%.1f", milliseconds)) ms")
    }

    /// Reads and discards until EOF or an error: true when the other side closed in time.
    private static func waitForHangUp(_ socket: Int32) -> Bool {
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int(hangUpTimeout)))
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return false }
            var pollFD = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(clamping: left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1)
            let ready: Int32
            do throws(SystemError) {
                ready = try retryingOnInterrupt("poll") { poll(&pollFD, 1, milliseconds) }
            } catch {
                return false
            }
            if ready == 0 { continue }
            do throws(SystemError) {
                let count = try retryingOnInterrupt("recv") {
                    recv(socket, &buffer, buffer.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
                }
                if count == 0 { return true }
            } catch {
                if !error.isWouldBlock { return true }  // ECONNRESET and the like
            }
        }
    }
}
