import IPCTransport
import IPCWire

/// The UI's view of the page, built from what WebContent tells it (DemoWebContentClient). Every message is
/// checked as it arrives: bitmaps pixel by pixel, values against what the page must have sent.
final class PageObserver {
    var seed: UInt64
    private(set) var loadsStarted: [String] = []
    private(set) var loadsFinished: [(url: String, state: String)] = []
    private(set) var title: String?
    private(set) var url: String?
    private(set) var origin: IPCValue?
    private(set) var themeColor: UInt64?
    private(set) var paints = 0
    private(set) var invalidations = 0
    private(set) var scrolls = 0
    private(set) var consoleMessages = 0
    private(set) var measurements = 0
    private(set) var workerQueues = 0
    private(set) var cookieRequests = 0
    private(set) var dialogs = 0

    init(seed: UInt64) {
        self.seed = seed
    }

    var pageLoaded: Bool { loadsFinished.contains { $0.state == "Complete" } }

    func handle(_ incoming: DemoIncoming, runtime: PeerRuntime) throws(DemoFailure) {
        guard let (name, isResponse) = incoming.name(as: WebContentClientMessage.self, in: runtime.demoProtocol), !isResponse else {
            throw DemoFailure(step: incoming.step, "not a message the UI handles")
        }
        if try incoming.unsigned("page_id") != DemoContent.pageID {
            throw DemoFailure(step: incoming.step, "unknown page")
        }
        switch name {
        case .didStartLoading:
            loadsStarted.append(try incoming.string("url"))
            guard try !incoming.bool("is_redirect") else { throw DemoFailure(step: incoming.step, "unexpected redirect") }
        case .didFinishLoading:
            loadsFinished.append((try incoming.string("url"), try incoming.enumCase("state")))
        case .didChangeTitle:
            title = try incoming.string("title")
        case .didChangeURL:
            url = try incoming.value("url").structureValue?.first?.stringValue
        case .didChangeOrigin:
            origin = try incoming.value("origin")
        case .didChangeThemeColor:
            themeColor = try incoming.unsigned("color")
        case .didPaint:
            try checkPaint(incoming)
        case .didInvalidate:
            guard let rects = try incoming.value("rects").listValue, !rects.isEmpty,
                  rects.allSatisfy({ $0.structureValue?.count == 4 })
            else { throw DemoFailure(step: incoming.step, "no rectangles") }
            invalidations += 1
        case .didScroll:
            guard let point = try incoming.value("position").structureValue, point.count == 2, point[1].floatValue == 512.5 else {
                throw DemoFailure(step: incoming.step, "unexpected scroll position")
            }
            scrolls += 1
        case .didOutputConsoleMessage:
            guard try incoming.enumCase("level") == "Warn", try incoming.string("message").hasPrefix("Ünïcödé console ✓") else {
                throw DemoFailure(step: incoming.step, "unexpected console message")
            }
            consoleMessages += 1
        case .didMeasure:
            guard try incoming.value("timings").mapValue?.count == 3, try incoming.signed("finished_at") > 0 else {
                throw DemoFailure(step: incoming.step, "unexpected timings")
            }
            measurements += 1
        case .didStartWorker:
            let fd = try incoming.takeFD("message_queue")
            defer { Descriptor.close(fd) }
            guard (try? Descriptor.info(fd).kind) == .memfd else { throw DemoFailure(step: incoming.step, "the queue is not a memfd") }
            workerQueues += 1
        case .didRequestCookie:
            cookieRequests += 1
            let requested = try incoming.string("url")
            let cookie: IPCValue = requested.hasPrefix(DemoContent.origin) ? .present(.string(DemoContent.cookieValue)) : .absent
            try runtime.respond(to: incoming, name, [cookie])
        case .didRequestConfirm:
            dialogs += 1
            try runtime.respond(to: incoming, name, [.flag(true)])
        case .didRequestAlert:
            dialogs += 1
            try runtime.respond(to: incoming, name, [])
        }
    }

    /// The AnonymousBuffer must be a memfd holding exactly the pixels of paint number `paints`.
    private func checkPaint(_ incoming: DemoIncoming) throws(DemoFailure) {
        let frame = paints
        guard case .attachment(let attachment) = try incoming.value("bitmap"), let size = attachment.bufferSize else {
            throw DemoFailure(step: incoming.step, "no bitmap")
        }
        let fd = try incoming.takeFD(attachment)
        defer { Descriptor.close(fd) }
        let (width, height) = DemoContent.paintSize(frame: frame)
        guard try incoming.value("size") == .structure([.signed(Int64(width)), .signed(Int64(height))]),
              size == UInt64(width) * UInt64(height) * 4
        else { throw DemoFailure(step: "paint \(frame)", "unexpected size \(try incoming.value("size")) / \(size) bytes") }
        let pixels: [UInt8]
        do {
            pixels = try SharedMemory.read(fd, size: Int(size))
        } catch {
            throw DemoFailure(step: "paint \(frame)", error.description)
        }
        guard pixels == DemoContent.bitmap(width: Int(width), height: Int(height), frame: frame, seed: seed) else {
            throw DemoFailure(step: "paint \(frame)", "the bitmap's pixels differ")
        }
        paints += 1
    }
}
