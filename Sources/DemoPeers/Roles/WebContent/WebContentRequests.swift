import IPCTransport
import IPCWire

/// WebContent's own connection to RequestServer: adopted from the handle the UI passed on (or, when a
/// misbehaviour is armed, abused once), and RequestServer's answers on it (DemoRequestClient).
extension WebContentPeer {
    func connectToRequestServer(_ incoming: DemoIncoming) throws(DemoFailure) {
        let fd = try incoming.takeFD("handle")
        runtime.countTransfer(in: 1)
        if let kind = armedMisbehavior {
            armedMisbehavior = nil
            switch MisbehavingPeer.misbehave(kind, on: fd, demoProtocol: demoProtocol) {
            case .success(let summary):
                misbehaviorsDone += 1
                log("misbehave \(kind.rawValue): \(summary)")
            case .failure(let failure):
                throw failure
            }
            return
        }
        guard requestServer == nil else {
            Descriptor.close(fd)
            throw DemoFailure(step: incoming.step, "already connected to RequestServer")
        }
        let transport: IPCTransport
        do {
            transport = try IPCTransport(adopting: fd)
        } catch {
            throw DemoFailure(step: incoming.step, "adopting the transport handle: \(error)")
        }
        let connection = try runtime.attach(
            transport, name: "RequestServer",
            onMessage: { [unowned self] incoming throws(DemoFailure) in try handleRequestClientMessage(incoming) },
            onEnd: { connection, end throws(DemoFailure) in
                guard end.isOrderly else {
                    throw DemoFailure(step: "talk to RequestServer", "\(connection.name) connection ended: \(end)")
                }
            })
        requestServer = connection
        let answer = try runtime.call(connection, RequestServerMessage.isSupportedProtocol, [.string("https")])
        guard try answer.bool("supported") else { throw DemoFailure(step: "is_supported_protocol", "https unsupported") }
        log("connected to RequestServer through the transferred handle")
    }

    private func handleRequestClientMessage(_ incoming: DemoIncoming) throws(DemoFailure) {
        guard let (name, isResponse) = incoming.name(as: RequestClientMessage.self, in: demoProtocol), !isResponse else {
            throw DemoFailure(step: incoming.step, "not a message WebContent handles")
        }
        switch name {
        case .requestStarted:
            try readBody(incoming)
        case .headersBecameAvailable:
            let status = try incoming.value("status_code")
            guard status == .present(.unsigned(200)), let headers = try incoming.value("headers").mapValue,
                  headers.contains(where: { $0.key == .string("Content-Type") && $0.value == .string("text/html; charset=utf-8") })
            else { throw DemoFailure(step: incoming.step, "unexpected status \(status) or headers") }
        case .requestProgress:
            guard try incoming.unsigned("downloaded_size") > 0 else { throw DemoFailure(step: incoming.step, "no progress") }
        case .requestFinished:
            try requestFinished(incoming)
        case .certificateRequested:
            // No client certificate: empty certificate and key.
            try runtime.respond(to: incoming, RequestClientMessage.certificateRequested, [.string(""), .string("")])
        case .websocketConnected:
            guard try incoming.signed("websocket_id") == DemoContent.websocketID else {
                throw DemoFailure(step: incoming.step, "unknown WebSocket")
            }
        case .websocketStateChanged:
            let state = try incoming.enumCase("state")
            if state == "Open" { websocketOpen = true }
            if state == "Closing" || state == "Closed" { websocketOpen = false }
        case .websocketReceived:
            try checkEcho(incoming)
        case .websocketClosed:
            guard try incoming.unsigned("code") == 1000, try incoming.bool("clean") else {
                throw DemoFailure(step: incoming.step, "WebSocket closed uncleanly")
            }
            websocketClosed = true
        case .cacheSizeChanged:
            throw DemoFailure(step: incoming.step, "unexpected \(name.rawValue)")
        }
    }

    /// request_started carries the read end of a pipe; RequestServer writes the body into the other end.
    private func readBody(_ incoming: DemoIncoming) throws(DemoFailure) {
        let request = Int32(truncatingIfNeeded: try incoming.signed("request_id"))
        let fd = try incoming.takeFD("fd")
        defer { Descriptor.close(fd) }
        let body: [UInt8]
        do {
            guard try Descriptor.info(fd).kind == .pipe else { throw DemoFailure(step: incoming.step, "the body fd is not a pipe") }
            body = try Descriptor.readToEnd(fd)
        } catch let error as DemoFailure {
            throw error
        } catch {
            throw DemoFailure(step: "read body of request \(request)", "\(error)")
        }
        let expected = DemoContent.body(request: request, seed: seed)
        guard body == expected else {
            throw DemoFailure(step: "read body of request \(request)", "got \(body.count) bytes, expected \(expected.count) (or different content)")
        }
        bodyBytesVerified[request] = body.count
        log("request \(request): body of \(body.count) bytes verified")
    }

    private func requestFinished(_ incoming: DemoIncoming) throws(DemoFailure) {
        let request = Int32(truncatingIfNeeded: try incoming.signed("request_id"))
        let error = try incoming.value("error")
        switch request {
        case DemoContent.pageRequestID:
            let total = try incoming.unsigned("total_size")
            guard error == .absent, let verified = bodyBytesVerified[request], UInt64(verified) == total else {
                throw DemoFailure(step: incoming.step, "request \(request): total \(total), error \(error), read \(bodyBytesVerified[request] ?? -1)")
            }
            pageRequestFinished = true
            try finishLoading()
        case DemoContent.cancelledRequestID:
            guard case .present(.enumCase(name: "Cancelled", raw: _)) = error else {
                throw DemoFailure(step: incoming.step, "request \(request) should end Cancelled, got \(error)")
            }
            cancelledRequestFinished = true
        default:
            throw DemoFailure(step: incoming.step, "unknown request \(request)")
        }
    }

    /// Every fourth frame comes back as websocket_received, in order.
    private func checkEcho(_ incoming: DemoIncoming) throws(DemoFailure) {
        let frame = nextEchoedFrame
        let data = try incoming.bytes("data")
        guard data == DemoContent.websocketPayload(frame, seed: seed), try incoming.bool("is_text") == (frame % 2 == 0) else {
            throw DemoFailure(step: incoming.step, "echo of frame \(frame) differs")
        }
        nextEchoedFrame += 4
    }
}
