import IPCTransport
import IPCWire
import Synchronization
import TraceFormat

/// What is known of who holds one side's socket.
final class SideHolder: Sendable {
    /// 0: not looked up; 1: looked up before that side sent; 2: looked up when it sent.
    let lookup = Atomic<UInt8>(0)
    /// The socket travelled in a frame since the last look-up that found a holder.
    let travelled = Atomic<Bool>(false)
    /// The holder found last, -1 when none.
    let lastPID = Atomic<Int32>(-1)
}

extension ChannelShared {
    func holder(_ side: ChannelSide) -> SideHolder { side == .a ? sideA : sideB }

    /// Which sides a chunk from `sender` should have looked up: the sender the first time it sends (since
    /// its socket last travelled), the receiver while nothing was looked up for it. Each at most once.
    func holderLookups(forChunkFrom sender: ChannelSide) -> (sender: Bool, receiver: Bool) {
        let sending = holder(sender)
        let receiving = holder(sender == .a ? .b : .a)
        let lookSender = sending.lookup.load(ordering: .relaxed) != 2
            && sending.lookup.exchange(2, ordering: .relaxed) != 2
        let lookReceiver = receiving.lookup.load(ordering: .relaxed) == 0
            && receiving.lookup.compareExchange(expected: 0, desired: 1, ordering: .relaxed).exchanged
        return (lookSender, lookReceiver)
    }

    /// `side`'s socket travelled in a frame: whoever holds it when it next sends is its new process.
    func noteSideTravelled(_ side: ChannelSide) {
        holder(side).travelled.store(true, ordering: .relaxed)
        holder(side).lookup.store(0, ordering: .releasing)
    }

    /// Finds, on a helper thread, the process holding the program's socket of `side` (every /proc/PID/fd
    /// link to it) and reports it. After a transfer a holder other than the previous one is preferred:
    /// the old owner may not have closed its copy yet.
    func lookUpHolder(of side: ChannelSide, bySending: Bool, direction: Direction, sink: any RelayEventSink) {
        guard let inode = programSideInodes[side] else { return }
        let state = holder(side)
        let channel = id
        do {
            _ = try OSThread(name: "ipcscope-whois") {
                let afterTransfer = state.travelled.exchange(false, ordering: .relaxed)
                let previous = state.lastPID.load(ordering: .relaxed)
                let holders = SocketHolders.holders(ofInode: inode, excluding: afterTransfer ? previous : nil)
                guard let pid = afterTransfer ? (holders.first { $0 != previous } ?? holders.first) : holders.first else {
                    // Nobody holds it right now (in flight inside a frame): the next look-up tells.
                    if afterTransfer { state.travelled.store(true, ordering: .relaxed) }
                    return
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
