import Glibc
import IPCTransport
import IPCWire

/// Writes raw frames that break one LibIPC limit (libipc-wire §2), each preceded by a valid message
/// "before" that the receiver must still deliver. Then waits until the receiver hangs up.
enum HostilePeer {
    static func run(_ kind: Violation.Kind) {
        let socket = takeOverSocket()
        var bytes = FrameEncoder.payloadFrame(Array("before".utf8))
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
            case .missingFDs:
                // A frame that declares 3 fds and passes 1: the receiver waits for the other 2 for ever.
                try Descriptor.writeAll(socket, bytes)
                let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
                _ = try SocketMessaging.sendMessage(
                    socket, bytes: FrameEncoder.payloadFrame([UInt8](repeating: 1, count: 8), fdCount: 3), fds: [null])
                Descriptor.close(null)
            case .decodedSizeTooLarge:
                fail("hostile \(kind.rawValue): a payload-decoding rule, not a transport one", code: 2)
            }
        } catch let error where error.errno == EPIPE || error.errno == ECONNRESET {
            // The receiver disconnected while we were still writing: that is the expected outcome.
        } catch {
            fail("hostile \(kind.rawValue): \(error)")
        }
        waitForHangUp(socket)
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
