import Synchronization

/// Counters kept by a transport, readable at any time from any thread.
public struct TransportStatisticsSnapshot: Equatable, Sendable, CustomStringConvertible {
    public var messagesSent = 0
    public var payloadBytesSent = 0
    public var fdsSent = 0
    public var acknowledgementsSent = 0
    public var messagesReceived = 0
    public var payloadBytesReceived = 0
    public var fdsReceived = 0
    public var acknowledgementsReceived = 0
    /// Our fds the peer acknowledged (and we therefore closed).
    public var fdsAcknowledgedByPeer = 0
    /// Our fds still open, waiting for the peer's acknowledgement.
    public var retainedFDs = 0

    public var description: String {
        "sent \(messagesSent) msgs / \(payloadBytesSent) B / \(fdsSent) fds / \(acknowledgementsSent) acks; "
            + "received \(messagesReceived) msgs / \(payloadBytesReceived) B / \(fdsReceived) fds / "
            + "\(acknowledgementsReceived) acks; peer acknowledged \(fdsAcknowledgedByPeer) fds; "
            + "\(retainedFDs) fds retained"
    }
}

final class TransportStatistics: Sendable {
    let messagesSent = Atomic<Int>(0)
    let payloadBytesSent = Atomic<Int>(0)
    let fdsSent = Atomic<Int>(0)
    let acknowledgementsSent = Atomic<Int>(0)
    let messagesReceived = Atomic<Int>(0)
    let payloadBytesReceived = Atomic<Int>(0)
    let fdsReceived = Atomic<Int>(0)
    let acknowledgementsReceived = Atomic<Int>(0)
    let fdsAcknowledgedByPeer = Atomic<Int>(0)
    let retainedFDs = Atomic<Int>(0)

    func snapshot() -> TransportStatisticsSnapshot {
        var s = TransportStatisticsSnapshot()
        s.messagesSent = messagesSent.load(ordering: .relaxed)
        s.payloadBytesSent = payloadBytesSent.load(ordering: .relaxed)
        s.fdsSent = fdsSent.load(ordering: .relaxed)
        s.acknowledgementsSent = acknowledgementsSent.load(ordering: .relaxed)
        s.messagesReceived = messagesReceived.load(ordering: .relaxed)
        s.payloadBytesReceived = payloadBytesReceived.load(ordering: .relaxed)
        s.fdsReceived = fdsReceived.load(ordering: .relaxed)
        s.acknowledgementsReceived = acknowledgementsReceived.load(ordering: .relaxed)
        s.fdsAcknowledgedByPeer = fdsAcknowledgedByPeer.load(ordering: .relaxed)
        s.retainedFDs = retainedFDs.load(ordering: .relaxed)
        return s
    }
}

extension Atomic where Value == Int {
    func add(_ amount: Int) {
        if amount != 0 { wrappingAdd(amount, ordering: .relaxed) }
    }
}
