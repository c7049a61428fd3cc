import Glibc
import Synchronization

/// Which program of a channel has closed its end completely, and the one thing the proxy does about it at
/// once: the other program's writes must fail (EPIPE, SIGPIPE) from that instant, as they would without
/// the proxy, not be accepted by the proxy and dropped.
///
/// A program's close shuts both halves of the proxy's socket facing it (POLLHUP); a half-close (SHUT_WR)
/// shuts only its read half (POLLRDHUP), stays a half-close and is handled by the relay at EOF.
final class ChannelHangUps: Sendable {
    /// The proxy's sockets facing A and B. Used only while the channel has not closed them: by the hang-up
    /// watcher (unwatched before the close) and by the relay threads (which end before it).
    private let endA: Int32
    private let endB: Int32
    private let hungUpA = Atomic<Bool>(false)
    private let hungUpB = Atomic<Bool>(false)

    init(endA: Int32, endB: Int32) {
        self.endA = endA
        self.endB = endB
    }

    private func end(facing side: ChannelSide) -> Int32 { side == .a ? endA : endB }

    func hasHungUp(_ side: ChannelSide) -> Bool {
        side == .a ? hungUpA.load(ordering: .acquiring) : hungUpB.load(ordering: .acquiring)
    }

    /// Sets the flag; true when it was not set yet.
    private func markHungUp(_ side: ChannelSide) -> Bool {
        let wasSet = side == .a ? hungUpA.exchange(true, ordering: .acquiringAndReleasing)
                                : hungUpB.exchange(true, ordering: .acquiringAndReleasing)
        return !wasSet
    }

    /// Program `side` closed its end. Shutting the read half of the proxy's socket facing the other
    /// program sets the send-shutdown of that program's socket, so its writes fail at once, and wakes the
    /// relay reading from it, which then stops: nothing it would read could be delivered.
    func programHungUp(_ side: ChannelSide) {
        guard markHungUp(side) else { return }
        shutdown(end(facing: side.other), Int32(SHUT_RD))
    }

    /// Whether program `side` has closed its end, looking at the socket now (POLLHUP) in case the watcher
    /// has not run yet, and acting on it if so. Called by a relay at the end of its direction.
    func checkHungUp(_ side: ChannelSide) -> Bool {
        var entry = pollfd(fd: end(facing: side), events: 0, revents: 0)
        if poll(&entry, 1, 0) == 1, entry.revents & Int16(POLLHUP) != 0 { programHungUp(side) }
        return hasHungUp(side)
    }
}

extension ChannelSide {
    var other: ChannelSide { self == .a ? .b : .a }
}
