import Glibc
import IPCTransport
import IPCWire

/// Writes raw frames that break one LibIPC limit (docs/protocol.md §2), each preceded by a valid message
/// "before" that the receiver must still deliver. Then waits until the receiver hangs up.
enum HostilePeer {
    static func run(_ kind: Violation.Kind) {
        let socket = takeOverSocket()
        write(kind, on: socket, before: Array("before".utf8), decodedSizeMessage: nil)
        waitForHangUp(socket)
    }

    /// `hostile-pair KIND [SCHEMA]`: the same bytes on one end of a socketpair this process makes (so that
    /// `ipcscope record -- IPCTestPeer hostile-pair KIND` relays them), while a thread drains the other end
    /// as a receiver that never hangs up would. For `decoded-size-too-large` the schema names the message
    /// whose first parameter's length is the lie (its endpoint's first message, taking a ByteString).
    static func runPair(_ kind: Violation.Kind, schemaPath: String?) {
        let pair: SocketPair
        do { pair = try SocketPair.make() } catch { fail("socketpair: \(error)") }
        // Both ends close when `pair` goes, after the drainer (which borrows `receiving`) has ended.
        let receiving = pair.second.rawValue
        let drainer: OSThread
        do { drainer = try OSThread(name: "drain") { drain(receiving) } } catch { fail("thread: \(error)") }
        // At least 8 bytes, as every LibIPC message (its envelope): a recorder that classifies the channel
        // by its first frame sees LibIPC.
        write(kind, on: pair.first.rawValue, before: Array("before: a valid message".utf8),
              decodedSizeMessage: schemaPath.map(firstMessage(of:)))
        shutdown(pair.first.rawValue, Int32(SHUT_WR))
        drainer.join()
    }

    static func write(_ kind: Violation.Kind, on socket: Int32, before: [UInt8], decodedSizeMessage: MessageEnvelope?) {
        var bytes = FrameEncoder.payloadFrame(before)
        do {
            switch kind {
            case .payloadTooLarge:
                FrameHeader(type: .payload, payloadSize: UInt32(Limits.maxMessagePayloadSize) + 1, fdCount: 0).append(to: &bytes)
                try Descriptor.writeAll(socket, bytes)
            case .tooManyFDsInFrame:
                FrameHeader(type: .payload, payloadSize: 0, fdCount: UInt32(Limits.maxMessageFDCount) + 1).append(to: &bytes)
                try Descriptor.writeAll(socket, bytes)
            case .unknownFrameType:
                FrameHeader(rawType: 2, payloadSize: 0, fdCount: 0).append(to: &bytes)
                try Descriptor.writeAll(socket, bytes)
            case .acknowledgementWithPayload:
                FrameHeader(type: .fdAcknowledgement, payloadSize: 4, fdCount: 1).append(to: &bytes)
                bytes += [0, 0, 0, 0]
                try Descriptor.writeAll(socket, bytes)
            case .overAcknowledgement:
                FrameHeader.acknowledgement(count: 3).append(to: &bytes)
                try Descriptor.writeAll(socket, bytes)
            case .counterOverflow:
                // Both acks arrive in one read, so their checked u32 sum overflows.
                FrameHeader(type: .fdAcknowledgement, payloadSize: 0, fdCount: UInt32.max).append(to: &bytes)
                FrameHeader.acknowledgement(count: 1).append(to: &bytes)
                try Descriptor.writeAll(socket, bytes)
            case .unprocessedBytesOverflow:
                try floodBehindFrameWaitingForFD(socket, prefix: bytes)
            case .unprocessedFDsOverflow:
                try sendUnmatchedFDs(socket, prefix: bytes)
            case .tooManyFDsInOneSend:
                try Descriptor.writeAll(socket, bytes)
                let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
                _ = try SocketMessaging.sendMessage(socket, bytes: [0], fds: Array(repeating: null, count: 200))
                Descriptor.close(null)
            case .missingFDs:
                // A frame that declares 3 fds and passes 1: the receiver waits for the other 2 for ever.
                try Descriptor.writeAll(socket, bytes)
                let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
                _ = try SocketMessaging.sendMessage(
                    socket, bytes: FrameEncoder.payloadFrame([UInt8](repeating: 1, count: 8), fdCount: 3), fds: [null])
                Descriptor.close(null)
            case .decodedSizeTooLarge:
                guard let message = decodedSizeMessage else {
                    fail("hostile \(kind.rawValue): a payload-decoding rule, needs hostile-pair with a schema", code: 2)
                }
                // A ByteString whose length says 64 MiB + 1 but carries 4 bytes.
                var encoder = IPCEncoder()
                encoder.envelope(magic: message.magic, id: message.messageID)
                encoder.count(UInt32(Limits.maxDecodedSize) + 1)
                encoder.bytes(Array("http".utf8))
                try Descriptor.writeAll(socket, bytes + encoder.frame())
            }
        } catch let error where error.errno == EPIPE || error.errno == ECONNRESET {
            // The receiver disconnected while we were still writing: that is the expected outcome.
        } catch {
            fail("hostile \(kind.rawValue): \(error)")
        }
    }

    /// The envelope of the first message of the schema's first endpoint.
    static func firstMessage(of path: String) -> MessageEnvelope {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { fail("open \(path): errno \(errno)", code: 2) }
        var text: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fd, &chunk, chunk.count)
            if count <= 0 { break }
            text += chunk[..<count]
        }
        Descriptor.close(fd)
        do {
            let file = try SchemaParser.parse(bytes: text, path: path)
            guard let descriptor = SchemaSet(files: [file]).endpointsByMagic.values.first?.descriptors
                .min(by: { $0.id < $1.id }) else { fail("\(path): no message", code: 2) }
            return MessageEnvelope(magic: descriptor.magic, messageID: descriptor.id)
        } catch {
            fail("\(path): \(error)", code: 2)
        }
    }

    /// Reads and discards everything, closing any fds that come, until EOF.
    static func drain(_ socket: Int32) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buffer.deallocate() }
        let control = ControlMessageBuffer(maxFDs: 253)
        while true {
            let chunk: ReceivedChunk
            do {
                chunk = try SocketMessaging.receiveMessage(socket, into: buffer, control: control, flags: 0)
            } catch where error.errno == ECONNRESET {
                return
            } catch {
                fail("drain: \(error)")
            }
            guard chunk.byteCount > 0 || !chunk.fds.isEmpty else { return }
            Descriptor.closeAll(chunk.fds)
        }
    }

    /// A frame that waits forever for an fd that never comes, then bytes behind it past the 128 MiB limit.
    static func floodBehindFrameWaitingForFD(_ socket: Int32, prefix: [UInt8]) throws(SystemError) {
        var bytes = prefix
        FrameHeader(type: .payload, payloadSize: 8, fdCount: 1).append(to: &bytes)
        try Descriptor.writeAll(socket, bytes)
        let junk = [UInt8](repeating: 0x5A, count: 1 << 16)
        let total = Int(Limits.maxUnprocessedBufferSize) + (1 << 20)
        var written = 0
        while written < total {
            try Descriptor.writeAll(socket, junk)
            written += junk.count
        }
    }

    /// 5 × 128 fds (one /dev/null fd repeated) inside a frame that takes none: 640 unmatched > 512.
    static func sendUnmatchedFDs(_ socket: Int32, prefix: [UInt8]) throws(SystemError) {
        var bytes = prefix
        FrameHeader(type: .payload, payloadSize: 100, fdCount: 0).append(to: &bytes)
        try Descriptor.writeAll(socket, bytes)
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        for _ in 0..<5 {
            _ = try SocketMessaging.sendMessage(socket, bytes: [0], fds: Array(repeating: null, count: 128))
        }
    }

    /// Reads (and discards) until the other side closes, so the receiver's verdict, not our exit, ends it.
    static func waitForHangUp(_ socket: Int32) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        var pfd = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        while poll(&pfd, 1, 30_000) > 0 {
            let count = recv(socket, &buffer, buffer.count, 0)
            if count <= 0 { return }
        }
    }
}
