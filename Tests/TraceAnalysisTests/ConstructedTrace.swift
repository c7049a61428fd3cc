import Glibc
import IPCWire
import TraceFormat

/// A trace written with TraceWriter, as a recorder writes one, whose every latency, fd and violation is
/// known by construction:
///
/// - channel 1 (client A, server B): A calls `TestServer::compute` at 100 while B calls
///   `TestClient::ask` at 120; B answers A at 200 (latency 100), A answers B at 260 (latency 140). An
///   A→B `notify` read at 110 comes in the file after B→A's records of 120 and 200 (file order is not
///   time order; a request's record always precedes its response's, as the recorder hands a frame's record
///   over before it forwards the frame).
/// - channel 2: A sends two `compute` requests (10, 20) before either response (50, 90): latencies 40 and 70.
/// - channel 3: A sends `notify` with 2 fds (frame 0) and with 1 fd (frame 1); B acks 2; frames 0–1 are
///   delivered; frame 2 claims 200 fds (a `too-many-fds-in-frame` violation), then the A→B direction ends
///   with an eof whose likely cause names it. The 1 fd of frame 1 is never acknowledged.
enum ConstructedTrace {
    static let schema = """
        endpoint TestServer
        {
            compute(i32 x) => (i32 y)
            notify(i32 x) =|
        }

        endpoint TestClient
        {
            ask(i32 x) => (i32 y)
        }
        """

    static let descriptors: [String: MessageDescriptor] = {
        let file = try! SchemaParser.parse(schema, path: "test.ipc")
        var byName: [String: MessageDescriptor] = [:]
        for endpoint in SchemaSet(files: [file]).endpointsByMagic.values {
            for descriptor in endpoint.descriptors { byName["\(descriptor.endpointName)::\(descriptor.name)"] = descriptor }
        }
        return byName
    }()

    static func payload(_ message: String) -> [UInt8] {
        let descriptor = descriptors[message]!
        var bytes: [UInt8] = []
        withUnsafeBytes(of: descriptor.magic.littleEndian) { bytes += $0 }
        withUnsafeBytes(of: descriptor.id.littleEndian) { bytes += $0 }
        return bytes + [7, 0, 0, 0]
    }

    static func frame(_ time: UInt64, channel: UInt32, _ direction: Direction, index: UInt64, _ message: String, fds: UInt32 = 0) -> TraceRecord {
        .payloadFrame(PayloadFrameRecord(
            time: time, channel: channel, direction: direction, frameIndex: index, streamOffset: index * 24,
            header: FrameHeader(type: .payload, payloadSize: 12, fdCount: fds), capturedPayload: payload(message),
            fds: Array(repeating: AttachedFD(kind: .memfd), count: Int(fds))))
    }

    static func opened(_ channel: UInt32, _ time: UInt64) -> TraceRecord {
        .channelOpened(ChannelOpenedRecord(time: time, channel: channel, endpointA: ChannelEndpoint(name: "TestClient", pid: 10, command: "client"),
                                           endpointB: ChannelEndpoint(name: "TestServer", pid: 20, command: "server"), discovery: .wrap))
    }

    static let records: [TraceRecord] = [
        opened(1, 1), opened(2, 2), opened(3, 3),
        // channel 2: pipelined requests
        frame(10, channel: 2, .aToB, index: 0, "TestServer::compute"),
        frame(20, channel: 2, .aToB, index: 1, "TestServer::compute"),
        frame(50, channel: 2, .bToA, index: 0, "TestServer::ComputeResponse"),
        frame(90, channel: 2, .bToA, index: 1, "TestServer::ComputeResponse"),
        // channel 1: each side calls the other; an A→B notify read at 110 is handed over after B→A's batch
        frame(100, channel: 1, .aToB, index: 0, "TestServer::compute"),
        frame(120, channel: 1, .bToA, index: 0, "TestClient::ask"),
        frame(200, channel: 1, .bToA, index: 1, "TestServer::ComputeResponse"),
        frame(110, channel: 1, .aToB, index: 1, "TestServer::notify"),
        frame(260, channel: 1, .aToB, index: 2, "TestClient::AskResponse"),
        // channel 3: fds, an ack, a violation and the eof it caused
        frame(300, channel: 3, .aToB, index: 0, "TestServer::notify", fds: 2),
        frame(310, channel: 3, .aToB, index: 1, "TestServer::notify", fds: 1),
        .framesDelivered(FramesDeliveredRecord(time: 315, channel: 3, direction: .aToB, firstFrameIndex: 0, lastFrameIndex: 1)),
        .acknowledgement(AcknowledgementRecord(time: 320, channel: 3, direction: .bToA, frameIndex: 0, streamOffset: 0, count: 2)),
        frame(330, channel: 3, .aToB, index: 2, "TestServer::notify", fds: 200),
        .violation(ViolationRecord(time: 330, channel: 3, direction: .aToB, violation: Violation(
            kind: .tooManyFDsInFrame, limit: 128, observed: 200, streamOffset: 48, frameIndex: 2))),
        .eof(EOFRecord(time: 340, channel: 3, direction: .aToB, kind: .reset, errorNumber: EPIPE,
                       likelyCause: "too-many-fds-in-frame", likelyCauseFrameIndex: 2)),
    ]

    /// Writes the trace (or what `body` writes after the header) to a new file under /tmp and returns its path.
    static func write(name: String = "constructed.ipctrace", _ body: ((TraceWriter) -> Void)? = nil) throws -> String {
        var template = Array("/tmp/ipcscope-analysis-XXXXXX".utf8CString)
        let directory = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        let path = directory + "/" + name
        let header = TraceHeader(createdWallClockNanoseconds: 1_790_000_000_000_000_000, monotonicAnchorNanoseconds: 0,
                                 hostName: "test", ipcscopeVersion: "test", commandLine: ["test"], snapLength: 64,
                                 schemas: [.init(path: "test.ipc", text: schema)])
        let writer = try TraceWriter(path: path, header: header)
        if let body {
            body(writer)
            try writer.close()
            return path
        }
        for record in records { _ = writer.submit(record, waitForRoom: true) }
        // Summary as `check` counts: 12 payload frames, 12 + 12 bytes each, 203 fds claimed and 203 listed.
        try writer.close(ending: EndRecord(time: 400, summary: TraceSummary(
            channels: 3, frames: 12, bytes: 12 * 24, fds: 203, violations: 1, acknowledgementFrames: 1, unknownTypeFrames: 0, warnings: 0),
            cleanStop: true))
        return path
    }
}
