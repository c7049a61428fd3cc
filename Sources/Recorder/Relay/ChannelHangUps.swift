import CSystemShims
import Glibc
import Synchronization

/// Which program of a channel has closed its end completely, and the one thing the proxy does about it at
/// once: the other program's writes must fail (EPIPE, SIGPIPE) from that instant, as they would without
/// the proxy, not be accepted by the proxy and dropped.
///
/// A program's close shuts both halves of the proxy's socket facing it (POLLHUP); a half-close (SHUT_WR)
/// shuts only its read half (POLLRDHUP), stays a half-close and is handled by the relay at EOF.
///
/// The relay reading from a program notices its close: at the EOF it reads, or — when it is blocked
/// writing to a receiver that does not read, and so reads nothing — in the poll it waits in then
/// (DirectionRelay's slow path). Nothing watches the sockets otherwise, so relaying costs nothing extra.
final class ChannelHangUps: Sendable {
    /// The proxy's sockets facing A and B. Used only by the relay threads, which end before the channel
    /// closes them.
    private let endA: Int32
    private let endB: Int32
    /// Per side: `hungUp`, and `stoppedSendingFirst` (it had closed or half-closed before the other
    /// program's close made the proxy shut reading from it). Read lock-free on every chunk.
    private let stateA = Atomic<UInt8>(0)
    private let stateB = Atomic<UInt8>(0)
    private static let hungUp: UInt8 = 1
    private static let stoppedSendingFirst: UInt8 = 2
    /// Serialises hang-ups, which both relays may report at once.
    private let changing = Mutex(())

    init(endA: Int32, endB: Int32) {
        self.endA = endA
        self.endB = endB
    }

    private func end(facing side: ChannelSide) -> Int32 { side == .a ? endA : endB }

    private func state(_ side: ChannelSide) -> UInt8 {
        side == .a ? stateA.load(ordering: .acquiring) : stateB.load(ordering: .acquiring)
    }

    private func add(_ bit: UInt8, to side: ChannelSide) {
        if side == .a {
            stateA.bitwiseOr(bit, ordering: .releasing)
        } else {
            stateB.bitwiseOr(bit, ordering: .releasing)
        }
    }

    func hasHungUp(_ side: ChannelSide) -> Bool {
        state(side) & Self.hungUp != 0
    }

    /// Whether the relay must stop reading from `sender`: the other program closed, and `sender` was still
    /// sending then. An EOF read after it is the proxy's own shutdown, not `sender`'s.
    func readsWereShut(from sender: ChannelSide) -> Bool {
        hasHungUp(sender.opposite) && state(sender) & Self.stoppedSendingFirst == 0
    }

    /// Program `side` closed its end (its socket reports POLLHUP). Shutting the read half of the proxy's socket facing the other
    /// program sets the send-shutdown of that program's socket, so its writes fail at once, and wakes the
    /// relay reading from it, which then stops: nothing it would read could be delivered.
    func programHungUp(_ side: ChannelSide) {
        changing.withLock { _ in
            guard !hasHungUp(side) else { return }
            let other = end(facing: side.opposite)
            // Whether the other program had already stopped sending is visible only before our shutdown.
            var entry = pollfd(fd: other, events: Int16(IPCS_POLLRDHUP), revents: 0)
            if poll(&entry, 1, 0) == 1, entry.revents & Int16(IPCS_POLLRDHUP | POLLHUP) != 0 {
                add(Self.stoppedSendingFirst, to: side.opposite)
            }
            add(Self.hungUp, to: side)
            shutdown(other, Int32(SHUT_RD))
        }
    }

    /// Whether program `side` has closed its end, looking at the socket now (POLLHUP) and acting on it if
    /// so. Called by the relay reading from `side` at the end of its direction.
    func checkHungUp(_ side: ChannelSide) -> Bool {
        var entry = pollfd(fd: end(facing: side), events: 0, revents: 0)
        if poll(&entry, 1, 0) == 1, entry.revents & Int16(POLLHUP) != 0 { programHungUp(side) }
        return hasHungUp(side)
    }
}

extension ChannelSide {
    var opposite: ChannelSide { self == .a ? .b : .a }
}
