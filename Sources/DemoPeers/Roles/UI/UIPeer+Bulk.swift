import IPCWire

/// The bulk of the traffic (`--messages N`): input events in windows closed by a sync ping, which keeps
/// every queue in every process short however many millions of messages are sent.
extension UIPeer {
    func sendBulkInput() throws(DemoFailure) {
        let budget = options.messages - DemoScenario.fixedMessageEstimate(misbehave: options.misbehave)
        let inputs = BulkTraffic.inputCount(budget: budget)
        guard inputs > 0 else { return }
        let webContent = try connection(.webContent)
        let paintsBefore = page.paints
        let invalidationsBefore = page.invalidations
        for input in 0..<inputs {
            try webContent.post(BulkTraffic.isMouse(input)
                ? BulkEncoders.outgoing("mouse_event", demoProtocol.bulk.mouseEvent(input, seed: options.seed))
                : BulkEncoders.outgoing("key_event", demoProtocol.bulk.keyEvent(input, seed: options.seed)))
            if BulkTraffic.endsWindow(input, of: inputs) {
                let cookie = UInt32(truncatingIfNeeded: input)
                let pong = try runtime.call(webContent, WebContentServerMessage.ping, [.u(cookie)], step: "input window ending at \(input)")
                guard try pong.unsigned("cookie") == cookie else { throw DemoFailure(step: "ping after input \(input)", "wrong cookie") }
            }
        }
        bulkInputs = inputs
        // WebContent answers each ping after what the inputs before it made it send, so all of it is here.
        let paints = page.paints - paintsBefore
        let invalidations = page.invalidations - invalidationsBefore
        guard paints == BulkTraffic.count(of: inputs, where: BulkTraffic.paints(after:)),
              invalidations == BulkTraffic.count(of: inputs, where: BulkTraffic.invalidates(after:))
        else { throw DemoFailure(step: "bulk input", "\(paints) repaints and \(invalidations) invalidations for \(inputs) inputs") }
    }
}
