import IPCWire

/// Why a transport stopped receiving (docs/protocol.md §1.6, §2). Published once, after the last messages.
public enum EOFReason: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// `recvmsg` returned 0 bytes and no fds: the peer closed its end.
    case peerClosed
    /// POLLHUP with nothing left to read.
    case hangUp
    /// A receive, send or poll error (ECONNRESET, EPIPE, POLLERR…), which stops the IO thread.
    case socketError(SystemError)
    /// The peer broke one of LibIPC's limits; Ladybird disconnects such a peer.
    case violation(Violation)
    /// The peer acknowledged more fds than this side had sent and not yet seen acknowledged
    /// ("Peer acknowledged more FDs than we sent").
    case peerOverAcknowledged(acknowledged: UInt64, outstanding: UInt64)
    /// This side called `close()` or `closeAfterSendingAllPendingMessages()`.
    case localClose

    /// The §2 rule behind this EOF, if it was one.
    public var violationKind: Violation.Kind? {
        switch self {
        case .violation(let violation): return violation.kind
        case .peerOverAcknowledged: return .overAcknowledgement
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .peerClosed: return "peer closed the connection"
        case .hangUp: return "peer hung up (POLLHUP)"
        case .socketError(let error): return "socket error: \(error)"
        case .violation(let violation): return "peer disconnected for \(violation)"
        case .peerOverAcknowledged(let acknowledged, let outstanding):
            return "peer acknowledged \(acknowledged) fds but only \(outstanding) were outstanding"
        case .localClose: return "closed locally"
        }
    }
}

/// What `IPCTransport.receive(timeout:)` returns.
public enum IncomingEvent: Equatable, Sendable {
    /// A payload frame and its attachments; the receiver owns (and must close) the fds.
    case message(payload: [UInt8], fds: [Int32])
    /// No more messages will come; every earlier message has already been returned.
    case eof(EOFReason)
    /// The timeout passed with nothing to report.
    case timedOut
    /// The socket was handed off with `releaseForTransfer()`: no EOF, no more messages here.
    case released
}

/// What `IPCTransport.receiveAll()` returns: every queued message and, after them, the EOF if published.
public struct IncomingBatch: Equatable, Sendable {
    public var messages: [IncomingMessage]
    public var eof: EOFReason?
    public var released: Bool
}

/// Errors thrown by the transport's own calls (never by the peer's behaviour, which ends in EOF).
public enum TransportError: Error, Equatable, Sendable, CustomStringConvertible {
    /// More attachments than `MAX_MESSAGE_FD_COUNT` (Ladybird VERIFY-crashes here).
    case tooManyAttachments(count: Int, limit: Int)
    /// Payload over `MAX_MESSAGE_PAYLOAD_SIZE` (Ladybird VERIFY-crashes here).
    case payloadTooLarge(size: Int, limit: Int)
    /// The transport was closed or released for transfer.
    case notOpen
    /// The IO thread stopped; nothing more can be sent.
    case disconnected(EOFReason)
    case system(SystemError)

    public var description: String {
        switch self {
        case .tooManyAttachments(let count, let limit): return "\(count) attachments; at most \(limit) per message"
        case .payloadTooLarge(let size, let limit): return "payload of \(size) bytes; at most \(limit)"
        case .notOpen: return "transport is closed or was released for transfer"
        case .disconnected(let reason): return "transport disconnected: \(reason)"
        case .system(let error): return error.description
        }
    }
}
