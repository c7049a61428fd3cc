import CSystemShims
import Glibc
import IPCWire

/// Aligned room for one `SCM_RIGHTS` control message, and with `credentials` also for an SCM_CREDENTIALS
/// message before it. Not Sendable on purpose: an IO thread allocates its own and reuses it for every
/// `recvmsg` (or `sendmsg`).
public final class ControlMessageBuffer {
    public let maxFDs: Int
    public let byteCount: Int
    let storage: UnsafeMutableRawPointer

    public init(maxFDs: Int = Int(Limits.maxTransferFDs), credentials: Bool = false) {
        self.maxFDs = maxFDs
        // Both, when asked: the kernel puts SCM_CREDENTIALS before SCM_RIGHTS, and drops the fds that do
        // not fit (MSG_CTRUNC) — a buffer sized for the fds alone would lose the last ones.
        byteCount = max(ipcs_control_space(credentials ? 1 : 0, maxFDs), ipcs_CMSG_SPACE(0))
        storage = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: MemoryLayout<cmsghdr>.alignment)
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: byteCount)
    }

    deinit { storage.deallocate() }
}

/// The process and ids an SCM_CREDENTIALS message carries (`struct ucred`): with SO_PASSCRED on the
/// receiving socket, the kernel attaches the writer's to every read.
public struct Credentials: Hashable, Sendable, CustomStringConvertible {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32

    public init(pid: Int32, uid: UInt32, gid: UInt32) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
    }

    /// What the kernel attaches to this process's writes when it sends none: its pid, real uid and gid.
    public static var ofThisProcess: Credentials { Credentials(pid: getpid(), uid: getuid(), gid: getgid()) }

    public var description: String { "pid \(pid) uid \(uid) gid \(gid)" }
}

/// What one `recvmsg` delivered.
public struct ReceivedChunk: Sendable {
    /// Data bytes written to the buffer; 0 with no fds means the peer closed its end.
    public var byteCount: Int
    /// Fds from every SCM_RIGHTS control message, in order. Owned by the caller (close-on-exec).
    public var fds: [Int32]
    /// The kernel dropped fds because the control buffer was too small (MSG_CTRUNC).
    public var controlTruncated: Bool
    /// The writer's credentials, when the socket has SO_PASSCRED. A pid of 0 means the bytes carried
    /// none (written before SO_PASSCRED was set, with neither side asking for them).
    public var credentials: Credentials?

    public init(byteCount: Int, fds: [Int32], controlTruncated: Bool, credentials: Credentials? = nil) {
        self.byteCount = byteCount
        self.fds = fds
        self.controlTruncated = controlTruncated
        self.credentials = credentials
    }
}

/// SCM_RIGHTS (and SCM_CREDENTIALS) send and receive on a stream socket.
public enum SocketMessaging {
    /// Every send: no SIGPIPE on a closed peer; never block (the IO thread waits in poll instead).
    public static let sendFlags = Int32(MSG_NOSIGNAL | MSG_DONTWAIT)
    /// Every receive: as above, and received fds are close-on-exec from the start.
    public static let receiveFlags = Int32(MSG_NOSIGNAL | MSG_DONTWAIT | MSG_CMSG_CLOEXEC)

    /// Writes `bytes` with `fds` attached in one SCM_RIGHTS control message (plain `send` when `fds` is
    /// empty). Returns the number of bytes written; the fds travel in full with any write of ≥ 1 byte.
    /// The fds are only borrowed: the kernel installs copies in the receiver.
    /// Throws EAGAIN as a ``SystemError`` with `isWouldBlock`.
    public static func sendMessage(
        _ socket: Int32, bytes: UnsafeRawBufferPointer, fds: [Int32], flags: Int32 = sendFlags
    ) throws(SystemError) -> Int {
        guard !fds.isEmpty else {
            return try retryingOnInterrupt("send") { send(socket, bytes.baseAddress, bytes.count, flags) }
        }
        let payloadLength = MemoryLayout<Int32>.size * fds.count
        // Exactly CMSG_LEN(4n) of control data, as LibCore does; the buffer itself is CMSG_SPACE(4n).
        let space = ipcs_CMSG_SPACE(payloadLength)
        let control = UnsafeMutableRawPointer.allocate(byteCount: space, alignment: MemoryLayout<cmsghdr>.alignment)
        defer { control.deallocate() }
        control.initializeMemory(as: UInt8.self, repeating: 0, count: space)

        var iov = iovec(iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress), iov_len: bytes.count)
        return try withUnsafeMutablePointer(to: &iov) { (iovPointer) throws(SystemError) -> Int in
            var message = msghdr()
            message.msg_iov = iovPointer
            message.msg_iovlen = 1
            message.msg_control = control
            message.msg_controllen = ipcs_CMSG_LEN(payloadLength)
            return try withUnsafeMutablePointer(to: &message) { (messagePointer) throws(SystemError) -> Int in
                guard let header = ipcs_CMSG_FIRSTHDR(messagePointer), let data = ipcs_CMSG_DATA(header) else {
                    throw SystemError(errno: EINVAL, operation: "sendmsg: no room for the control header")
                }
                header.pointee.cmsg_level = SOL_SOCKET
                header.pointee.cmsg_type = Int32(SCM_RIGHTS)
                header.pointee.cmsg_len = ipcs_CMSG_LEN(payloadLength)
                fds.withUnsafeBytes { UnsafeMutableRawBufferPointer(start: data, count: payloadLength).copyMemory(from: $0) }
                return try retryingOnInterrupt("sendmsg") { sendmsg(socket, messagePointer, flags) }
            }
        }
    }

    /// Like ``sendMessage(_:bytes:fds:flags:)``, and with `credentials` in an SCM_CREDENTIALS message of
    /// the same `sendmsg` (the kernel then attaches them instead of this process's own). Builds the control
    /// data in `control`, which must have room for the fds and the credentials: no allocation per call.
    /// The kernel refuses credentials this process may not claim (EPERM), names a pid that no longer
    /// exists (ESRCH), or ids not mapped in its user namespace (EINVAL); nothing is sent then.
    public static func sendMessage(
        _ socket: Int32, bytes: UnsafeRawBufferPointer, fds: [Int32], credentials: Credentials?,
        control: ControlMessageBuffer, flags: Int32 = sendFlags
    ) throws(SystemError) -> Int {
        guard !fds.isEmpty || credentials != nil else {
            return try retryingOnInterrupt("send") { send(socket, bytes.baseAddress, bytes.count, flags) }
        }
        var ucred = ipcs_ucred(pid: credentials?.pid ?? 0, uid: credentials?.uid ?? 0, gid: credentials?.gid ?? 0)
        let controlLength = fds.withUnsafeBufferPointer { fdBuffer in
            withUnsafePointer(to: &ucred) { ucredPointer in
                ipcs_build_control(control.storage, control.byteCount, credentials == nil ? nil : ucredPointer,
                                   fdBuffer.baseAddress, fdBuffer.count)
            }
        }
        guard controlLength > 0 else {
            throw SystemError(errno: EINVAL, operation: "sendmsg: \(fds.count) fds do not fit the control buffer")
        }
        var iov = iovec(iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress), iov_len: bytes.count)
        return try withUnsafeMutablePointer(to: &iov) { (iovPointer) throws(SystemError) -> Int in
            var message = msghdr()
            message.msg_iov = iovPointer
            message.msg_iovlen = 1
            message.msg_control = control.storage
            message.msg_controllen = controlLength
            return try retryingOnInterrupt("sendmsg") { sendmsg(socket, &message, flags) }
        }
    }

    public static func sendMessage(_ socket: Int32, bytes: [UInt8], fds: [Int32] = []) throws(SystemError) -> Int {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(SystemError) in try sendMessage(socket, bytes: buffer, fds: fds) }
        }
        return try result.get()
    }

    /// One `recvmsg` into `buffer`, collecting SCM_RIGHTS fds (and SCM_CREDENTIALS) through `control`.
    /// Throws EAGAIN as a ``SystemError`` with `isWouldBlock`.
    public static func receiveMessage(
        _ socket: Int32, into buffer: UnsafeMutableRawBufferPointer, control: ControlMessageBuffer,
        flags: Int32 = receiveFlags
    ) throws(SystemError) -> ReceivedChunk {
        var iov = iovec(iov_base: buffer.baseAddress, iov_len: buffer.count)
        return try withUnsafeMutablePointer(to: &iov) { (iovPointer) throws(SystemError) -> ReceivedChunk in
            var message = msghdr()
            message.msg_iov = iovPointer
            message.msg_iovlen = 1
            message.msg_control = control.storage
            message.msg_controllen = control.byteCount
            return try withUnsafeMutablePointer(to: &message) { (messagePointer) throws(SystemError) -> ReceivedChunk in
                let count = try retryingOnInterrupt("recvmsg") { recvmsg(socket, messagePointer, flags) }
                let (fds, credentials) = collectControl(messagePointer)
                let truncated = messagePointer.pointee.msg_flags & Int32(MSG_CTRUNC) != 0
                return ReceivedChunk(byteCount: count, fds: fds, controlTruncated: truncated, credentials: credentials)
            }
        }
    }

    /// Convenience for one-off receives (tests, tools): allocates a control buffer for `maxFDs`.
    public static func receiveMessage(
        _ socket: Int32, into buffer: UnsafeMutableRawBufferPointer, maxFDs: Int = Int(Limits.maxTransferFDs),
        flags: Int32 = receiveFlags
    ) throws(SystemError) -> ReceivedChunk {
        try receiveMessage(socket, into: buffer, control: ControlMessageBuffer(maxFDs: maxFDs), flags: flags)
    }

    /// Fds of every SCM_RIGHTS message and the SCM_CREDENTIALS, if any: no allocation unless fds came.
    private static func collectControl(_ message: UnsafeMutablePointer<msghdr>) -> ([Int32], Credentials?) {
        var fds: [Int32] = []
        var credentials: Credentials?
        let headerLength = ipcs_CMSG_LEN(0)
        var cursor = ipcs_CMSG_FIRSTHDR(message)
        while let header = cursor {
            if header.pointee.cmsg_level == SOL_SOCKET, header.pointee.cmsg_type == IPCS_SCM_CREDENTIALS,
               header.pointee.cmsg_len >= ipcs_CMSG_LEN(MemoryLayout<ipcs_ucred>.size), let data = ipcs_CMSG_DATA(header) {
                let ucred = UnsafeRawPointer(data).loadUnaligned(as: ipcs_ucred.self)
                credentials = Credentials(pid: ucred.pid, uid: ucred.uid, gid: ucred.gid)
            } else if header.pointee.cmsg_level == SOL_SOCKET, header.pointee.cmsg_type == Int32(SCM_RIGHTS),
               header.pointee.cmsg_len >= headerLength, let data = ipcs_CMSG_DATA(header) {
                let count = (header.pointee.cmsg_len - headerLength) / MemoryLayout<Int32>.size
                let raw = UnsafeRawPointer(data)
                for index in 0..<count {
                    fds.append(raw.loadUnaligned(fromByteOffset: index * MemoryLayout<Int32>.size, as: Int32.self))
                }
            }
            cursor = ipcs_CMSG_NXTHDR(message, header)
        }
        return (fds, credentials)
    }
}
