import Glibc

/// One validated request from the interposer. The handler that receives it owns every fd in it
/// (close-on-exec, received with MSG_CMSG_CLOEXEC) and must close them whatever it replies.
public enum ControlRequest: Sendable, Equatable {
    /// The program called `socketpair`: what it writes to `sv[0]` arrives on `fdA`, what it writes to `sv[1]`
    /// arrives on `fdB`. Relay `fdA` ⇄ `fdB`. `flags` are the SOCK_CLOEXEC/SOCK_NONBLOCK bits it asked for.
    /// `programSideInodes`: inodes of the two ends the program got, when the interposer sent them; the
    /// recorder uses them to recognise those ends when they travel as attachments (already relayed).
    case socketPair(pid: Int32, flags: Int32, fdA: Int32, fdB: Int32, programSideInodes: [UInt64] = [])
    /// The program called `connect(path)`. Connect to `path` (absolute, possibly longer than `sun_path`)
    /// and relay `fd` ⇄ that connection, or reply `.refused(errno)` with connect's errno.
    case connect(pid: Int32, path: String, fd: Int32)
    /// A nested recorder hands over a SOCKET_TAKEOVER socket: relay `programSide` ⇄ `realSocket`.
    case takeover(pid: Int32, name: String, programSide: Int32, realSocket: Int32)

    /// The pid the client reported (its own `getpid()`).
    public var pid: Int32 {
        switch self {
        case .socketPair(let pid, _, _, _, _), .connect(let pid, _, _), .takeover(let pid, _, _, _): return pid
        }
    }

    /// Every fd the request carries, in wire order.
    public var fds: [Int32] {
        switch self {
        case .socketPair(_, _, let fdA, let fdB, _): return [fdA, fdB]
        case .connect(_, _, let fd): return [fd]
        case .takeover(_, _, let programSide, let realSocket): return [programSide, realSocket]
        }
    }
}

/// The handler's answer.
public enum ControlReply: Sendable, Equatable {
    /// The recorder relays between the request's fds.
    case accepted
    /// An errno value: for `.connect` the program's connect fails with it; for the other kinds the client
    /// falls back to the real call. Values ≤ 0 are sent as EPROTO.
    case refused(Int32)
    /// Not recording this one (e.g. a connect to a non-LibIPC socket): the client does the real call.
    case declined

    /// The status word on the wire.
    public var status: Int32 {
        switch self {
        case .accepted: return ControlProtocol.statusAccepted
        case .refused(let errno): return errno > 0 ? errno : EPROTO
        case .declined: return ControlProtocol.statusDeclined
        }
    }

    /// nil for statuses no server sends (negative values other than "declined").
    public init?(status: Int32) {
        switch status {
        case ControlProtocol.statusAccepted: self = .accepted
        case ControlProtocol.statusDeclined: self = .declined
        case 1...: self = .refused(status)
        default: return nil
        }
    }
}
