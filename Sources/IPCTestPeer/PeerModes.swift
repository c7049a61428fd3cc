import Glibc
import IPCTransport
import IPCWire

/// The well-behaved modes: everything goes through an IPCTransport.
enum PeerModes {
    static let receiveTimeout: Duration = .seconds(30)

    static func makeTransport() -> IPCTransport {
        do {
            return try IPCTransport(adopting: takeOverSocket())
        } catch {
            fail("transport: \(error)")
        }
    }

    /// Echo until EOF; with a limit, close deliberately after that many messages.
    static func echo(limit: Int?) {
        let transport = makeTransport()
        var echoed = 0
        while limit.map({ echoed < $0 }) ?? true {
            switch transport.receive(timeout: receiveTimeout) {
            case .message(let payload, let fds):
                send(transport, payload, fds)
                echoed += 1
            case .eof(.peerClosed), .eof(.hangUp):
                return
            case let other:
                fail("echo: \(other)")
            }
        }
        transport.closeAfterSendingAllPendingMessages()
    }

    static func fdSink(expected: Int) {
        let transport = makeTransport()
        var fdCount = 0
        for _ in 0..<expected {
            guard case .message(_, let fds) = transport.receive(timeout: receiveTimeout) else { fail("fd-sink: no message") }
            fdCount += fds.count
            Descriptor.closeAll(fds)
        }
        send(transport, Array("messages=\(expected) fds=\(fdCount)".utf8), [])
        waitForPeerEOF(transport)
    }

    static func pipeWriter() {
        let transport = makeTransport()
        while true {
            switch transport.receive(timeout: receiveTimeout) {
            case .message(let payload, let fds):
                for fd in fds {
                    do { try Descriptor.writeAll(fd, payload) } catch { fail("pipe-writer: \(error)") }
                }
                Descriptor.closeAll(fds)
                send(transport, Array("wrote \(fds.count)".utf8), [])
            case .eof(.peerClosed), .eof(.hangUp):
                return
            case let other:
                fail("pipe-writer: \(other)")
            }
        }
    }

    /// Echo; on "release", hand the socket to a fresh transport (as a MessagePort transfer does), carry over
    /// messages the old one had already received, say "continued" and keep echoing on the new one.
    static func transfer() {
        var transport = makeTransport()
        while true {
            switch transport.receive(timeout: receiveTimeout) {
            case .message(let payload, let fds) where payload == Array("release".utf8):
                Descriptor.closeAll(fds)
                let old = transport
                let fd: Int32
                do { fd = try old.releaseForTransfer() } catch { fail("release: \(error)") }
                let leftovers = old.receiveAll()
                guard leftovers.eof == nil, leftovers.released else { fail("release published \(leftovers)") }
                guard case .released = old.receive(timeout: .zero) else { fail("old transport did not report .released") }
                do { transport = try IPCTransport(adopting: fd) } catch { fail("adopt: \(error)") }
                send(transport, Array("continued".utf8), [])
                for message in leftovers.messages { send(transport, message.payload, message.fds) }
            case .message(let payload, let fds):
                send(transport, payload, fds)
            case .eof(.peerClosed), .eof(.hangUp):
                return
            case let other:
                fail("transfer: \(other)")
            }
        }
    }

    static func send(_ transport: IPCTransport, _ payload: [UInt8], _ fds: [Int32]) {
        do { try transport.send(payload: payload, attachments: fds) } catch { fail("send: \(error)") }
    }

    static func waitForPeerEOF(_ transport: IPCTransport) {
        while true {
            switch transport.receive(timeout: receiveTimeout) {
            case .message(_, let fds): Descriptor.closeAll(fds)
            case .eof: return
            case .timedOut, .released: fail("no EOF from the test")
            }
        }
    }
}
