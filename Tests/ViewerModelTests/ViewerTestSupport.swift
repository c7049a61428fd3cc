import Foundation
import IPCWire
import Testing
import TraceFormat
@testable import ViewerModel

/// Drives a ``TraceViewer`` as a backend would: events in, a grid out.
struct ViewerHarness {
    let viewer: TraceViewer
    var rows: Int
    var columns: Int

    static let traces = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Traces").standardizedFileURL.path

    init(path: String, rows: Int = 40, columns: Int = 140, glyphs: Glyphs = .unicode, filter: String = "", follow: Bool = false) throws {
        self.rows = rows
        self.columns = columns
        viewer = try TraceViewer(
            path: path, store: .disabled,
            configuration: ViewerConfiguration(glyphs: glyphs, filterText: filter, follow: follow, rows: rows, columns: columns))
    }

    init(sample name: String, rows: Int = 40, columns: Int = 140, glyphs: Glyphs = .unicode, filter: String = "") throws {
        try self.init(path: Self.traces + "/" + name, rows: rows, columns: columns, glyphs: glyphs, filter: filter)
    }

    func render() -> CellGrid {
        var grid = CellGrid(rows: rows, columns: columns)
        viewer.render(into: &grid)
        return grid
    }

    @discardableResult
    func press(_ keys: Key...) -> ViewerEffect {
        var effect = ViewerEffect.none
        for key in keys { effect = viewer.update(.key(key)) }
        return effect
    }

    func type(_ text: String) {
        for character in text { _ = viewer.update(.key(.character(character))) }
    }

    mutating func resize(rows: Int, columns: Int) {
        self.rows = rows
        self.columns = columns
        _ = viewer.update(.resize(rows: rows, columns: columns))
    }
}

/// A scratch directory removed at deinit.
final class ScratchDirectory {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "viewer-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Builds small traces with known content: three processes (UI, WebContent, RequestServer), channels between
/// them, frames whose envelopes match an embedded schema, acks, a sync pair, a violation, an EOF.
struct SyntheticTrace {
    static let schema = """
    endpoint TestServer
    {
        load_url(u32 tab, u64 length) =|
        ping(u32 cookie) => (u32 cookie)
    }
    """
    static let ms: UInt64 = 1_000_000

    var records: [TraceRecord] = []
    private var frameIndex: [String: UInt64] = [:]
    private let messages: [String: (magic: UInt32, id: Int32)]

    init() {
        let file = try! SchemaParser.parse(Self.schema, path: "Test.ipc")
        var messages: [String: (UInt32, Int32)] = [:]
        for (_, endpoint) in SchemaSet(files: [file]).endpointsByMagic {
            for descriptor in endpoint.descriptors { messages[descriptor.name] = (descriptor.magic, descriptor.id) }
        }
        self.messages = messages
    }

    static var header: TraceHeader {
        TraceHeader(createdWallClockNanoseconds: 1_000_000_000, monotonicAnchorNanoseconds: 0, hostName: "test", ipcscopeVersion: "test",
                    commandLine: ["test"], snapLength: 4096, schemas: [.init(path: "Test.ipc", text: schema)])
    }

    mutating func process(_ pid: Int32, _ name: String, at time: UInt64) {
        records.append(.process(ProcessRecord(time: time, pid: pid, executable: "/usr/bin/" + name, arguments: [name])))
    }

    mutating func open(_ channel: UInt32, a: Int32, b: Int32, at time: UInt64) {
        records.append(.channelOpened(ChannelOpenedRecord(
            time: time, channel: channel, endpointA: ChannelEndpoint(name: "", pid: a), endpointB: ChannelEndpoint(name: "", pid: b), discovery: .listen)))
    }

    private mutating func nextFrame(_ channel: UInt32, _ direction: Direction) -> UInt64 {
        let key = "\(channel)/\(direction.rawValue)"
        defer { frameIndex[key, default: 0] += 1 }
        return frameIndex[key, default: 0]
    }

    /// A payload frame of `message` with `parameters` as the little-endian bytes after the envelope.
    mutating func frame(_ channel: UInt32, _ direction: Direction, _ message: String, parameters: [UInt8], fds: Int = 0, at time: UInt64) {
        let (magic, id) = messages[message]!
        var payload: [UInt8] = []
        withUnsafeBytes(of: magic.littleEndian) { payload += $0 }
        withUnsafeBytes(of: id.littleEndian) { payload += $0 }
        payload += parameters
        records.append(.payloadFrame(PayloadFrameRecord(
            time: time, channel: channel, direction: direction, frameIndex: nextFrame(channel, direction), streamOffset: 0,
            header: FrameHeader(type: .payload, payloadSize: UInt32(payload.count), fdCount: UInt32(fds)), capturedPayload: payload,
            fds: (0..<fds).map { AttachedFD(kind: .memfd, inode: UInt64(80 + $0), size: 4096) })))
    }

    mutating func ack(_ channel: UInt32, _ direction: Direction, count: UInt32, at time: UInt64) {
        records.append(.acknowledgement(AcknowledgementRecord(
            time: time, channel: channel, direction: direction, frameIndex: nextFrame(channel, direction), streamOffset: 0, count: count)))
    }

    mutating func sample(_ channel: UInt32, _ direction: Direction, unread: UInt64, fds: UInt64 = 0, at time: UInt64) {
        records.append(.queueSample(QueueSampleRecord(time: time, channel: channel, direction: direction, receiverUnreadBytes: unread, unacknowledgedFDs: fds)))
    }

    mutating func violation(_ channel: UInt32, _ direction: Direction, at time: UInt64) {
        records.append(.violation(ViolationRecord(
            time: time, channel: channel, direction: direction, kindName: "too-many-fds-in-frame", severity: .violation,
            limit: 128, observed: 129, streamOffset: 0, frameIndex: nil, continuation: .continues)))
    }

    mutating func eof(_ channel: UInt32, _ direction: Direction, at time: UInt64) {
        records.append(.eof(EOFRecord(time: time, channel: channel, direction: direction, kind: .peerClosed, likelyCause: "too-many-fds-in-frame")))
    }

    func write(to path: String) throws {
        let writer = try TraceWriter(path: path, header: Self.header)
        for record in records { #expect(writer.submit(record, waitForRoom: true)) }
        try writer.close()
    }

    static func u32(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }
    static func u64(_ value: UInt64) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }

    /// UI (100), WebContent (200), RequestServer (300); ch1 UI↔WebContent, ch2 WebContent↔RequestServer.
    static func browser() -> SyntheticTrace {
        var t = SyntheticTrace()
        t.process(100, "UI", at: 0)
        t.process(200, "WebContent", at: 0)
        t.process(300, "RequestServer", at: 0)
        t.open(1, a: 100, b: 200, at: 0)
        t.open(2, a: 200, b: 300, at: 0)
        t.frame(1, .aToB, "load_url", parameters: u32(7) + u64(4096), at: 1 * ms)        // UI → WebContent
        t.sample(2, .aToB, unread: 0, at: 1 * ms)
        t.frame(2, .aToB, "ping", parameters: u32(0xC0FFEE), at: 2 * ms)                 // WebContent → RequestServer, sync
        t.sample(2, .aToB, unread: 64 << 10, at: 3 * ms)
        t.frame(2, .bToA, "PingResponse", parameters: u32(0xC0FFEE), at: 4_100_000)      // 2.1 ms later
        t.frame(1, .bToA, "load_url", parameters: u32(8) + u64(1), fds: 1, at: 5 * ms)    // WebContent → UI, 1 fd
        t.ack(1, .aToB, count: 1, at: 6 * ms)
        t.sample(2, .aToB, unread: 200 << 20, at: 7 * ms)
        t.violation(2, .aToB, at: 7 * ms)
        t.eof(2, .bToA, at: 8 * ms)
        return t
    }
}

extension SyntheticTrace {
    /// A long trace of the same shape throughout: requests, responses and async messages on two channels,
    /// a queue sample every 8 frames. `frames` payload frames in all.
    static func generated(frames: Int) -> SyntheticTrace {
        var t = SyntheticTrace()
        t.process(100, "UI", at: 0)
        t.process(200, "WebContent", at: 0)
        t.process(300, "RequestServer", at: 0)
        t.open(1, a: 100, b: 200, at: 0)
        t.open(2, a: 200, b: 300, at: 0)
        var time: UInt64 = ms
        for n in 0..<frames {
            switch n % 3 {
            case 0: t.frame(1, .aToB, "load_url", parameters: u32(UInt32(truncatingIfNeeded: n)) + u64(UInt64(n)), at: time)
            case 1: t.frame(2, .aToB, "ping", parameters: u32(UInt32(truncatingIfNeeded: n)), at: time)
            default: t.frame(2, .bToA, "PingResponse", parameters: u32(UInt32(truncatingIfNeeded: n)), at: time)
            }
            if n % 8 == 0 { t.sample(2, .aToB, unread: UInt64(n % 4096), at: time) }
            time += 10_000
        }
        return t
    }
}
