import CSystemShims
import Glibc
import IPCTransport
import IPCWire
import SystemSupport

/// Hostile or unusual peers for `ipcscope record -- IPCTestPeer MODE …` (no takeover): both ends are this
/// process's own socketpair, which the preload library hands to the recorder, so every byte and fd below
/// crosses the real proxy. Each mode checks what arrived against what was sent and exits 3 on a difference;
/// on success it prints one line of `name=value` figures the test parses (ProxyHostileTests).
enum ProxyHostileModes {
    /// `fds-without-frame`: 3 fds sent with a payload byte of a frame that claims none — no frame ever claims
    /// them — between two valid frames; the receiver must get every byte and the 3 fds, and the other
    /// direction must keep working.
    static func fdsWithoutFrame() {
        let pair = Channel()
        let before = FrameEncoder.payloadFrame(Array("before: a valid message".utf8))
        let unclaimed = FrameEncoder.payloadFrame([UInt8](repeating: 0x33, count: 16), fdCount: 0)
        let after = FrameEncoder.payloadFrame(Array("after: still relayed".utf8))
        let pipes = (0..<3).map { _ in PipeEnds() }
        send(pair.a, before)
        send(pair.a, Array(unclaimed[0..<16]))
        send(pair.a, Array(unclaimed[16...]), fds: pipes.map(\.read))
        send(pair.a, after)
        shutdown(pair.a, Int32(SHUT_WR))
        let received = Received.all(pair.b)
        guard received.bytes == before + unclaimed + after else { fail("fds-without-frame: the bytes arrived changed") }
        guard received.inodes == pipes.map(\.inode) else {
            fail("fds-without-frame: fds \(received.inodes), sent \(pipes.map(\.inode))")
        }
        received.closeFDs()
        let reply = FrameEncoder.payloadFrame(Array("the other way".utf8))
        send(pair.b, reply)
        shutdown(pair.b, Int32(SHUT_WR))
        guard Received.all(pair.a).bytes == reply else { fail("fds-without-frame: the reply arrived changed") }
        print("fds-without-frame bytes=\(received.bytes.count) fds=\(received.fds.count)")
    }

    /// `fd-burst SENDS`: SENDS sends of 253 fds each (the kernel's most per sendmsg), every one with one byte
    /// of a frame that claims none, all in flight before the receiver reads. Prints the recorder's fd count
    /// idle before and after (both ends closed), so the test sees none of the SENDS × 253 stayed there.
    static func fdBurst(sends: Int) {
        let recorderBefore = ResourceModes.Recorder.openFDCount()
        let pipe = PipeEnds()
        do {
            let pair = Channel()
            let before = FrameEncoder.payloadFrame(Array("before: a valid message".utf8))
            let carrier = FrameEncoder.payloadFrame([UInt8](repeating: 0x44, count: sends), fdCount: 0)
            send(pair.a, before + carrier[0..<FrameHeader.size])
            for index in 0..<sends {
                send(pair.a, [carrier[FrameHeader.size + index]], fds: Array(repeating: pipe.read, count: 253))
            }
            let reply = FrameEncoder.payloadFrame(Array("the other way".utf8))
            send(pair.b, reply)
            shutdown(pair.b, Int32(SHUT_WR))
            guard Received.all(pair.a).bytes == reply else { fail("fd-burst: the reply arrived changed") }
            shutdown(pair.a, Int32(SHUT_WR))
            let received = Received.all(pair.b)
            guard received.bytes == before + carrier else { fail("fd-burst: the bytes arrived changed") }
            guard received.fds.count == sends * 253, received.inodes.allSatisfy({ $0 == pipe.inode }) else {
                fail("fd-burst: \(received.fds.count) fds arrived, \(sends * 253) sent")
            }
            received.closeFDs()
            pair.close()
            print("fd-burst fds=\(received.fds.count) ", terminator: "")
        }
        let settled = waitUntil { ResourceModes.Recorder.openFDCount() == recorderBefore }
        print("recorder-fds before=\(recorderBefore) after=\(ResourceModes.Recorder.openFDCount()) settled=\(settled ? 1 : 0)")
    }

    /// `stop-reading`: B never reads while A writes 64 KiB frames whenever its socket has room; meanwhile B
    /// sends 1 000 frames to A, which reads them. A stops writing once its socket has had no room for a
    /// second (that only ends the loop; the verdict is in the figures: bytes A got rid of, the recorder's
    /// resident memory). Then B reads everything A wrote, checked byte for byte.
    static func stopReading() {
        let pair = Channel()
        let rssBefore = ResourceModes.Recorder.residentKiB()
        do { try Descriptor.setNonBlocking(pair.a, true) } catch { fail("stop-reading: \(error)") }
        var frame = FrameEncoder.payloadFrame([UInt8](repeating: 0, count: 65_536 - FrameHeader.size))
        var written = 0
        var framesWritten = 0
        var offsetInFrame = 0
        var rssWhileStalled = 0
        while written < 64 << 20 {
            if offsetInFrame == 0 { stamp(&frame, framesWritten) }
            let count = frame[offsetInFrame...].withUnsafeBytes { Glibc.send(pair.a, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count > 0 {
                written += count
                offsetInFrame += count
                if offsetInFrame == frame.count { offsetInFrame = 0; framesWritten += 1 }
                continue
            }
            guard count < 0, errno == EAGAIN || errno == EWOULDBLOCK else { fail("stop-reading: send: errno \(errno)") }
            var room = pollfd(fd: pair.a, events: Int16(POLLOUT), revents: 0)
            if poll(&room, 1, 1000) == 0 {
                rssWhileStalled = ResourceModes.Recorder.residentKiB()
                break
            }
        }
        // The other direction, while A→B is stuck: 1 000 frames, each read by A as it comes.
        do { try Descriptor.setNonBlocking(pair.a, false) } catch { fail("stop-reading: \(error)") }
        var otherWay = 0
        for index in 0..<1000 {
            let small = FrameEncoder.payloadFrame(Array("reply \(index)".utf8))
            send(pair.b, small)
            guard readExactly(pair.a, small.count) == small else { fail("stop-reading: reply \(index) arrived changed") }
            otherWay += 1
        }
        let rssAfterOtherWay = ResourceModes.Recorder.residentKiB()
        // B drains everything (on a thread) and checks each frame's stamp while A finishes the frame in progress.
        let total = framesWritten + (offsetInFrame != 0 ? 1 : 0)
        let receiver = pair.b
        let drainer = startThread {
            var expected = FrameEncoder.payloadFrame([UInt8](repeating: 0, count: 65_536 - FrameHeader.size))
            for index in 0..<total {
                stamp(&expected, index)
                guard readExactly(receiver, expected.count) == expected else { fail("stop-reading: frame \(index) arrived changed") }
            }
            guard readExactly(receiver, 1).isEmpty else { fail("stop-reading: more bytes than were written") }
        }
        if offsetInFrame != 0 {
            sendBlocking(pair.a, Array(frame[offsetInFrame...]))
            written += frame.count - offsetInFrame
        }
        shutdown(pair.a, Int32(SHUT_WR))
        drainer.join()
        let checked = total
        print("stop-reading written=\(written) frames=\(checked) other-way=\(otherWay) "
              + "recorder-rss-kib before=\(rssBefore) stalled=\(rssWhileStalled) after-other-way=\(rssAfterOtherWay)")
    }

    /// `flood FRAMES PAYLOAD`: A writes FRAMES frames of PAYLOAD bytes as fast as it can (64 KiB writes),
    /// B reads as fast as it can on another thread and checks every frame; the recorder's resident memory is
    /// sampled every 4 096 frames. Prints the figures and B's verdict.
    static func flood(frames: Int, payload: Int) {
        let pair = Channel()
        let reader = pair.b
        let expectedBytes = frames * (FrameHeader.size + payload)
        let drainer = startThread {
            var checked = 0
            var pending: [UInt8] = []
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
            defer { buffer.deallocate() }
            var total = 0
            while true {
                let count = recv(reader, buffer.baseAddress, buffer.count, 0)
                if count == 0 { break }
                guard count > 0 else { fail("flood: recv: errno \(errno)") }
                total += count
                pending += UnsafeRawBufferPointer(rebasing: buffer[0..<count])
                var start = 0
                while pending.count - start >= FrameHeader.size + payload {
                    let frameBytes = pending[start..<(start + FrameHeader.size + payload)]
                    guard Array(frameBytes) == floodFrame(checked, payload) else { fail("flood: frame \(checked) arrived changed") }
                    checked += 1
                    start += FrameHeader.size + payload
                }
                pending.removeFirst(start)
            }
            guard checked == frames, total == expectedBytes, pending.isEmpty else {
                fail("flood: \(checked) frames, \(total) bytes arrived; \(frames) frames, \(expectedBytes) bytes sent")
            }
        }
        let rssBefore = ResourceModes.Recorder.residentKiB()
        var rssMax = rssBefore
        var chunk: [UInt8] = []
        chunk.reserveCapacity(1 << 16)
        for index in 0..<frames {
            chunk += floodFrame(index, payload)
            if chunk.count >= 1 << 16 || index == frames - 1 {
                sendBlocking(pair.a, chunk)
                chunk.removeAll(keepingCapacity: true)
            }
            if index % 4096 == 0 { rssMax = max(rssMax, ResourceModes.Recorder.residentKiB()) }
        }
        shutdown(pair.a, Int32(SHUT_WR))
        drainer.join()
        rssMax = max(rssMax, ResourceModes.Recorder.residentKiB())
        print("flood frames=\(frames) bytes=\(expectedBytes) recorder-rss-kib before=\(rssBefore) max=\(rssMax)")
    }

    /// Frame `index` of a flood: an envelope (magic, the index as id) and a byte pattern from the index.
    static func floodFrame(_ index: Int, _ payload: Int) -> [UInt8] {
        var body = [UInt8](repeating: UInt8(truncatingIfNeeded: index &* 31 &+ 7), count: max(payload, 8))
        withUnsafeBytes(of: UInt32(0x1234_5678).littleEndian) { body.replaceSubrange(0..<4, with: $0) }
        withUnsafeBytes(of: UInt32(truncatingIfNeeded: index).littleEndian) { body.replaceSubrange(4..<8, with: $0) }
        return FrameEncoder.payloadFrame(body)
    }

    /// `byte-writes`: for every position k of a 28-byte frame with one fd, the frame is sent one byte per
    /// write, the fd with byte k; B reads one byte at a time and checks the bytes, the fd's inode, and where
    /// it arrived: never before the frame's first byte, never after byte k. B acknowledges each fd (B→A).
    static func byteWrites() {
        let pair = Channel()
        let pipe = PipeEnds()
        let frameLength = FrameHeader.size + 16
        var latest = 0
        for position in 0..<frameLength {
            var payload = [UInt8](repeating: UInt8(position), count: 16)
            withUnsafeBytes(of: UInt32(0x1234_5678).littleEndian) { payload.replaceSubrange(0..<4, with: $0) }
            let frame = FrameEncoder.payloadFrame(payload, fdCount: 1)
            for (offset, byte) in frame.enumerated() {
                send(pair.a, [byte], fds: offset == position ? [pipe.read] : [])
            }
            var got: [UInt8] = []
            var arrivedAt: Int?
            while got.count < frame.count {
                let chunk = receive(pair.b, upTo: 1)
                guard chunk.bytes.count == 1 else { fail("byte-writes: EOF inside frame \(position)") }
                if !chunk.fds.isEmpty {
                    guard arrivedAt == nil, chunk.fds.count == 1 else { fail("byte-writes: frame \(position): more than one fd") }
                    guard (try? Descriptor.info(chunk.fds[0]).inode) == pipe.inode else { fail("byte-writes: frame \(position): another file") }
                    Descriptor.closeAll(chunk.fds)
                    arrivedAt = got.count
                }
                got += chunk.bytes
            }
            guard got == frame else { fail("byte-writes: frame \(position) arrived changed") }
            guard let at = arrivedAt, at <= position else {
                fail("byte-writes: frame \(position): the fd arrived with byte \(arrivedAt.map(String.init) ?? "none")")
            }
            latest = max(latest, at)
            let ack = FrameEncoder.acknowledgementFrame(count: 1)
            send(pair.b, ack)
            guard readExactly(pair.a, ack.count) == ack else { fail("byte-writes: ack \(position) arrived changed") }
        }
        print("byte-writes frames=\(frameLength) latest-fd-byte=\(latest)")
    }

    /// `half-close`: A sends a frame and half-closes; B reads it and EOF, then sends 100 frames, which A —
    /// still reading — gets in full, then EOF.
    static func halfClose() {
        let pair = Channel()
        let last = FrameEncoder.payloadFrame(Array("last words before SHUT_WR".utf8))
        send(pair.a, last)
        shutdown(pair.a, Int32(SHUT_WR))
        guard Received.all(pair.b).bytes == last else { fail("half-close: A's frame arrived changed") }
        var sent: [UInt8] = []
        for index in 0..<100 {
            let frame = FrameEncoder.payloadFrame(Array("still talking \(index)".utf8))
            send(pair.b, frame)
            sent += frame
        }
        shutdown(pair.b, Int32(SHUT_WR))
        let back = Received.all(pair.a)
        guard back.bytes == sent else { fail("half-close: \(back.bytes.count) of \(sent.count) bytes came back") }
        print("half-close frames-after=100 bytes-after=\(back.bytes.count)")
    }

    // MARK: helpers

    /// A socketpair of this process (so, under the preload library, a relayed channel); closed at exit.
    struct Channel {
        let a: Int32
        let b: Int32
        init() {
            var ends: [Int32] = [-1, -1]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &ends) == 0 else {
                fail("socketpair: errno \(errno)")
            }
            (a, b) = (ends[0], ends[1])
        }

        func close() {
            Descriptor.close(a)
            Descriptor.close(b)
        }
    }

    struct PipeEnds {
        let read: Int32
        let inode: UInt64
        init() {
            var ends: [Int32] = [0, 0]
            guard ipcs_pipe2(&ends, O_CLOEXEC) == 0 else { fail("pipe2: errno \(errno)") }
            close(ends[1])
            read = ends[0]
            do { inode = try Descriptor.info(read).inode } catch { fail("fstat: \(error)") }
        }
    }

    /// Everything one side reads until EOF: bytes, and the fds with their inodes.
    struct Received {
        var bytes: [UInt8] = []
        var fds: [Int32] = []
        var inodes: [UInt64] = []

        static func all(_ socket: Int32) -> Received {
            var received = Received()
            while true {
                let chunk = receive(socket, upTo: 1 << 16)
                received.fds += chunk.fds
                for fd in chunk.fds {
                    do { received.inodes.append(try Descriptor.info(fd).inode) } catch { fail("fstat: \(error)") }
                }
                if chunk.bytes.isEmpty { return received }
                received.bytes += chunk.bytes
            }
        }

        func closeFDs() { Descriptor.closeAll(fds) }
    }

    /// One blocking recvmsg of at most `count` bytes, with room for 253 fds.
    static func receive(_ socket: Int32, upTo count: Int) -> (bytes: [UInt8], fds: [Int32]) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 16)
        defer { buffer.deallocate() }
        do {
            let chunk = try SocketMessaging.receiveMessage(socket, into: buffer, maxFDs: 253, flags: Int32(MSG_CMSG_CLOEXEC))
            guard !chunk.controlTruncated else { fail("recvmsg: fds truncated (MSG_CTRUNC)") }
            return (Array(buffer[0..<chunk.byteCount]), chunk.fds)
        } catch {
            fail("recvmsg: \(error)")
        }
    }

    /// Reads exactly `count` bytes (fewer only at EOF), failing on any fd.
    static func readExactly(_ socket: Int32, _ count: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        while bytes.count < count {
            let chunk = receive(socket, upTo: count - bytes.count)
            guard chunk.fds.isEmpty else { fail("an fd came where none was sent") }
            if chunk.bytes.isEmpty { break }
            bytes += chunk.bytes
        }
        return bytes
    }

    /// A blocking send of all of `bytes` with `fds` on the first byte.
    static func send(_ socket: Int32, _ bytes: [UInt8], fds: [Int32] = []) {
        do {
            let sent = try bytes.withUnsafeBytes { (buffer) throws(SystemError) in
                try SocketMessaging.sendMessage(socket, bytes: buffer, fds: fds, flags: Int32(MSG_NOSIGNAL))
            }
            if sent < bytes.count { sendBlocking(socket, Array(bytes[sent...])) }
        } catch {
            fail("sendmsg: \(error)")
        }
    }

    static func sendBlocking(_ socket: Int32, _ bytes: [UInt8]) {
        do { try Descriptor.writeAll(socket, bytes) } catch { fail("write: \(error)") }
    }

    /// Writes the frame number into the first payload bytes of a stop-reading frame.
    static func stamp(_ frame: inout [UInt8], _ index: Int) {
        withUnsafeBytes(of: UInt32(0x1234_5678).littleEndian) { frame.replaceSubrange(12..<16, with: $0) }
        withUnsafeBytes(of: UInt64(index).littleEndian) { frame.replaceSubrange(16..<24, with: $0) }
    }

    static func startThread(_ body: @escaping @Sendable () -> Void) -> OSThread {
        do { return try OSThread(name: "peer") { body() } } catch { fail("thread: \(error)") }
    }

    /// Polls `condition` every millisecond for up to 30 s: a bound for a broken run, not a verdict.
    static func waitUntil(_ condition: () -> Bool) -> Bool {
        for _ in 0..<30_000 {
            if condition() { return true }
            usleep(1000)
        }
        return condition()
    }
}
