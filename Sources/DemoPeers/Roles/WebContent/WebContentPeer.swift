import Foundation
import Glibc
import IPCTransport
import IPCWire

/// The demo's WebContent process: renders "the page" for the UI, fetches it through RequestServer over a
/// transport the UI handed it, adopts a transferred MessagePort, and misbehaves on request.
final class WebContentPeer {
    let runtime: PeerRuntime
    var demoProtocol: DemoProtocol { runtime.demoProtocol }
    var ui: DemoConnection?
    var requestServer: DemoConnection?
    var port: DemoConnection?
    var logSink: Int32?
    /// Learnt from the page URL (`?seed=`); every generated value derives from it.
    var seed: UInt64 = 0

    // The page
    var loadingURL: String?
    var title: String?
    var html: String?
    var cookies: [String: String] = [:]
    var viewport: (width: Int64, height: Int64, scale: Double)?
    var colorScheme: String?
    var zoom: Float = 1
    var pageClosed = false

    // Requests to RequestServer
    var bodyBytesVerified: [Int32: Int] = [:]
    var pageRequestFinished = false
    var cancelledRequestFinished = false
    var websocketOpen = false
    var websocketClosed = false
    var websocketFramesSent: UInt64 = 0
    var websocketFramesSinceFlowCheck = 0
    var nextEchoedFrame: UInt64 = 3

    // Bulk input and repaints
    var nextInput = 0
    var paintsSent = 0

    // Message port
    var portMessagesHandled = 0
    var portPendingHandled = 0
    var portEnded = false

    // Misbehaving
    var armedMisbehavior: Misbehavior?
    var misbehaviorsDone = 0

    init(runtime: PeerRuntime) {
        self.runtime = runtime
    }

    /// Serves the UI until it closes the connection, then checks that everything it started has finished.
    func serve(_ transport: IPCTransport) throws(DemoFailure) {
        try runtime.serveUntilHangUp(
            transport, name: "UI",
            onMessage: { [unowned self] incoming throws(DemoFailure) in try handleUIMessage(incoming) },
            attached: { ui = $0 })
        try checkEverythingFinished()
    }

    private func checkEverythingFinished() throws(DemoFailure) {
        let step = "final checks"
        guard pageClosed else { throw DemoFailure(step: step, "the UI never sent close_page") }
        guard pageRequestFinished, bodyBytesVerified[DemoContent.pageRequestID] != nil else {
            throw DemoFailure(step: step, "the page request never finished")
        }
        guard cancelledRequestFinished else { throw DemoFailure(step: step, "the stopped request was never reported cancelled") }
        guard websocketClosed else { throw DemoFailure(step: step, "the WebSocket was not closed") }
        let portTotal = DemoContent.portMessagesBeforeTransfer + DemoContent.portMessagesAfterTransfer
        guard portEnded, portMessagesHandled == portTotal else {
            throw DemoFailure(step: step, "message port: \(portMessagesHandled) of \(portTotal) messages, ended: \(portEnded)")
        }
    }

    func uiConnection() throws(DemoFailure) -> DemoConnection {
        guard let ui, ui.isOpen else { throw DemoFailure(step: "talk to the UI", "no UI connection") }
        return ui
    }

    /// One line into the UI's log pipe (the `IPC::File` from set_log_sink).
    func log(_ line: String) {
        guard let logSink else { return }
        try? Descriptor.writeAll(logSink, Array("webcontent: \(line)\n".utf8))
    }

    func closeLogSink() {
        if let logSink { Descriptor.close(logSink) }
        logSink = nil
    }

    // MARK: UI → WebContent

    private func handleUIMessage(_ incoming: DemoIncoming) throws(DemoFailure) {
        guard let (name, isResponse) = incoming.name(as: WebContentServerMessage.self, in: demoProtocol), !isResponse else {
            throw DemoFailure(step: incoming.step, "not a message WebContent handles")
        }
        switch name {
        case .setLogSink:
            closeLogSink()
            logSink = try incoming.takeFD("log")
            log("log sink attached")
        case .connectToRequestServer:
            try connectToRequestServer(incoming)
        case .loadHTML:
            try loadHTML(incoming)
        case .loadURL:
            try loadURL(incoming)
        case .setViewport:
            try setViewport(incoming)
        case .setPreferredColorScheme:
            let scheme = try incoming.enumCase("scheme")
            guard ["Auto", "Light", "Dark"].contains(scheme) else { throw DemoFailure(step: incoming.step, "scheme \(scheme)") }
            colorScheme = scheme
        case .setZoom:
            guard case .float(let value) = try incoming.value("zoom"), value > 0, value < 10 else {
                throw DemoFailure(step: incoming.step, "implausible zoom \(try incoming.value("zoom"))")
            }
            zoom = value
        case .setCookies:
            try setCookies(incoming)
        case .setProxy:
            try checkProxy(incoming)
        case .mouseEvent, .keyEvent:
            try handleInput(incoming, isMouse: name == .mouseEvent)
        case .getTitle:
            try runtime.respond(to: incoming, name, [.optional(title.map { .string($0) })])
        case .getSelectedText:
            try runtime.respond(to: incoming, name, [.string("héllo, wörld ✓")])
        case .runJavaScript:
            try runJavaScript(incoming)
        case .inspectDOM:
            try inspectDOM(incoming)
        case .takeMessagePort:
            try takeMessagePort(incoming)
        case .ping:
            try ping(incoming)
        case .closePage:
            try closePage(incoming)
        }
    }

    private func setViewport(_ incoming: DemoIncoming) throws(DemoFailure) {
        guard let size = try incoming.value("size").structureValue, size.count == 2,
              let width = size[0].signedValue, let height = size[1].signedValue, width > 0, height > 0,
              case .double(let scale) = try incoming.value("device_pixel_ratio"), scale > 0
        else { throw DemoFailure(step: incoming.step, "implausible viewport") }
        viewport = (width, height, scale)
    }

    private func setCookies(_ incoming: DemoIncoming) throws(DemoFailure) {
        guard let entries = try incoming.value("cookies").mapValue else { throw DemoFailure(step: incoming.step, "not a map") }
        for entry in entries {
            guard let key = entry.key.stringValue, let value = entry.value.stringValue else {
                throw DemoFailure(step: incoming.step, "cookie entry \(entry.key) = \(entry.value)")
            }
            cookies[key] = value
        }
    }

    private func checkProxy(_ incoming: DemoIncoming) throws(DemoFailure) {
        guard let fields = try incoming.value("proxy").structureValue, fields.count == 3,
              fields[0].enumCaseName != nil, fields[1].unsignedValue != nil, fields[2].unsignedValue != nil
        else { throw DemoFailure(step: incoming.step, "malformed Core::ProxyData") }
    }

    private func runJavaScript(_ incoming: DemoIncoming) throws(DemoFailure) {
        let source = try incoming.string("source")
        let result: IPCValue
        if let kind = Misbehavior.allCases.first(where: { source == "ipcscope.misbehave('\($0.rawValue)')" }) {
            // The next connect_to_request_server handle is used to misbehave instead of being adopted.
            armedMisbehavior = kind
            result = .variant(index: 2, .string("armed \(kind.rawValue)"))
        } else if source == "document.title" {
            result = title.map { .variant(index: 2, .string($0)) } ?? .variant(index: 0, .empty)
        } else if source == "6 * 7" {
            result = .variant(index: 1, .double(42))
        } else if source.hasPrefix("confirm(") {
            // A dialog: WebContent asks the UI (sync) while the UI itself waits for this very answer.
            let answer = try runtime.call(try uiConnection(), WebContentClientMessage.didRequestConfirm, [.u(DemoContent.pageID), .string(source)])
            let accepted = try answer.bool("accepted")
            _ = try runtime.call(try uiConnection(), WebContentClientMessage.didRequestAlert, [
                .u(DemoContent.pageID), .string(accepted ? "Thanks for staying!" : "Goodbye!"),
            ])
            result = .variant(index: 2, .string("confirmed: \(accepted)"))
        } else {
            result = .variant(index: 0, .empty)
        }
        try runtime.respond(to: incoming, WebContentServerMessage.runJavaScript, [result])
    }

    private func inspectDOM(_ incoming: DemoIncoming) throws(DemoFailure) {
        guard let node = try incoming.value("node_id").optionalValue else { throw DemoFailure(step: incoming.step, "node_id") }
        let tree: IPCValue
        if html == nil && title == nil {
            tree = .absent
        } else if let node {
            tree = .present(.string(#"{"id":\#(node.signedValue ?? -1),"tag":"p","text":"héllo"}"#))
        } else {
            let escapedTitle = (title ?? "").replacingOccurrences(of: "\"", with: "\\\"")
            tree = .present(.string(
                #"{"id":1,"tag":"html","children":[{"id":2,"tag":"head","children":[{"id":3,"tag":"title","text":"\#(escapedTitle)"}]},{"id":4,"tag":"body","children":[{"id":5,"tag":"p","text":"héllo"}]}]}"#))
        }
        try runtime.respond(to: incoming, WebContentServerMessage.inspectDOM, [tree])
    }

    private func ping(_ incoming: DemoIncoming) throws(DemoFailure) {
        let cookie = try incoming.unsigned("cookie")
        // Flow control towards RequestServer too: one sync round trip bounds what we queued there.
        if websocketFramesSinceFlowCheck > 0, let requestServer {
            websocketFramesSinceFlowCheck = 0
            _ = try runtime.call(requestServer, RequestServerMessage.getCacheSize, [])
        }
        try runtime.respond(to: incoming, WebContentServerMessage.ping, [.u(cookie)])
    }

    private func closePage(_ incoming: DemoIncoming) throws(DemoFailure) {
        let step = "close page"
        guard try incoming.unsigned("page_id") == DemoContent.pageID else { throw DemoFailure(step: step, "wrong page id") }
        if let requestServer {
            if websocketOpen {
                try runtime.post(requestServer, RequestServerMessage.websocketClose, [
                    .s(DemoContent.websocketID), .u(UInt16(1000)), .string("page closed"),
                ])
                try runtime.run(step: "close the WebSocket", timeout: .seconds(10)) { self.websocketClosed }
            }
            runtime.close(requestServer)
        }
        if port != nil {
            // The UI closed the message port before asking to close the page, but the port's EOF travels
            // on a transport of its own — through a recorder, on another relay thread — and may arrive
            // after this message. A page closes after its ports; wait for it, as the log expects.
            try runtime.run(step: "wait for the message port to end", timeout: .seconds(10)) { self.portEnded }
        }
        pageClosed = true
        log("page closed; \(nextInput) input events, \(paintsSent) paints, \(websocketFramesSent) WebSocket frames")
        closeLogSink()
        try runtime.respond(to: incoming, WebContentServerMessage.closePage, [])
    }
}
