import IPCTransport
import IPCWire

/// Connecting WebContent to RequestServer (a transport transfer), loading the page and asking about it.
extension UIPeer {
    /// As in Ladybird: RequestServer makes a socketpair and returns one end as an `IPC::TransportHandle`;
    /// the UI passes it on to WebContent, which talks to RequestServer directly from then on.
    func connectWebContentToRequestServer() throws(DemoFailure) {
        let handle = try newRequestServerClient()
        try runtime.post(try connection(.webContent), WebContentServerMessage.connectToRequestServer, [.transportHandle(handle)])
        runtime.countTransfer(out: 1)
    }

    /// connect_new_client: a fresh client transport of RequestServer, as a raw fd we now own.
    func newRequestServerClient() throws(DemoFailure) -> Int32 {
        let answer = try runtime.call(try connection(.requestServer), RequestServerMessage.connectNewClient, [])
        let fd = try answer.takeFD("handle")
        guard (try? Descriptor.info(fd).kind) == .socket else {
            Descriptor.close(fd)
            throw DemoFailure(step: "connect_new_client", "the handle is not a socket")
        }
        runtime.countTransfer(in: 1)
        return fd
    }

    func loadPage() throws(DemoFailure) {
        let url = DemoContent.pageURL(seed: options.seed)
        try runtime.post(try connection(.webContent), WebContentServerMessage.loadURL, [.u(DemoContent.pageID), .string(url)])
        try runtime.run(step: "load \(url)", timeout: .seconds(15)) { self.page.pageLoaded }

        let step = "check the loaded page"
        let expectedLoads = ["about:srcdoc", url]
        guard page.loadsStarted == expectedLoads, page.loadsFinished.map(\.url) == expectedLoads,
              page.loadsFinished.map(\.state) == ["Interactive", "Complete"]
        else { throw DemoFailure(step: step, "loads \(page.loadsStarted) → \(page.loadsFinished)") }
        guard page.title == DemoContent.pageTitle, page.url == url, page.themeColor == 0xFF33_6699 else {
            throw DemoFailure(step: step, "title \(page.title ?? "nil"), url \(page.url ?? "nil")")
        }
        guard page.origin == .structure([.bool(0), .present(.string("https")), .variant(index: 2, .string("example.org")), .absent, .absent]) else {
            throw DemoFailure(step: step, "origin \(page.origin.map { "\($0)" } ?? "nil")")
        }
        guard page.paints == 1, page.invalidations == 1, page.scrolls == 1, page.consoleMessages == 1,
              page.measurements == 1, page.workerQueues == 1, page.cookieRequests == 1
        else { throw DemoFailure(step: step, "not every page message arrived exactly once") }
    }

    /// Sync calls with every kind of answer: Optional<String>, Utf16String, each Variant alternative,
    /// Optional<JsonValue> — and a confirm() dialog that makes WebContent call back into the UI meanwhile.
    func queryPage() throws(DemoFailure) {
        let webContent = try connection(.webContent)
        let page = IPCValue.u(DemoContent.pageID)

        let title = try runtime.call(webContent, WebContentServerMessage.getTitle, [page])
        guard try title.value("title") == .present(.string(DemoContent.pageTitle)) else {
            throw DemoFailure(step: "get_title", "got \(try title.value("title"))")
        }
        let selection = try runtime.call(webContent, WebContentServerMessage.getSelectedText, [page])
        guard try selection.string("selection") == "héllo, wörld ✓" else { throw DemoFailure(step: "get_selected_text", "wrong text") }

        let scripts: [(source: String, expected: IPCValue)] = [
            ("6 * 7", .variant(index: 1, .double(42))),
            ("document.title", .variant(index: 2, .string(DemoContent.pageTitle))),
            ("void 0", .variant(index: 0, .empty)),
            ("confirm('Leave the demo page?')", .variant(index: 2, .string("confirmed: true"))),
        ]
        for script in scripts {
            let answer = try runtime.call(webContent, WebContentServerMessage.runJavaScript, [page, .string(script.source)])
            guard try answer.value("result") == script.expected else {
                throw DemoFailure(step: "run_javascript(\(script.source))", "got \(try answer.value("result"))")
            }
        }
        guard self.page.dialogs == 2 else { throw DemoFailure(step: "confirm()", "expected a confirm and an alert") }

        let dom = try runtime.call(webContent, WebContentServerMessage.inspectDOM, [page, .absent])
        guard case .present(.string(let json)) = try dom.value("tree"), json.hasPrefix(#"{"id":1,"tag":"html""#),
              json.contains(DemoContent.pageTitle)
        else { throw DemoFailure(step: "inspect_dom", "unexpected tree \(try dom.value("tree"))") }
        let node = try runtime.call(webContent, WebContentServerMessage.inspectDOM, [page, .present(.s(Int64(5)))])
        guard case .present(.string(let nodeJSON)) = try node.value("tree"), nodeJSON.contains(#""id":5"#) else {
            throw DemoFailure(step: "inspect_dom(5)", "unexpected node")
        }
    }
}
