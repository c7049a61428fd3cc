import CSystemShims
import Glibc
import IPCTransport
import IPCWire

/// The far end of every benchmark connection: a LibIPC-framed sink (stream cases) or echo (pingpong).
///
/// It listens on a Unix socket path (for connections through a proxy) and, when started by `IPCBench run`,
/// also takes connected socketpair ends over a control socket (SCM_RIGHTS) for the direct case, so every
/// transport ends in the same process and the same code. One blocking thread per connection.
enum BenchServer {
    static let receiveBufferSize = 256 * 1024

    /// Serves until the control socket closes (or forever without one).
    static func run(path: String, controlFD: Int32?, socketBufferSize: Int) throws(SystemError) -> Never {
        let listener = try BenchIO.listen(at: path)
        let acceptThread = try OSThread(name: "bench-accept") {
            while true {
                let client = ipcs_accept4(listener, Int32(SOCK_CLOEXEC.rawValue))
                if client < 0 {
                    if errno == EINTR || errno == ECONNABORTED { continue }
                    return
                }
                startConnection(client, socketBufferSize: socketBufferSize)
            }
        }
        guard let controlFD else {
            acceptThread.join()
            exit(0)
        }
        // Tell the orchestrator we listen, then take direct connections until it hangs up.
        try BenchIO.sendAll(controlFD, [0x52])
        let control = ControlMessageBuffer(maxFDs: 4)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8)
        while true {
            let chunk: ReceivedChunk
            do {
                chunk = try SocketMessaging.receiveMessage(controlFD, into: buffer, control: control,
                                                           flags: Int32(MSG_CMSG_CLOEXEC))
            } catch {
                break
            }
            if chunk.byteCount == 0 && chunk.fds.isEmpty { break }
            for fd in chunk.fds { startConnection(fd, socketBufferSize: socketBufferSize) }
        }
        unlink(path)
        exit(0)
    }

    private static func startConnection(_ fd: Int32, socketBufferSize: Int) {
        BenchIO.applyBufferSize(fd, socketBufferSize)
        do {
            _ = try OSThread(name: "bench-conn") {
                serve(fd)
                Descriptor.close(fd)
            }
        } catch {
            Descriptor.close(fd)
        }
    }

    /// Reads the hello frame, says ready, then sinks or echoes.
    static func serve(_ fd: Int32) {
        do {
            guard let payload = try BenchIO.receiveFrame(fd), let hello = BenchProtocol.parseHello(payload) else { return }
            try BenchIO.sendAll(fd, FrameEncoder.payloadFrame([]))
            let readSize = hello.readSize == 0 ? receiveBufferSize : min(Int(hello.readSize), receiveBufferSize)
            switch hello.mode {
            case .sink:
                let result = try sink(fd, readSize: readSize)
                try BenchIO.sendAll(fd, result.frame)
                shutdown(fd, Int32(SHUT_WR))
                // Wait for the client to close so our close cannot turn into a reset of unread data.
                var scratch: UInt8 = 0
                while (try? BenchIO.receive(fd, &scratch, 1)) ?? 0 > 0 {}
            case .echo:
                try echo(fd, readSize: readSize)
            }
        } catch {
            // The client went away: nothing to report, the client measures.
        }
    }

    /// Counts frames and payload bytes until end of stream, walking the headers without copying payloads.
    static func sink(_ fd: Int32, readSize: Int) throws(SystemError) -> BenchProtocol.StreamResult {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: receiveBufferSize, alignment: 16)
        defer { buffer.deallocate() }
        var header = (UInt64(0), UInt32(0))  // 12 bytes of room
        var headerFill = 0
        var payloadLeft: UInt64 = 0
        var frames: UInt64 = 0
        var payloadBytes: UInt64 = 0
        while true {
            let count = try BenchIO.receive(fd, buffer, readSize)
            if count == 0 { break }
            var index = 0
            while index < count {
                if payloadLeft > 0 {
                    let take = Int(min(payloadLeft, UInt64(count - index)))
                    payloadLeft -= UInt64(take)
                    index += take
                    if payloadLeft == 0 { frames += 1 }
                    continue
                }
                if headerFill == 0, count - index >= FrameHeader.size {
                    // Fast path: the whole header is in the buffer.
                    let size = UInt32(littleEndian: (buffer + index + 4).loadUnaligned(as: UInt32.self))
                    index += FrameHeader.size
                    payloadBytes += UInt64(size)
                    if size == 0 { frames += 1 } else { payloadLeft = UInt64(size) }
                    continue
                }
                let take = min(FrameHeader.size - headerFill, count - index)
                withUnsafeMutableBytes(of: &header) { raw in
                    (raw.baseAddress! + headerFill).copyMemory(from: buffer + index, byteCount: take)
                }
                headerFill += take
                index += take
                if headerFill == FrameHeader.size {
                    headerFill = 0
                    let size = withUnsafeBytes(of: &header) { raw in
                        UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
                    }
                    payloadBytes += UInt64(size)
                    if size == 0 { frames += 1 } else { payloadLeft = UInt64(size) }
                }
            }
        }
        return BenchProtocol.StreamResult(frames: frames, payloadBytes: payloadBytes)
    }

    /// Sends every complete frame back with one `send`, as soon as it is complete.
    static func echo(_ fd: Int32, readSize: Int) throws(SystemError) {
        var capacity = receiveBufferSize
        var buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        defer { buffer.deallocate() }
        var start = 0
        var end = 0
        while true {
            // Complete frames first.
            while end - start >= FrameHeader.size {
                let size = Int(UInt32(littleEndian: (buffer + start + 4).loadUnaligned(as: UInt32.self)))
                let total = FrameHeader.size + size
                guard end - start >= total else {
                    if total > capacity {
                        // Grow to hold the frame (LibIPC, too, buffers a message until it is complete).
                        var grown = capacity
                        while grown < total { grown *= 2 }
                        let bigger = UnsafeMutableRawPointer.allocate(byteCount: grown, alignment: 16)
                        memcpy(bigger, buffer + start, end - start)
                        buffer.deallocate()
                        buffer = bigger
                        capacity = grown
                        end -= start
                        start = 0
                    }
                    break
                }
                try BenchIO.sendAll(fd, buffer + start, total)
                start += total
            }
            if start == end {
                start = 0
                end = 0
            } else if capacity - end < FrameHeader.size || (start > 0 && capacity - end < capacity / 4) {
                memmove(buffer, buffer + start, end - start)
                end -= start
                start = 0
            }
            let count = try BenchIO.receive(fd, buffer + end, min(readSize, capacity - end))
            if count == 0 { return }
            end += count
        }
    }
}
