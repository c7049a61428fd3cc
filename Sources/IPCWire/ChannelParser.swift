/// Which way a frame travels on a channel between endpoints A and B.
public enum Direction: UInt8, Sendable, Codable, CaseIterable {
    case aToB = 0
    case bToA = 1

    public var reversed: Direction { self == .aToB ? .bToA : .aToB }
}

/// Fds one side has sent in payload frames and the other side has not yet acknowledged (§1.5).
public struct FDAcknowledgementLedger: Equatable, Sendable {
    public private(set) var sent: UInt64 = 0
    public private(set) var acknowledged: UInt64 = 0

    public init() {}

    public var outstanding: UInt64 { sent - acknowledged }

    public mutating func recordSent(_ count: UInt32) {
        sent &+= UInt64(count)
    }

    /// Records an acknowledgement; returns how many fds it acknowledged beyond those outstanding
    /// (0 when it is valid). Over-acknowledged fds are not counted as acknowledged.
    public mutating func recordAcknowledged(_ count: UInt32) -> UInt64 {
        let accepted = min(UInt64(count), outstanding)
        acknowledged &+= accepted
        return UInt64(count) - accepted
    }
}

/// Parses both directions of a channel and checks what needs both: fds sent versus acknowledged.
public struct ChannelParser {
    public private(set) var aToB: FrameStreamParser
    public private(set) var bToA: FrameStreamParser
    /// Fds sent by each side, settled by the acks travelling the other way.
    public private(set) var sentByA = FDAcknowledgementLedger()
    public private(set) var sentByB = FDAcknowledgementLedger()

    public init(configuration: FrameStreamParser.Configuration = .init()) {
        aToB = FrameStreamParser(configuration: configuration)
        bToA = FrameStreamParser(configuration: configuration)
    }

    public func parser(_ direction: Direction) -> FrameStreamParser {
        direction == .aToB ? aToB : bToA
    }

    /// Fds sent in `direction` that the receiver has not acknowledged yet.
    public func unacknowledgedFDs(_ direction: Direction) -> UInt64 {
        direction == .aToB ? sentByA.outstanding : sentByB.outstanding
    }

    public mutating func feed(
        _ direction: Direction, _ chunk: UnsafeRawBufferPointer, fdCount: Int = 0,
        _ onEvent: (FrameEvent) -> Void
    ) {
        // Payloads in this direction add to this side's ledger; acks in it settle the other side's.
        var sent = direction == .aToB ? sentByA : sentByB
        var settled = direction == .aToB ? sentByB : sentByA
        let handle = { (event: FrameEvent) in
            onEvent(event)
            switch event {
            case .payload(let frame):
                sent.recordSent(frame.header.fdCount)
            case .acknowledgement(let ack):
                let outstanding = settled.outstanding
                let excess = settled.recordAcknowledged(ack.count)
                if excess > 0 {
                    onEvent(.violation(Violation(
                        kind: .overAcknowledgement, limit: outstanding, observed: UInt64(ack.count),
                        streamOffset: ack.streamOffset, frameIndex: ack.frameIndex)))
                }
            case .violation, .lateFDs, .unknownFrame:
                break
            }
        }
        switch direction {
        case .aToB: aToB.feed(chunk, fdCount: fdCount, handle)
        case .bToA: bToA.feed(chunk, fdCount: fdCount, handle)
        }
        if direction == .aToB {
            sentByA = sent
            sentByB = settled
        } else {
            sentByB = sent
            sentByA = settled
        }
    }

    public mutating func feed(
        _ direction: Direction, _ chunk: [UInt8], fdCount: Int = 0, _ onEvent: (FrameEvent) -> Void
    ) {
        chunk.withUnsafeBytes { feed(direction, $0, fdCount: fdCount, onEvent) }
    }
}
