import Glibc
import IPCTransport
import IPCWire
import Synchronization
import TraceFormat

/// What is known of who holds one side's socket.
final class SideHolder: Sendable {
    /// A `State` raw value.
    let lookup = Atomic<UInt8>(State.none.rawValue)
    /// The holder found last, -1 when none.
    let lastPID = Atomic<Int32>(-1)

    enum State: UInt8 {
        /// Not looked up yet.
        case none = 0
        /// Looked up before that side sent anything.
        case beforeSending = 1
        /// Looked up when that side sent: nothing more to do.
        case bySending = 2
        /// Its socket travelled in a frame: looked up again (only) when it next sends.
        case travelled = 3
    }
}

/// Which holder look-ups a chunk starts.
struct HolderLookups {
    var sender = false
    /// The sender's socket travelled since its last look-up.
    var senderTravelled = false
    var receiver = false
}

extension ChannelShared {
    func holder(_ side: ChannelSide) -> SideHolder { side == .a ? sideA : sideB }

    /// Which sides a chunk from `sender` should have looked up: the sender the first time it sends (and
    /// the first time after its socket travelled), the receiver while nothing was looked up for it. Each at
    /// most once. Decided here, on the relay thread, so that concurrent look-ups cannot mix their states.
    func holderLookups(forChunkFrom sender: ChannelSide) -> HolderLookups {
        var lookups = HolderLookups()
        let sending = holder(sender)
        if sending.lookup.load(ordering: .relaxed) != SideHolder.State.bySending.rawValue {
            let before = sending.lookup.exchange(SideHolder.State.bySending.rawValue, ordering: .relaxed)
            lookups.sender = before != SideHolder.State.bySending.rawValue
            lookups.senderTravelled = before == SideHolder.State.travelled.rawValue
        }
        let receiving = holder(sender == .a ? .b : .a)
        if receiving.lookup.load(ordering: .relaxed) == SideHolder.State.none.rawValue {
            lookups.receiver = receiving.lookup.compareExchange(
                expected: SideHolder.State.none.rawValue, desired: SideHolder.State.beforeSending.rawValue,
                ordering: .relaxed).exchanged
        }
        return lookups
    }

    /// `side`'s socket travelled in a frame: whoever holds it when it next sends is its new process. Until
    /// then it is not looked up (it may be in flight, or still held by its previous owner).
    func noteSideTravelled(_ side: ChannelSide) {
        holder(side).lookup.store(SideHolder.State.travelled.rawValue, ordering: .relaxed)
    }

    /// Reports the process of `side`, on a helper thread (its /proc files are read there): `writer`, the
    /// process the kernel says wrote the chunk (SCM_CREDENTIALS), when `side` sends; else the process holding
    /// the program's socket of `side` (every /proc/PID/fd link to it). After a transfer a holder other than
    /// the previous one is preferred: the old owner may not have closed its copy yet.
    func lookUpHolder(
        of side: ChannelSide, bySending: Bool, afterTransfer: Bool, writer: Int32? = nil, direction: Direction,
        sink: any RelayEventSink
    ) {
        // Credentials of pid 0 came from no process (sent before SO_PASSCRED was set); ours are our own writes.
        let writer = writer.flatMap { $0 > 0 && $0 != getpid() ? $0 : nil }
        guard let inode = programSideInodes[side] ?? (writer != nil ? 0 : nil) else { return }
        let state = holder(side)
        let channel = id
        let previous = state.lastPID.load(ordering: .relaxed)
        do {
            _ = try OSThread(name: "ipcscope-whois") {
                let holders: [Int32]
                if let writer {
                    holders = [writer]
                    SocketHolders.remember(holders)  // a likely holder of its other sockets: asked first
                } else {
                    holders = SocketHolders.holders(ofInode: inode, excluding: afterTransfer ? previous : nil)
                }
                guard let pid = afterTransfer ? (holders.first { $0 != previous } ?? holders.first) : holders.first else {
                    return  // nobody holds it right now; the side stays as known
                }
                state.lastPID.store(pid, ordering: .relaxed)
                let identity = EndpointIdentity(side: side, pid: pid, bySending: bySending, afterTransfer: afterTransfer)
                sink.record(channel: channel, direction: direction, time: TraceClock.monotonicNanoseconds(),
                            .endpointIdentified(identity))
            }
        } catch {
            // No thread for the look-up: the side stays as known; the traffic is unaffected.
        }
    }
}
