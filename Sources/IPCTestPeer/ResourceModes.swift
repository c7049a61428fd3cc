import CSystemShims
import Glibc
import IPCTransport
import IPCWire

/// Modes that load a recorder with fds or channels, for `ipcscope record -- IPCTestPeer fd-flood|channel-churn N`
/// (no takeover: the channels are this process's own socketpairs, which the preload library hands to the
/// recorder). Both ends live in this process, so "this process leaked nothing" covers both peers; the
/// recorder is the parent, whose open fds and resident memory are read from /proc before and after.
/// Prints one line the test parses:
///     recorder-fds before=B after=A self-fds before=b after=a recorder-rss-kib before=R after=r
enum ResourceModes {
    /// One channel, `count` messages each carrying one fd (the read end of a new pipe); at most 64 messages
    /// unacknowledged at a time, as a LibIPC sender would keep below the peer's limits.
    static func fdFlood(count: Int) {
        // Taken while the recorder is idle: counted with a channel open it could include an fd still in
        // flight (the control connection that handed the channel over closes on the recorder's own time).
        let recorderBefore = Recorder.openFDCount()
        let pair = makeChannel()
        let (sender, receiver) = (pair.sender, pair.receiver)
        roundTrip(sender, receiver)
        let selfBefore = Descriptor.openDescriptors().count
        let rssBefore = Recorder.residentKiB()

        var received = 0
        var sent = 0
        while received < count {
            while sent < count, sent - received < 64 {
                var ends: [Int32] = [0, 0]
                guard ipcs_pipe2(&ends, O_CLOEXEC) == 0 else { fail("pipe2: errno \(errno)") }
                close(ends[1])
                PeerModes.send(sender, message, [ends[0]])
                sent += 1
            }
            switch receiver.receive(timeout: PeerModes.receiveTimeout) {
            case .message(_, let fds):
                guard fds.count == 1 else { fail("fd-flood: message \(received) carried \(fds.count) fds") }
                Descriptor.closeAll(fds)
                received += 1
            case let other:
                fail("fd-flood: message \(received): \(other)")
            }
        }
        // The receiver acknowledges as it reads; once every ack is back the sender holds no fd.
        guard waitUntil({ sender.statistics.retainedFDs == 0 }) else {
            fail("fd-flood: \(sender.statistics.retainedFDs) fds never acknowledged")
        }
        // This process is measured with the channel still open (every fd it received is closed by now); the
        // recorder once the channel is closed too, back at its idle count.
        let selfAfter = Descriptor.openDescriptors().count
        sender.close()
        receiver.close()
        report(recorderBefore: recorderBefore, rssBefore: rssBefore, selfBefore: selfBefore, selfNow: selfAfter)
    }

    /// `count` channels one after another: one message each way on each, then both ends closed.
    static func channelChurn(count: Int) {
        let recorderInitial = Recorder.openFDCount()
        // The first channel warms the recorder up (threads, buffers), so "before" is its steady state.
        let warmup = makeChannel()
        roundTrip(warmup.sender, warmup.receiver)
        roundTrip(warmup.receiver, warmup.sender)
        warmup.sender.close()
        warmup.receiver.close()
        guard waitUntil({ Recorder.openFDCount() == recorderInitial }) else { fail("channel-churn: the warm-up channel never closed") }
        // After the warm-up: the preload library keeps its connection to the recorder from the first channel on.
        let selfBefore = Descriptor.openDescriptors().count
        let recorderBefore = Recorder.openFDCount()
        let rssBefore = Recorder.residentKiB()
        for _ in 0..<count {
            let pair = makeChannel()
            roundTrip(pair.sender, pair.receiver)
            roundTrip(pair.receiver, pair.sender)
            pair.sender.close()
            pair.receiver.close()
        }
        report(recorderBefore: recorderBefore, rssBefore: rssBefore, selfBefore: selfBefore)
    }

    /// Channels opened and closed and fds flooded through one long-lived channel, for `seconds`; the recorder's
    /// resident memory is sampled after every round. Prints:
    ///     soak rounds=N channels=C fds=F recorder-rss-kib first=R1 last=R2 max=R3 every-20-rounds=R,R,…
    /// `first` is taken after the first round, so one-time growth (threads, buffers) is not counted as a trend.
    static func soak(seconds: Int) {
        let long = makeChannel()
        roundTrip(long.sender, long.receiver)
        var start = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        var rounds = 0, channels = 0, fds = 0
        var first = 0, last = 0, peak = 0
        var samples: [Int] = []
        while true {
            for _ in 0..<50 {
                let pair = makeChannel()
                roundTrip(pair.sender, pair.receiver)
                roundTrip(pair.receiver, pair.sender)
                pair.sender.close()
                pair.receiver.close()
                channels += 1
            }
            for _ in 0..<1000 {
                var ends: [Int32] = [0, 0]
                guard ipcs_pipe2(&ends, O_CLOEXEC) == 0 else { fail("pipe2: errno \(errno)") }
                close(ends[1])
                PeerModes.send(long.sender, message, [ends[0]])
                guard case .message(_, let received) = long.receiver.receive(timeout: PeerModes.receiveTimeout) else { fail("soak: no message") }
                Descriptor.closeAll(received)
                fds += 1
            }
            rounds += 1
            last = Recorder.residentKiB()
            if rounds == 1 { first = last }
            if rounds % 20 == 0 { samples.append(last) }
            peak = max(peak, last)
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            if now.tv_sec - start.tv_sec >= seconds { break }
        }
        print("soak rounds=\(rounds) channels=\(channels) fds=\(fds) recorder-rss-kib first=\(first) last=\(last) max=\(peak) every-20-rounds=\(samples.map(String.init).joined(separator: ","))")
        long.sender.close()
        long.receiver.close()
    }

    private static func makeChannel() -> (sender: IPCTransport, receiver: IPCTransport) {
        do {
            let pair = try IPCTransport.makePair()
            let receiver = try IPCTransport(adopting: pair.peer)
            return (pair.transport, receiver)
        } catch {
            fail("socketpair: \(error)")
        }
    }

    /// A message with a real envelope (magic, id), so the recorder classifies the channel as LibIPC and parses it.
    static let message: [UInt8] = [0x78, 0x56, 0x34, 0x12, 1, 0, 0, 0, 7]

    private static func roundTrip(_ from: IPCTransport, _ to: IPCTransport) {
        PeerModes.send(from, message, [])
        guard case .message = to.receive(timeout: PeerModes.receiveTimeout) else { fail("no message through the channel") }
    }

    /// Waits (bounded; it ends as soon as they match) for the recorder and this process to be back at their
    /// earlier fd counts, and prints the figures. `selfBefore` counts what this process should hold now.
    private static func report(recorderBefore: Int, rssBefore: Int, selfBefore: Int, selfNow: Int? = nil) {
        _ = waitUntil({ Recorder.openFDCount() == recorderBefore })
        if selfNow == nil { _ = waitUntil({ Descriptor.openDescriptors().count == selfBefore }) }
        let line = "recorder-fds before=\(recorderBefore) after=\(Recorder.openFDCount()) "
            + "self-fds before=\(selfBefore) after=\(selfNow ?? Descriptor.openDescriptors().count) "
            + "recorder-rss-kib before=\(rssBefore) after=\(Recorder.residentKiB())"
        print(line)
    }

    /// Polls `condition` every millisecond for up to 30 s: a bound for a broken run, not a verdict.
    private static func waitUntil(_ condition: () -> Bool) -> Bool {
        for _ in 0..<30_000 {
            if condition() { return true }
            usleep(1000)
        }
        return condition()
    }

    /// The recording process: this process's parent under `ipcscope record -- IPCTestPeer …`.
    enum Recorder {
        static func openFDCount() -> Int {
            guard let directory = opendir("/proc/\(getppid())/fd") else { fail("cannot list the recorder's fds: errno \(errno)") }
            defer { closedir(directory) }
            var count = 0
            while let entry = readdir(directory) {
                if entry.pointee.d_name.0 != CChar(UInt8(ascii: ".")) { count += 1 }
            }
            return count
        }

        static func residentKiB() -> Int {
            guard let file = fopen("/proc/\(getppid())/status", "r") else { return -1 }
            defer { fclose(file) }
            var line = [CChar](repeating: 0, count: 256)
            while fgets(&line, Int32(line.count), file) != nil {
                let text = String(cString: line)
                if text.hasPrefix("VmRSS:") {
                    return Int(text.dropFirst(6).filter(\.isNumber)) ?? -1
                }
            }
            return -1
        }
    }
}
