import IPCTransport
import IPCWire

/// Loading and painting the page: what WebContent tells the UI (the DemoWebContentClient messages).
extension WebContentPeer {
    func loadHTML(_ incoming: DemoIncoming) throws(DemoFailure) {
        // [UTF8] ByteString: the decoder already rejected invalid UTF-8.
        html = try incoming.string("html")
        let ui = try uiConnection()
        let url = "about:srcdoc"
        try runtime.post(ui, WebContentClientMessage.didStartLoading, [.u(DemoContent.pageID), .string(url), .flag(false)])
        try runtime.post(ui, WebContentClientMessage.didFinishLoading, [
            .u(DemoContent.pageID), .string(url), .enumeration("Interactive"),
        ])
    }

    /// Starts the page load: did_start_loading to the UI, the requests to RequestServer. The rest happens
    /// as RequestServer's answers arrive (see WebContentRequests.swift), ending in `finishLoading`.
    func loadURL(_ incoming: DemoIncoming) throws(DemoFailure) {
        let url = try incoming.string("url")
        guard try incoming.unsigned("page_id") == DemoContent.pageID, let seed = DemoContent.seed(fromURL: url) else {
            throw DemoFailure(step: incoming.step, "unexpected page or URL \(url)")
        }
        guard let requestServer, requestServer.isOpen else {
            throw DemoFailure(step: incoming.step, "load_url before connect_to_request_server")
        }
        self.seed = seed
        loadingURL = url
        try runtime.post(try uiConnection(), WebContentClientMessage.didStartLoading, [
            .u(DemoContent.pageID), .string(url), .flag(false),
        ])
        try runtime.post(requestServer, RequestServerMessage.startRequest, [
            .s(DemoContent.pageRequestID), .string("GET"), .string(url),
            .stringMap([("Accept", "text/html"), ("User-Agent", "ipcscope-demo/1.0"), ("Accept-Language", "en, fr;q=0.8")]),
            .bytes([]),
        ])
        // A subresource that is started and then stopped at once.
        try runtime.post(requestServer, RequestServerMessage.startRequestWithCacheMode, [
            .s(DemoContent.cancelledRequestID), .string(DemoContent.origin + "/style.css"), .enumeration("ForceCache"),
            .optional(.proxy(socks5: (127, 0, 0, 1), port: 9050)),
        ])
        let stopped = try runtime.call(requestServer, RequestServerMessage.stopRequest, [.s(DemoContent.cancelledRequestID)])
        guard try stopped.bool("success"), cancelledRequestFinished else {
            throw DemoFailure(step: "stop_request", "the request was not stopped (or request_finished did not come first)")
        }
    }

    /// The body is in: tell the UI everything a real page load would.
    func finishLoading() throws(DemoFailure) {
        guard let url = loadingURL else { throw DemoFailure(step: "finish loading", "no load in progress") }
        let ui = try uiConnection()
        let page = IPCValue.u(DemoContent.pageID)

        let cookie = try runtime.call(ui, WebContentClientMessage.didRequestCookie, [page, .string(url)])
        let cookieValue = try cookie.value("cookie")
        guard case .present(.string(let value)) = cookieValue, value == DemoContent.cookieValue else {
            throw DemoFailure(step: "did_request_cookie", "unexpected cookie \(cookieValue)")
        }

        title = DemoContent.pageTitle
        try runtime.post(ui, WebContentClientMessage.didChangeTitle, [page, .string(DemoContent.pageTitle)])
        try runtime.post(ui, WebContentClientMessage.didChangeURL, [page, .url(url)])
        try runtime.post(ui, WebContentClientMessage.didChangeOrigin, [
            page, .structure([.flag(false), .present(.string("https")), .variant(index: 2, .string("example.org")), .absent, .absent]),
        ])
        try runtime.post(ui, WebContentClientMessage.didChangeThemeColor, [page, .u(UInt32(0xFF33_6699))])
        try paint()
        try runtime.post(ui, WebContentClientMessage.didInvalidate, [page, .list([
            .intRect(x: 0, y: 0, width: 1280, height: 64), .intRect(x: 0, y: 64, width: 320, height: 656),
            .intRect(x: -8, y: 700, width: 1296, height: 28),
        ])])
        try runtime.post(ui, WebContentClientMessage.didScroll, [page, .structure([.float(0), .float(512.5)])])
        try runtime.post(ui, WebContentClientMessage.didOutputConsoleMessage, [
            page, .enumeration("Warn"), .string("Ünïcödé console ✓ — \(bodyBytesVerified[DemoContent.pageRequestID] ?? 0) bytes"),
            .u(UInt64(42)),
        ])
        try runtime.post(ui, WebContentClientMessage.didMeasure, [
            page,
            .map([
                IPCMapEntry(key: .string("dns"), value: .s(Int64(1_250_000))),
                IPCMapEntry(key: .string("connect"), value: .s(Int64(3_500_000))),
                IPCMapEntry(key: .string("first-paint"), value: .s(Int64(16_666_667))),
            ]),
            .s(Int64(1_767_225_600) * 1_000_000_000),
        ])
        try startWorker()
        try runtime.post(ui, WebContentClientMessage.didFinishLoading, [page, .string(url), .enumeration("Complete")])
        log("loaded \(url): \(bodyBytesVerified[DemoContent.pageRequestID] ?? 0) body bytes verified")

        // The page opens a WebSocket; bulk traffic uses it later.
        if let requestServer {
            try runtime.post(requestServer, RequestServerMessage.websocketConnect, [
                .s(DemoContent.websocketID), .url(DemoContent.websocketURL), .string(DemoContent.origin),
                .list([.string("chat"), .string("superchat")]), .list([.string("permessage-deflate")]),
            ])
            try runtime.run(step: "open the WebSocket", timeout: .seconds(10)) { self.websocketOpen }
        }
    }

    /// did_paint with the frame's pixels in a memfd (a `Core::AnonymousBuffer`).
    func paint() throws(DemoFailure) {
        let frame = paintsSent
        let (width, height) = DemoContent.paintSize(frame: frame)
        let pixels = DemoContent.bitmap(width: Int(width), height: Int(height), frame: frame, seed: seed)
        let fd: Int32
        do {
            fd = try SharedMemory.make(name: "demo-bitmap-\(frame)", bytes: pixels)
        } catch {
            throw DemoFailure(step: "paint frame \(frame)", error.description)
        }
        paintsSent += 1
        try runtime.post(try uiConnection(), WebContentClientMessage.didPaint, [
            .u(DemoContent.pageID), .anonymousBuffer(fd, size: pixels.count), .intSize(width: width, height: height),
        ])
    }

    /// did_start_worker hands the UI the worker's message queue (a shared-memory ring, here a memfd).
    private func startWorker() throws(DemoFailure) {
        // SharedSingleProducerCircularQueue<u32, 64>: head, tail, then 64 slots.
        let fd: Int32
        do {
            fd = try SharedMemory.make(name: "demo-worker-queue", bytes: [UInt8](repeating: 0, count: 8 + 64 * 4))
        } catch {
            throw DemoFailure(step: "start worker", error.description)
        }
        try runtime.post(try uiConnection(), WebContentClientMessage.didStartWorker, [.u(DemoContent.pageID), .queue(fd)])
    }

    /// Bulk input: each event must be exactly the one the UI generates for its index.
    func handleInput(_ incoming: DemoIncoming, isMouse: Bool) throws(DemoFailure) {
        let input = nextInput
        guard BulkTraffic.isMouse(input) == isMouse else {
            throw DemoFailure(step: "input \(input)", "expected a \(BulkTraffic.isMouse(input) ? "mouse" : "key") event")
        }
        let expected = isMouse ? demoProtocol.bulk.mouseEvent(input, seed: seed) : demoProtocol.bulk.keyEvent(input, seed: seed)
        guard expected == incoming.payload else {
            throw DemoFailure(step: "input \(input)", "\(incoming.messageName) differs from what the UI must have sent")
        }
        nextInput += 1
        let ui = try uiConnection()
        if BulkTraffic.invalidates(after: input) {
            try ui.post(BulkEncoders.outgoing("did_invalidate", demoProtocol.bulk.didInvalidate(input)))
        }
        if BulkTraffic.paints(after: input) { try paint() }
        if BulkTraffic.sendsWebSocketFrame(after: input), let requestServer, websocketOpen {
            let frame = websocketFramesSent
            try requestServer.post(BulkEncoders.outgoing("websocket_send", demoProtocol.bulk.websocketSend(frame, seed: seed)))
            websocketFramesSent += 1
            websocketFramesSinceFlowCheck += 1
        }
    }
}
