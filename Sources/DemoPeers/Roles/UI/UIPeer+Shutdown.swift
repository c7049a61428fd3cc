import IPCTransport
import IPCWire

/// Orderly shutdown: each helper gets a last sync call, then the UI hangs up and the helpers exit on EOF.
extension UIPeer {
    func shutDown() throws(DemoFailure) {
        let webContent = try connection(.webContent)
        _ = try runtime.call(webContent, WebContentServerMessage.closePage, [.u(DemoContent.pageID)], step: "close_page")
        runtime.close(webContent)

        let requestServer = try connection(.requestServer)
        let reportsBefore = cacheSizeReports.count
        let size = try runtime.call(requestServer, RequestServerMessage.getCacheSize, [], step: "final get_cache_size")
        let bytes = try size.unsigned("bytes")
        let expectedBytes = UInt64(DemoContent.bodyLength(request: DemoContent.pageRequestID, seed: options.seed))
        guard bytes == expectedBytes, try size.unsigned("entries") == 1,
              cacheSizeReports.count == reportsBefore + 1, cacheSizeReports.last?.bytes == bytes
        else { throw DemoFailure(step: "final get_cache_size", "cache holds \(bytes) bytes, expected \(expectedBytes)") }
        runtime.close(requestServer)
        try runtime.closeAll(step: "close all connections")
    }

    /// The lines WebContent must have written into the log pipe.
    func checkLog() -> DemoFailure? {
        guard let lines = logCollector?.finish() else { return DemoFailure(step: "log sink", "no log collected") }
        var expected = [
            "webcontent: log sink attached",
            "webcontent: connected to RequestServer through the transferred handle",
            "webcontent: request 1: body of \(DemoContent.bodyLength(request: DemoContent.pageRequestID, seed: options.seed)) bytes verified",
            "webcontent: loaded \(DemoContent.pageURL(seed: options.seed))",
            "webcontent: message port: 5 messages in order (2 handed over as pending)",
            "webcontent: page closed; \(bulkInputs) input events",
        ]
        if options.misbehave { expected += Misbehavior.allCases.map { "webcontent: misbehave \($0.rawValue): wrote" } }
        for prefix in expected where !lines.contains(where: { $0.hasPrefix(prefix) }) {
            return DemoFailure(step: "log sink", "WebContent never logged \"\(prefix)…\" (got \(lines.count) lines)")
        }
        return nil
    }
}
