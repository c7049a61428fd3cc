/// Small coded values inside records. Each is a u8 on disk and an open set: a value this build does not
/// know is kept as is (and shown as a number), so that codes added by later minor versions survive.

/// How the recorder found a channel.
public struct ChannelDiscovery: RawRepresentable, Sendable, Equatable, Hashable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// A client connected to a socket path the recorder listens on.
    public static let listen = ChannelDiscovery(rawValue: 0)
    /// The recorder took over a socket handed to a child through `SOCKET_TAKEOVER`.
    public static let takeover = ChannelDiscovery(rawValue: 1)
    /// A transport sent inside a frame of another channel.
    public static let transfer = ChannelDiscovery(rawValue: 2)
    /// A socket of a process tree the recorder wrapped.
    public static let wrap = ChannelDiscovery(rawValue: 3)
    /// Found by the preload library inside the process.
    public static let preload = ChannelDiscovery(rawValue: 4)

    public var description: String {
        switch rawValue {
        case 0: "listen"
        case 1: "takeover"
        case 2: "transfer"
        case 3: "wrap"
        case 4: "preload"
        default: "discovery-\(rawValue)"
        }
    }
}

/// What an attached fd refers to (from fstat and F_GET_SEALS).
public struct FDKind: RawRepresentable, Sendable, Equatable, Hashable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let unknown = FDKind(rawValue: 0)
    public static let socket = FDKind(rawValue: 1)
    public static let pipe = FDKind(rawValue: 2)
    public static let regular = FDKind(rawValue: 3)
    public static let memfd = FDKind(rawValue: 4)
    public static let other = FDKind(rawValue: 5)

    public var description: String {
        switch rawValue {
        case 0: "unknown"
        case 1: "socket"
        case 2: "pipe"
        case 3: "regular"
        case 4: "memfd"
        case 5: "other"
        default: "fd-kind-\(rawValue)"
        }
    }
}

/// Why a direction of a channel ended.
public struct EOFKind: RawRepresentable, Sendable, Equatable, Hashable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The sender closed its end (read returned 0).
    public static let peerClosed = EOFKind(rawValue: 0)
    /// ECONNRESET or EPIPE.
    public static let reset = EOFKind(rawValue: 1)
    /// The socket was sent away inside a frame; the channel continues elsewhere (docs/protocol.md §6).
    public static let handoffAfterTransfer = EOFKind(rawValue: 2)
    /// ipcscope stopped recording while the channel was open.
    public static let ipcscopeStopped = EOFKind(rawValue: 3)
    /// Another read or write error; see the errno.
    public static let error = EOFKind(rawValue: 4)

    public var description: String {
        switch rawValue {
        case 0: "peer-closed"
        case 1: "reset"
        case 2: "handoff-after-transfer"
        case 3: "ipcscope-stopped"
        case 4: "error"
        default: "eof-kind-\(rawValue)"
        }
    }
}

/// (1.1) Why a recording stopped writing its trace, in the end record.
public struct StopReason: RawRepresentable, Sendable, Equatable, Hashable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Every record was written (also what an end record of a 1.0 writer means).
    public static let complete = StopReason(rawValue: 0)
    /// Writing failed (a full disk, an I/O error, the file size limit): the records of everything that
    /// crossed after the end record's stop offset are missing.
    public static let writeError = StopReason(rawValue: 1)

    public var description: String {
        switch rawValue {
        case 0: "complete"
        case 1: "write-error"
        default: "stop-reason-\(rawValue)"
        }
    }
}

/// What a channel was found to carry (channel-classified records, 1.1).
public struct ChannelProtocol: RawRepresentable, Sendable, Equatable, Hashable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// LibIPC framing: its frames, acks and violations are recorded.
    public static let libIPC = ChannelProtocol(rawValue: 0)
    /// Something else: relayed byte for byte with its fds and counted, but not parsed.
    public static let notLibIPC = ChannelProtocol(rawValue: 1)
    /// The channel ended before its traffic said either (it carried too few bytes).
    public static let undetermined = ChannelProtocol(rawValue: 2)

    public var description: String {
        switch rawValue {
        case 0: "LibIPC"
        case 1: "not LibIPC"
        case 2: "undetermined"
        default: "protocol-\(rawValue)"
        }
    }
}
