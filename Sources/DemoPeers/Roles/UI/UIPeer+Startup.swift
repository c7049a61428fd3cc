import IPCTransport
import IPCWire

/// Starting the helpers and the first exchanges: the UI's side of Ladybird's process start-up.
extension UIPeer {
    func launchHelpers(_ launcher: some DemoHelperLauncher) throws(DemoFailure) {
        for role in DemoRole.allCases {
            let step = "start \(role.takeoverName)"
            let started: DemoHelper
            do {
                started = try launcher.launch(role)
            } catch {
                throw DemoFailure(step: step, "\(error)")
            }
            let output: HelperOutput
            do {
                output = try HelperOutput(fd: started.process.takeStandardError(), name: role.takeoverName)
            } catch {
                started.transport.close()
                throw DemoFailure(step: step, "reading its stderr: \(error)")
            }
            let connection = try runtime.attach(
                started.transport, name: role.takeoverName,
                onMessage: { [unowned self] incoming throws(DemoFailure) in
                    switch role {
                    case .webContent: try page.handle(incoming, runtime: runtime)
                    case .requestServer: try handleRequestServerMessage(incoming)
                    }
                },
                onEnd: { connection, end throws(DemoFailure) in
                    guard end.isOrderly else { throw DemoFailure(step: "talk to \(connection.name)", "connection ended: \(end)") }
                })
            helpers[role] = Helper(role: role, process: started.process, output: output, connection: connection)
        }
    }

    /// What RequestServer tells the UI on the main connection (DemoRequestClient).
    private func handleRequestServerMessage(_ incoming: DemoIncoming) throws(DemoFailure) {
        guard let (name, isResponse) = incoming.name(as: RequestClientMessage.self, in: demoProtocol), !isResponse else {
            throw DemoFailure(step: incoming.step, "not a message the UI handles")
        }
        switch name {
        case .cacheSizeChanged:
            guard try incoming.value("buckets").listValue?.count == 4 else { throw DemoFailure(step: incoming.step, "buckets") }
            cacheSizeReports.append((try incoming.unsigned("bytes"), try incoming.unsigned("entries")))
        case .websocketClosed:
            // RequestServer reports a client it dropped (see RequestServerPeer.clientEnded).
            guard try incoming.unsigned("code") == 1002, try !incoming.bool("clean") else {
                throw DemoFailure(step: incoming.step, "unexpected close report")
            }
            disconnectReports.append((try incoming.signed("websocket_id"), try incoming.string("reason")))
        default:
            throw DemoFailure(step: incoming.step, "unexpected \(name.rawValue) on the UI connection")
        }
    }

    /// Sync round trips to both helpers, then RequestServer's configuration.
    func greetHelpers() throws(DemoFailure) {
        let webContent = try connection(.webContent)
        let requestServer = try connection(.requestServer)
        let cookie: UInt32 = 0xC0FF_EE00 | UInt32(truncatingIfNeeded: options.seed & 0xFF)
        let pong = try runtime.call(webContent, WebContentServerMessage.ping, [.u(cookie)])
        guard try pong.unsigned("cookie") == cookie else { throw DemoFailure(step: "ping WebContent", "wrong cookie") }

        for (scheme, expected) in [("https", true), ("gopher", false)] {
            let answer = try runtime.call(requestServer, RequestServerMessage.isSupportedProtocol, [.string(scheme)])
            guard try answer.bool("supported") == expected else {
                throw DemoFailure(step: "is_supported_protocol(\(scheme))", "expected \(expected)")
            }
        }
        let resolved = try runtime.call(requestServer, RequestServerMessage.resolveHost, [.string("example.org")])
        guard try resolved.value("ipv4") == .list([.unsigned(UInt64(IPCValue.ipv4((93, 184, 215, 14))))]),
              try resolved.value("ipv6").listValue?.first?.bytesValue?.count == 16,
              try resolved.signed("ttl") == 300_000_000_000
        else { throw DemoFailure(step: "resolve_host", "unexpected answer") }

        try runtime.post(requestServer, RequestServerMessage.setDNSServer, [
            .variant(index: 0, .u(IPCValue.ipv4((9, 9, 9, 9)))), .u(UInt16(853)), .flag(true),
        ])
        try runtime.post(requestServer, RequestServerMessage.setDownloadLimit, [.u(UInt64(12_500_000)), .s(Int16(-3))])
        try runtime.post(requestServer, RequestServerMessage.clearCache, [.optional(.s(Int64(1_767_225_600) * 1_000_000_000))])
        try runtime.post(requestServer, RequestServerMessage.ensureConnection, [.url(DemoContent.origin + "/"), .u(UInt8(2))])
    }

    /// set_log_sink: the write end of a pipe travels as an `IPC::File`; WebContent logs into it.
    func attachLogSink() throws(DemoFailure) {
        let pipe: Pipe
        do { pipe = try Pipe.make() } catch { throw DemoFailure(step: "set up the log sink", error.description) }
        let writeEnd = pipe.writeEnd  // closed on any failure below; the post's from then on
        do {
            logCollector = try TextCollector(fd: pipe.readEnd.release(), name: "demo log sink")
        } catch {
            throw DemoFailure(step: "set up the log sink", error.description)
        }
        try runtime.post(try connection(.webContent), WebContentServerMessage.setLogSink, [.file(writeEnd.release())])
    }

    func setUpPage() throws(DemoFailure) {
        let webContent = try connection(.webContent)
        let page = IPCValue.u(DemoContent.pageID)
        try runtime.post(webContent, WebContentServerMessage.setViewport, [page, .intSize(width: 1280, height: 720), .double(2.0)])
        try runtime.post(webContent, WebContentServerMessage.setPreferredColorScheme, [page, .enumeration("Dark")])
        try runtime.post(webContent, WebContentServerMessage.setZoom, [page, .float(1.25)])
        try runtime.post(webContent, WebContentServerMessage.setCookies, [
            page, .stringMap([("session", "4c1b"), ("theme", "dark"), ("lang", "fr-CH")]),
        ])
        try runtime.post(webContent, WebContentServerMessage.setProxy, [.proxy(socks5: (10, 0, 0, 1), port: 1080)])
        try runtime.post(webContent, WebContentServerMessage.loadHTML, [page, .string(DemoContent.htmlDocument)])
    }
}
