import IPCTransport
import IPCWire

/// The MessagePort hand-over (docs/protocol.md §6): WebContent adopts the port's transport, handles the
/// messages the UI had already received on it first, then the ones that arrive on the transport itself,
/// answering each over the port.
extension WebContentPeer {
    func takeMessagePort(_ incoming: DemoIncoming) throws(DemoFailure) {
        let step = "take the message port"
        guard try incoming.unsigned("page_id") == DemoContent.pageID else { throw DemoFailure(step: step, "wrong page") }
        let fd = try incoming.takeFD("port")
        let transport: IPCTransport
        do {
            transport = try IPCTransport(adopting: fd)
        } catch {
            throw DemoFailure(step: step, "adopting the port: \(error)")
        }
        runtime.countTransfer(in: 1)
        guard let pending = try incoming.value("pending_messages").listValue else {
            transport.close()
            throw DemoFailure(step: step, "pending_messages is not a list")
        }
        let connection = try runtime.attach(
            transport, name: "message port", kind: .messagePort,
            onMessage: { [unowned self] message throws(DemoFailure) in
                try handlePortMessage(message.serializationRecord(), on: message.connection, step: message.step)
            },
            onEnd: { [unowned self] connection, end throws(DemoFailure) in
                guard end.isOrderly else { throw DemoFailure(step: "message port", "ended: \(end)") }
                portEnded = true
                log("message port: \(portMessagesHandled) messages in order (\(portPendingHandled) handed over as pending)")
            })
        port = connection
        // The pending records come first: they were posted before anything still in the socket.
        for (index, record) in pending.enumerated() {
            guard let bytes = record.bytesValue else {
                throw DemoFailure(step: step, "pending message \(index) is not a ByteBuffer")
            }
            let decoded = demoProtocol.decoder.decodeTransferRecord(payload: bytes, attachmentCount: 0)
            guard decoded.outcome.isComplete, let text = decoded.parameters.first?.value.bytesValue else {
                throw DemoFailure(step: step, "pending message \(index) is not a SerializedTransferRecord: \(decoded.outcome.summary)")
            }
            try handlePortMessage(text, on: connection, step: step)
            portPendingHandled += 1
        }
        if try incoming.bool("port_was_closed") { runtime.close(connection) }
    }

    private func handlePortMessage(_ record: [UInt8], on connection: DemoConnection, step: String) throws(DemoFailure) {
        let number = portMessagesHandled + 1
        let text = String(decoding: record, as: UTF8.self)
        guard text == DemoContent.portMessage(number) else {
            throw DemoFailure(step: step, "port message \(number) out of order: \"\(text)\"")
        }
        portMessagesHandled = number
        try connection.postRaw(DemoContent.transferRecord(DemoContent.portReply(number)), what: "port reply \(number)")
    }
}
