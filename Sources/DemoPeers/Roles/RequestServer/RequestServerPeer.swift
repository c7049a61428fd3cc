import Glibc
import IPCTransport
import IPCWire

/// The demo's RequestServer: serves the UI on its main connection and every client the UI asks for with
/// connect_new_client (WebContent's connection, and the fresh ones `--misbehave` abuses). A client that
/// breaks a LibIPC rule is disconnected, and the UI is told why.
final class RequestServerPeer {
    let runtime: PeerRuntime
    var demoProtocol: DemoProtocol { runtime.demoProtocol }
    var ui: DemoConnection?
    private var nextClientNumber = 1
    private var bodyWriters: [PipeWriter] = []
    private var seed: UInt64 = 0
    private var cacheBytes: UInt64 = 0
    private var cacheEntries: UInt32 = 0
    /// Requests started with a cache mode and not stopped yet.
    private var parkedRequests: Set<Int32> = []
    /// Frames received per open WebSocket (the index the next frame must have).
    private var websocketFrames: [Int64: UInt64] = [:]
    private var disconnectReports = 0

    init(runtime: PeerRuntime) {
        self.runtime = runtime
    }

    func serve(_ transport: IPCTransport) throws(DemoFailure) {
        try runtime.serveUntilHangUp(
            transport, name: "UI",
            onMessage: { [unowned self] incoming throws(DemoFailure) in try handle(incoming, fromUI: true) },
            attached: { ui = $0 })
        // Clients hang up on their own (WebContent closes its connection when the page closes).
        try runtime.run(step: "wait for clients to disconnect", timeout: .seconds(10)) { !self.runtime.hasConnections }
        for writer in bodyWriters {
            if let failure = writer.finish() { throw DemoFailure(step: "write a response body", failure) }
        }
        bodyWriters = []
        guard websocketFrames.isEmpty else { throw DemoFailure(step: "final checks", "a WebSocket was left open") }
    }

    // MARK: Clients

    private func connectNewClient(_ incoming: DemoIncoming) throws(DemoFailure) {
        let pair: TransportPair
        do {
            pair = try IPCTransport.makePair()
        } catch {
            throw DemoFailure(step: incoming.step, "socketpair: \(error)")
        }
        let handleEnd = pair.peer  // closed if attaching fails; the response's from then on
        let number = nextClientNumber
        nextClientNumber += 1
        try runtime.attach(
            pair.transport, name: "client \(number)",
            onMessage: { [unowned self] incoming throws(DemoFailure) in try handle(incoming, fromUI: false) },
            onEnd: { [unowned self] _, end throws(DemoFailure) in try clientEnded(number, end) })
        runtime.countTransfer(out: 1)
        try runtime.respond(to: incoming, RequestServerMessage.connectNewClient, [.transportHandle(handleEnd.release())])
    }

    /// A client that hung up is normal; one we dropped for breaking a rule is reported to the UI,
    /// as websocket_closed(client number, 1002 "protocol error", "<violation>: <why>", clean: false).
    private func clientEnded(_ number: Int, _ end: DemoConnectionEnd) throws(DemoFailure) {
        guard !end.isOrderly else { return }
        let kind = end.violationKind?.rawValue ?? "error"
        let reaction: String
        switch end {
        case .parseFailure: reaction = "message decoder rejected it; connection shut down"
        default: reaction = "transport reported EOF; connection closed"
        }
        disconnectReports += 1
        guard let ui, ui.isOpen else { return }
        try runtime.post(ui, RequestClientMessage.websocketClosed, [
            .s(Int64(number)), .u(UInt16(1002)), .string("\(kind): \(reaction) (\(end))"), .flag(false),
        ])
    }

    // MARK: Messages (DemoRequestServer, from the UI or a client)

    private func handle(_ incoming: DemoIncoming, fromUI: Bool) throws(DemoFailure) {
        guard let (name, isResponse) = incoming.name(as: RequestServerMessage.self, in: demoProtocol), !isResponse else {
            throw DemoFailure(step: incoming.step, "not a message RequestServer handles")
        }
        switch name {
        case .connectNewClient:
            guard fromUI else { throw DemoFailure(step: incoming.step, "only the UI may ask for new clients") }
            try connectNewClient(incoming)
        case .isSupportedProtocol:
            let scheme = try incoming.string("protocol")
            try runtime.respond(to: incoming, name, [.flag(["http", "https", "file", "data", "ws", "wss"].contains(scheme))])
        case .startRequest:
            try startRequest(incoming)
        case .startRequestWithCacheMode:
            let mode = try incoming.enumCase("cache_mode")
            guard try incoming.value("proxy").optionalValue != nil, !mode.isEmpty else {
                throw DemoFailure(step: incoming.step, "malformed request")
            }
            parkedRequests.insert(Int32(truncatingIfNeeded: try incoming.signed("request_id")))
        case .stopRequest:
            let request = Int32(truncatingIfNeeded: try incoming.signed("request_id"))
            let stopped = parkedRequests.remove(request) != nil
            if stopped {
                try runtime.post(incoming.connection, RequestClientMessage.requestFinished, [
                    .s(request), .u(UInt64(0)), .optional(.enumeration("Cancelled")),
                ])
            }
            try runtime.respond(to: incoming, name, [.flag(stopped)])
        case .ensureConnection:
            guard try incoming.value("url").structureValue?.first?.stringValue?.hasPrefix("https://") == true else {
                throw DemoFailure(step: incoming.step, "ensure_connection to a non-https URL")
            }
        case .resolveHost:
            guard try incoming.string("host") == "example.org" else { throw DemoFailure(step: incoming.step, "unknown host") }
            try runtime.respond(to: incoming, name, [
                .list([.u(IPCValue.ipv4((93, 184, 215, 14)))]),
                .list([.bytes([0x26, 0x06, 0x28, 0x00, 0x02, 0x1F, 0xCB, 0x07, 0x68, 0x20, 0x80, 0xDA, 0xAF, 0x6B, 0x8B, 0x2C])]),
                .s(Int64(300) * 1_000_000_000),
            ])
        case .setDNSServer:
            guard case .variant(let index, _) = try incoming.value("address"), index <= 1 else {
                throw DemoFailure(step: incoming.step, "malformed address")
            }
        case .clearCache:
            cacheBytes = 0
            cacheEntries = 0
        case .getCacheSize:
            if fromUI {
                try runtime.post(incoming.connection, RequestClientMessage.cacheSizeChanged, [
                    .u(cacheBytes), .u(cacheEntries), .list([.u(UInt16(truncatingIfNeeded: cacheEntries)), .u(UInt16(0)), .u(UInt16(0)), .u(UInt16(1))]),
                ])
            }
            try runtime.respond(to: incoming, name, [.u(cacheBytes), .u(cacheEntries)])
        case .setDownloadLimit:
            guard try incoming.unsigned("bytes_per_second") > 0 else { throw DemoFailure(step: incoming.step, "zero limit") }
        case .websocketConnect:
            try websocketConnect(incoming)
        case .websocketSend:
            try websocketSend(incoming)
        case .websocketClose:
            let id = try incoming.signed("websocket_id")
            guard websocketFrames.removeValue(forKey: id) != nil else { throw DemoFailure(step: incoming.step, "unknown WebSocket") }
            let code = try incoming.unsigned("code")
            let reason = try incoming.string("reason")
            try runtime.post(incoming.connection, RequestClientMessage.websocketStateChanged, [.s(id), .enumeration("Closing")])
            try runtime.post(incoming.connection, RequestClientMessage.websocketStateChanged, [.s(id), .enumeration("Closed")])
            try runtime.post(incoming.connection, RequestClientMessage.websocketClosed, [
                .s(id), .u(UInt16(truncatingIfNeeded: code)), .string(reason), .flag(true),
            ])
        }
    }

    /// Streams the body through a pipe whose read end travels in request_started (an `IPC::File`).
    private func startRequest(_ incoming: DemoIncoming) throws(DemoFailure) {
        let request = Int32(truncatingIfNeeded: try incoming.signed("request_id"))
        let url = try incoming.string("url")
        guard try incoming.string("method") == "GET", let seed = DemoContent.seed(fromURL: url) else {
            throw DemoFailure(step: incoming.step, "unexpected request \(url)")
        }
        self.seed = seed
        let client = incoming.connection
        if url.hasPrefix("https://") {
            // TLS may want a client certificate: ask the client (a sync call from server to client).
            let answer = try runtime.call(client, RequestClientMessage.certificateRequested, [.s(request)])
            guard try answer.string("certificate").isEmpty else { throw DemoFailure(step: "certificate_requested", "unexpected certificate") }
        }
        let body = DemoContent.body(request: request, seed: seed)
        let pipe: Pipe
        do {
            pipe = try Pipe.make()
        } catch {
            throw DemoFailure(step: incoming.step, "pipe: \(error)")
        }
        let writeEnd = pipe.writeEnd  // closed if the post fails; the writer's from then on
        try runtime.post(client, RequestClientMessage.requestStarted, [.s(request), .file(pipe.readEnd.release())])
        do {
            bodyWriters.append(try PipeWriter(fd: writeEnd.release(), bytes: body, name: "demo body \(request)"))
        } catch {
            throw DemoFailure(step: incoming.step, "body writer: \(error)")
        }
        try runtime.post(client, RequestClientMessage.headersBecameAvailable, [
            .s(request),
            .stringMap([("Content-Type", "text/html; charset=utf-8"), ("Content-Length", "\(body.count)"), ("Server", "ipcscope-demo")]),
            .optional(.u(UInt32(200))),
        ])
        try runtime.post(client, RequestClientMessage.requestProgress, [.s(request), .optional(.u(UInt64(body.count))), .u(UInt64(body.count))])
        try runtime.post(client, RequestClientMessage.requestFinished, [.s(request), .u(UInt64(body.count)), .absent])
        cacheBytes += UInt64(body.count)
        cacheEntries += 1
    }

    private func websocketConnect(_ incoming: DemoIncoming) throws(DemoFailure) {
        let id = try incoming.signed("websocket_id")
        guard let protocols = try incoming.value("protocols").listValue, !protocols.isEmpty else {
            throw DemoFailure(step: incoming.step, "no subprotocols")
        }
        websocketFrames[id] = 0
        try runtime.post(incoming.connection, RequestClientMessage.websocketConnected, [.s(id)])
        try runtime.post(incoming.connection, RequestClientMessage.websocketStateChanged, [.s(id), .enumeration("Open")])
    }

    /// Frames must arrive in order with the generated content; every fourth one is echoed back.
    private func websocketSend(_ incoming: DemoIncoming) throws(DemoFailure) {
        let id = try incoming.signed("websocket_id")
        guard let frame = websocketFrames[id] else { throw DemoFailure(step: incoming.step, "unknown WebSocket") }
        let data = try incoming.bytes("data")
        let isText = try incoming.bool("is_text")
        guard data == DemoContent.websocketPayload(frame, seed: seed), isText == (frame % 2 == 0) else {
            throw DemoFailure(step: incoming.step, "frame \(frame) differs from what WebContent must have sent")
        }
        websocketFrames[id] = frame + 1
        if BulkTraffic.echoes(frame: frame) {
            try runtime.post(incoming.connection, RequestClientMessage.websocketReceived, [.s(id), .flag(isText), .bytes(data)])
        }
    }
}
