import CSystemShims
import Glibc
import IPCTransport

/// The client side of the control protocol in Swift, for a nested `ipcscope record` handing its
/// SOCKET_TAKEOVER socket to the outer recorder. Speaks exactly as the C interposer does: one
/// SOCK_SEQPACKET connection per request, one message each way.
public enum ControlClient {
    /// The outer recorder's control socket, from IPCSCOPE_CONTROL; nil when not running under one.
    public static var controlPathFromEnvironment: String? {
        guard let raw = getenv(ControlEnvironment.controlVariable) else { return nil }
        let path = String(cString: raw)
        return path.isEmpty ? nil : path
    }

    /// Asks the recorder to relay `programSide` ⇄ `realSocket` (kind 3, takeover) for the endpoint `name`.
    /// The fds are only borrowed: the recorder gets copies, the caller closes its own after the call.
    /// Throws when the recorder cannot be reached, does not answer within `timeout`, or answers garbage;
    /// otherwise returns its reply (`.accepted` means it now relays).
    public static func hand(
        takeoverName name: String, programSide: Int32, realSocket: Int32,
        controlPath: String? = nil, timeout: Duration = .seconds(2)
    ) throws(SystemError) -> ControlReply {
        guard let path = controlPath ?? controlPathFromEnvironment else {
            throw SystemError(errno: ENOENT, operation: "\(ControlEnvironment.controlVariable) is not set")
        }
        let message = ControlProtocol.encodeRequest(kind: .takeover, pid: getpid(), name: Array(name.utf8))
        return try request(controlPath: path, message: message, fds: [programSide, realSocket], timeout: timeout)
    }

    /// Sends one raw request message with `fds` (borrowed) and decodes the reply.
    public static func request(
        controlPath: String, message: [UInt8], fds: [Int32], timeout: Duration = .seconds(2)
    ) throws(SystemError) -> ControlReply {
        let reply = try exchange(controlPath: controlPath, message: message, fds: fds, timeout: timeout)
        guard let status = ControlProtocol.decodeReply(reply), let decoded = ControlReply(status: status) else {
            throw SystemError(errno: EPROTO, operation: "control reply of \(reply.count) bytes")
        }
        return decoded
    }

    /// Sends one raw request message and returns the raw reply bytes (empty when the server closed
    /// without answering). For tests and tools; `request` is the checked form.
    public static func exchange(
        controlPath: String, message: [UInt8], fds: [Int32], timeout: Duration = .seconds(2)
    ) throws(SystemError) -> [UInt8] {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        let type = Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let created = socket(AF_UNIX, type, 0)
        guard created >= 0 else { throw SystemError.current("socket(AF_UNIX, SOCK_SEQPACKET)") }
        let owned = OwnedFD(adopting: created)  // closed when this returns or throws
        let control = owned.rawValue
        // Bounds a connect to a full backlog as well as the send.
        var sendTimeout = ControlTime.timeval(timeout)
        _ = setsockopt(control, SOL_SOCKET, SO_SNDTIMEO, &sendTimeout, socklen_t(MemoryLayout<timeval>.size))
        try UnixSocketAddress.connect(control, to: controlPath)

        while true {
            do throws(SystemError) {
                _ = try SocketMessaging.sendMessage(control, bytes: message, fds: fds)
                break
            } catch {
                guard error.isWouldBlock, ControlTime.wait(control, for: POLLOUT, until: deadline) else { throw error }
            }
        }
        guard ControlTime.wait(control, for: POLLIN, until: deadline) else {
            throw SystemError(errno: ETIMEDOUT, operation: "waiting for the control reply")
        }
        // One byte more than a reply, to notice a longer one. No control buffer: fds in a reply are dropped.
        var reply = [UInt8](repeating: 0, count: ControlProtocol.replySize + 1)
        let count = reply.withUnsafeMutableBytes { recv(control, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        guard count >= 0 else { throw SystemError.current("recv control reply") }
        return Array(reply[0..<count])
    }
}
