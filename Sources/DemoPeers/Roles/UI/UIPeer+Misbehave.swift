import IPCTransport
import IPCWire

/// What happened to one misbehaviour.
struct MisbehaviorOutcome: Sendable {
    var kind: Misbehavior
    /// The violation RequestServer reported for the dropped client, if it reported one.
    var reported: String?
    var reason: String

    var detected: Bool { reported == kind.expectedViolation.rawValue }
}

/// `--misbehave`: for each rule of docs/protocol.md §2, a fresh RequestServer client connection that WebContent
/// abuses once. RequestServer (the victim) must drop it and report why on its main connection.
extension UIPeer {
    func misbehave() throws(DemoFailure) {
        let webContent = try connection(.webContent)
        for kind in Misbehavior.allCases {
            let step = "misbehave \(kind.rawValue)"
            let armed = try runtime.call(webContent, WebContentServerMessage.runJavaScript, [
                .u(DemoContent.pageID), .string("ipcscope.misbehave('\(kind.rawValue)')"),
            ], step: step)
            guard try armed.value("result") == .variant(index: 2, .string("armed \(kind.rawValue)")) else {
                throw DemoFailure(step: step, "WebContent did not arm the misbehaviour")
            }
            let handle = try newRequestServerClient()
            try runtime.post(webContent, WebContentServerMessage.connectToRequestServer, [.transportHandle(handle)])
            runtime.countTransfer(out: 1)

            let reportsBefore = disconnectReports.count
            do {
                try runtime.run(step: step, timeout: .seconds(10)) { self.disconnectReports.count > reportsBefore }
            } catch {
                misbehaviorOutcomes.append(MisbehaviorOutcome(kind: kind, reported: nil, reason: "no disconnect reported: \(error.reason)"))
                continue
            }
            let report = disconnectReports[reportsBefore]
            let violation = report.reason.split(separator: ":", maxSplits: 1).first.map(String.init)
            misbehaviorOutcomes.append(MisbehaviorOutcome(
                kind: kind, reported: violation, reason: "client \(report.client): \(report.reason)"))
        }
    }
}
