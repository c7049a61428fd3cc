import Foundation
import Glibc
import IPCTransport
import IPCWire

/// The heart of each demo process: its connections, its event loop, and the two ways to wait — for a sync
/// response (`call`) or for a condition (`run`). While waiting, every other message that arrives is
/// handled, in arrival order, so two processes calling each other never deadlock. Used from one thread.
final class PeerRuntime {
    let demoProtocol: DemoProtocol
    private(set) var statistics = ProcessStatistics()
    private let loop = DemoEventLoop()
    private var connections: [Int: DemoConnection] = [:]
    private var nextConnectionID = 1
    /// Items taken from the mailbox but not handled yet (nested waits take from here first).
    private var pending = ItemQueue()
    /// Sync calls in progress, oldest first; a response fills the oldest matching slot.
    private var awaiting: [ResponseSlot] = []

    private final class ResponseSlot {
        let connection: Int
        let magic: UInt32
        let id: Int32
        var response: DemoIncoming?
        init(connection: Int, magic: UInt32, id: Int32) {
            self.connection = connection
            self.magic = magic
            self.id = id
        }
    }

    init(demoProtocol: DemoProtocol) {
        self.demoProtocol = demoProtocol
    }

    var openConnections: [DemoConnection] { connections.values.filter(\.isOpen).sorted { $0.id < $1.id } }
    var hasConnections: Bool { !connections.isEmpty }

    // MARK: Connections

    /// Starts handling `transport` (owned from now on) under `name`.
    @discardableResult
    func attach(
        _ transport: IPCTransport, name: String, kind: DemoConnection.Kind = .endpoint,
        onMessage: @escaping (DemoIncoming) throws(DemoFailure) -> Void,
        onEnd: @escaping (DemoConnection, DemoConnectionEnd) throws(DemoFailure) -> Void = { _, _ in }
    ) throws(DemoFailure) -> DemoConnection {
        let id = nextConnectionID
        nextConnectionID += 1
        let connection = DemoConnection(
            id: id, name: name, kind: kind, transport: transport, onMessage: onMessage, onEnd: onEnd)
        do {
            connection.pump = try loop.startPump(connection: id, transport: transport)
        } catch {
            transport.close()
            throw DemoFailure(step: "attach \(name)", error.description)
        }
        connections[id] = connection
        return connection
    }

    /// Closes our end after sending what is queued. The peer sees EOF; the loop accounts for it later.
    /// First gives the peer up to `ackTimeout` to acknowledge our fds, so the retained count is final.
    /// `immediately` (after a failure) drops what is queued instead: a stuck peer must not block us.
    func close(_ connection: DemoConnection, ackTimeout: Duration = .seconds(2), immediately: Bool = false) {
        guard connection.isOpen else { return }
        connection.closing = true
        if immediately {
            connection.retainedBeforeClose = connection.transport.statistics.retainedFDs
            connection.transport.close()
        } else {
            connection.retainedBeforeClose = Self.waitForAcknowledgements(connection.transport, timeout: ackTimeout)
            connection.transport.closeAfterSendingAllPendingMessages()
        }
    }

    /// Waits until every fd the transport sent was acknowledged (or the timeout); returns what is left.
    static func waitForAcknowledgements(_ transport: IPCTransport, timeout: Duration) -> Int {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            let retained = transport.statistics.retainedFDs
            if retained == 0 || ContinuousClock.now >= deadline { return retained }
            usleep(1_000)
        }
    }

    /// Closes every open connection and handles events until all of them are accounted for.
    func closeAll(step: String, timeout: Duration = .seconds(5), immediately: Bool = false) throws(DemoFailure) {
        for connection in openConnections { close(connection, immediately: immediately) }
        try run(step: step, timeout: timeout) { self.connections.isEmpty }
    }

    /// Counts a transport that never went through the loop (e.g. a port released before anyone read it).
    func account(_ transport: IPCTransport, retained: Int) {
        statistics.add(transport.statistics, retained: retained)
    }

    func countTransfer(out: Int = 0, in incoming: Int = 0) {
        statistics.transfersOut += out
        statistics.transfersIn += incoming
    }

    // MARK: Waiting

    /// Sends a sync request and handles other traffic until its response arrives.
    func call(
        _ connection: DemoConnection, _ request: OutgoingMessage, step: String, timeout: Duration = .seconds(10)
    ) throws(DemoFailure) -> DemoIncoming {
        guard let responseID = request.responseID, let magic = request.magic else {
            Descriptor.closeAll(request.fds)
            throw DemoFailure(step: step, "\(request.name) is not a sync request")
        }
        let slot = ResponseSlot(connection: connection.id, magic: magic, id: responseID)
        try connection.post(request)
        awaiting.append(slot)
        defer { awaiting.removeAll { $0 === slot } }
        try run(step: step, timeout: timeout) { slot.response != nil || connection.end != nil }
        guard let response = slot.response else {
            throw DemoFailure(
                step: step,
                "\(connection.name) connection ended before the response to \(request.name): \(connection.end?.description ?? "?")")
        }
        return response
    }

    /// Serves a connection until its peer hangs up, and fails unless it hung up in order. `attached` gets
    /// the connection before any of its messages is handled.
    func serveUntilHangUp(
        _ transport: IPCTransport, name: String,
        onMessage: @escaping (DemoIncoming) throws(DemoFailure) -> Void,
        attached: (DemoConnection) -> Void
    ) throws(DemoFailure) {
        var ended: DemoConnectionEnd?
        attached(try attach(transport, name: name, onMessage: onMessage, onEnd: { _, end in ended = end }))
        let step = "serve the \(name)"
        try run(step: step, timeout: nil) { ended != nil }
        guard let end = ended, end.isOrderly else {
            throw DemoFailure(step: step, "the \(name) connection ended abnormally: \(ended?.description ?? "?")")
        }
    }

    /// Handles events until `condition` holds; fails after `timeout` (nil: wait forever).
    func run(step: String, timeout: Duration?, until condition: () -> Bool) throws(DemoFailure) {
        let deadline = timeout.map { ContinuousClock.now.advanced(by: $0) }
        while !condition() {
            if let item = pending.popFirst() {
                try handle(item)
                continue
            }
            var wait: Duration?
            if let deadline {
                let now = ContinuousClock.now
                guard now < deadline else {
                    throw DemoFailure(step: step, "timed out after \(Self.format(timeout ?? .zero))")
                }
                wait = deadline - now
            }
            pending.append(contentsOf: loop.take(timeout: wait))
        }
    }

    private static func format(_ duration: Duration) -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return String(format: "%.1fs", seconds)
    }

    // MARK: Dispatch

    private func handle(_ item: DemoEventLoop.Item) throws(DemoFailure) {
        switch item {
        case .message(let id, let message):
            guard let connection = connections[id], connection.isOpen else {
                Descriptor.closeAll(message.fds)  // arrived after we closed or gave up on it
                return
            }
            try deliver(message, on: connection)
        case .ended(let id, let reason):
            guard let connection = connections[id] else { return }
            try finish(connection, reason: reason)
        }
    }

    private func deliver(_ message: IncomingMessage, on connection: DemoConnection) throws(DemoFailure) {
        let decoded: DecodedMessage
        switch connection.kind {
        case .endpoint:
            decoded = demoProtocol.decoder.decode(payload: message.payload, attachmentCount: message.fds.count)
        case .messagePort:
            decoded = demoProtocol.decoder.decodeTransferRecord(payload: message.payload, attachmentCount: message.fds.count)
        }
        let incoming = DemoIncoming(connection: connection, decoded: decoded, payload: message.payload, fds: message.fds)
        guard decoded.outcome.isComplete else {
            // Ladybird logs the bytes and shuts the connection down; a parse failure is never recoverable.
            let name = decoded.qualifiedName ?? decoded.message ?? "payload of \(message.payload.count) bytes"
            abandon(connection, end: .parseFailure(message: name, outcome: decoded.outcome))
            try connection.onEnd(connection, connection.end ?? .released)
            return
        }
        if decoded.kind == .response {
            guard let slot = awaiting.first(where: {
                $0.response == nil && $0.connection == connection.id && $0.magic == decoded.magic && $0.id == decoded.id
            }) else {
                throw DemoFailure(step: incoming.step, "a response nobody is waiting for")
            }
            slot.response = incoming
            return
        }
        try connection.onMessage(incoming)
    }

    /// Closes a connection at once because of what the peer sent.
    private func abandon(_ connection: DemoConnection, end: DemoConnectionEnd) {
        connection.end = end
        connection.closing = true
        connection.retainedBeforeClose = connection.transport.statistics.retainedFDs
        connection.transport.close()
    }

    /// The transport's pump is done: account for it and tell the owner (unless it already knows).
    private func finish(_ connection: DemoConnection, reason: EOFReason?) throws(DemoFailure) {
        connection.pump?.join()
        connection.pump = nil
        let alreadyReported = connection.end != nil
        if connection.end == nil { connection.end = reason.map { .transport($0) } ?? .released }
        let retained = connection.retainedBeforeClose ?? connection.transport.statistics.retainedFDs
        connection.closing = true
        connection.transport.close()
        statistics.add(connection.transport.statistics, retained: retained)
        if connection.end?.violationKind != nil { statistics.violations += 1 }
        connection.finalized = true
        connections[connection.id] = nil
        if !alreadyReported, let end = connection.end { try connection.onEnd(connection, end) }
    }
}

/// A FIFO of loop items: array plus head index.
private struct ItemQueue {
    private var items: [DemoEventLoop.Item] = []
    private var head = 0

    mutating func append(contentsOf more: [DemoEventLoop.Item]) {
        if head == items.count {
            items = more
            head = 0
        } else {
            items.append(contentsOf: more)
        }
    }

    mutating func popFirst() -> DemoEventLoop.Item? {
        guard head < items.count else { return nil }
        let item = items[head]
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 4096, head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
        return item
    }
}
