import Glibc
import IPCTransport
import IPCWire

/// A MessagePort-like transfer (docs/protocol.md §6): the UI owns both ends of a port, posts on one end, then
/// hands the other end — with what it had already received — to WebContent, which must process the
/// handed-over messages first and the rest in order.
extension UIPeer {
    func transferMessagePort() throws(DemoFailure) {
        let step = "transfer a message port"
        let portA: IPCTransport
        let portB: IPCTransport
        do {
            let pair = try IPCTransport.makePair()
            portA = pair.transport
            portB = try IPCTransport(adopting: pair.peer)
        } catch {
            throw DemoFailure(step: step, "socketpair: \(error)")
        }
        let total = DemoContent.portMessagesBeforeTransfer + DemoContent.portMessagesAfterTransfer
        let connectionA = try runtime.attach(
            portA, name: "message port", kind: .messagePort,
            onMessage: { [unowned self] incoming throws(DemoFailure) in
                let number = portRepliesReceived + 1
                let text = String(decoding: try incoming.serializationRecord(), as: UTF8.self)
                guard text == DemoContent.portReply(number) else {
                    throw DemoFailure(step: step, "reply \(number) out of order: \"\(text)\"")
                }
                portRepliesReceived = number
            })

        // 1. Messages posted before the transfer arrive at port B and stay queued there.
        for number in 1...DemoContent.portMessagesBeforeTransfer {
            try connectionA.postRaw(DemoContent.transferRecord(DemoContent.portMessage(number)), what: "port message \(number)")
        }
        portA.flush(timeout: .seconds(5))
        let deadline = ContinuousClock.now.advanced(by: .seconds(5))
        while portB.statistics.messagesReceived < DemoContent.portMessagesBeforeTransfer, ContinuousClock.now < deadline {
            usleep(500)
        }

        // 2. Release B (what it received stays receivable), then drain it: those are the pending messages.
        let handle: Int32
        do {
            handle = try portB.releaseForTransfer()
        } catch {
            throw DemoFailure(step: step, "release_for_transfer: \(error)")
        }
        var pending: [IPCValue] = []
        draining: while true {
            switch portB.receive(timeout: .zero) {
            case .message(let payload, let fds):
                Descriptor.closeAll(fds)
                pending.append(.bytes(payload))
            case .released, .timedOut, .eof:
                break draining
            }
        }
        runtime.account(portB, retained: 0)
        guard pending.count == DemoContent.portMessagesBeforeTransfer else {
            Descriptor.close(handle)
            throw DemoFailure(step: step, "port B had received \(pending.count) messages before the transfer")
        }

        // 3. Hand it over, then keep posting on A: those arrive on WebContent's adopted transport.
        try runtime.post(try connection(.webContent), WebContentServerMessage.takeMessagePort, [
            .u(DemoContent.pageID), .transportHandle(handle), .list(pending), .flag(false),
        ])
        runtime.countTransfer(out: 1)
        for number in (DemoContent.portMessagesBeforeTransfer + 1)...total {
            try connectionA.postRaw(DemoContent.transferRecord(DemoContent.portMessage(number)), what: "port message \(number)")
        }
        try runtime.run(step: step, timeout: .seconds(10)) { self.portRepliesReceived == total }
        runtime.close(connectionA)
    }
}
