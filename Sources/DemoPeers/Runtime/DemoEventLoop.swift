import Dispatch
import IPCTransport
import Synchronization

/// The single-threaded event loop of one demo process, as in Ladybird: each transport gets a pump thread
/// that moves its received messages (in batches) into one mailbox; the process's main thread takes them
/// out in order and handles them one at a time.
final class DemoEventLoop: Sendable {
    enum Item: Sendable {
        case message(connection: Int, IncomingMessage)
        /// The transport's last event: EOF with its reason, or nil after `releaseForTransfer`.
        case ended(connection: Int, EOFReason?)
    }

    private let mailbox = Mutex<[Item]>([])
    private let wakeup = DispatchSemaphore(value: 0)

    /// Starts a thread that forwards everything `transport` receives until it ends.
    func startPump(connection: Int, transport: IPCTransport) throws(SystemError) -> OSThread {
        try OSThread(name: "demo pump \(connection)") { [self] in
            while true {
                switch transport.receive() {
                case .message(let payload, let fds):
                    // Take whatever else is already queued too: one mailbox round trip per batch.
                    let rest = transport.receiveAll()
                    var items = [Item.message(connection: connection, IncomingMessage(payload: payload, fds: fds))]
                    items.reserveCapacity(rest.messages.count + 2)
                    for message in rest.messages { items.append(.message(connection: connection, message)) }
                    if let eof = rest.eof {
                        items.append(.ended(connection: connection, eof))
                        post(items)
                        return
                    }
                    if rest.released {
                        items.append(.ended(connection: connection, nil))
                        post(items)
                        return
                    }
                    post(items)
                case .eof(let reason):
                    post([.ended(connection: connection, reason)])
                    return
                case .released:
                    post([.ended(connection: connection, nil)])
                    return
                case .timedOut:
                    continue
                }
            }
        }
    }

    private func post(_ items: [Item]) {
        let wasEmpty = mailbox.withLock { mailbox -> Bool in
            let wasEmpty = mailbox.isEmpty
            mailbox.append(contentsOf: items)
            return wasEmpty
        }
        // The consumer only sleeps after it saw the mailbox empty, so one signal per transition suffices.
        if wasEmpty { wakeup.signal() }
    }

    /// Everything posted so far, waiting up to `timeout` (forever when nil) for something to arrive.
    /// Empty on timeout.
    func take(timeout: Duration?) -> [Item] {
        let items = mailbox.withLock { mailbox in
            let items = mailbox
            mailbox.removeAll(keepingCapacity: true)
            return items
        }
        if !items.isEmpty { return items }
        if let timeout {
            let (seconds, attoseconds) = timeout.components
            let nanoseconds = max(0, min(seconds, 3600)) * 1_000_000_000 + max(0, attoseconds / 1_000_000_000)
            _ = wakeup.wait(timeout: .now() + .nanoseconds(Int(nanoseconds)))
        } else {
            wakeup.wait()
        }
        return mailbox.withLock { mailbox in
            let items = mailbox
            mailbox.removeAll(keepingCapacity: true)
            return items
        }
    }
}
