import Glibc
import IPCWire
import Testing
@testable import TraceFormat

/// A private directory for one test's files, removed with everything in it when dropped.
final class TemporaryDirectory {
    let path: String

    init() {
        var template = Array("/tmp/traceformat-tests.XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }
        precondition(created != nil, "mkdtemp failed")
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func file(_ name: String) -> String { "\(path)/\(name)" }

    deinit {
        if let directory = opendir(path) {
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name != "." && name != ".." { unlink(file(name)) }
            }
            closedir(directory)
        }
        rmdir(path)
    }
}

enum Samples {
    static func header(snapLength: UInt32 = 4096, commandLine: [String] = ["ipcscope", "record", "--", "ladybird"]) -> TraceHeader {
        TraceHeader(
            createdWallClockNanoseconds: 1_790_000_000_123_456_789, monotonicAnchorNanoseconds: 5_000_000_000,
            hostName: "testhost", ipcscopeVersion: "0.1.0", commandLine: commandLine, snapLength: snapLength,
            schemas: [.init(path: "Services/Demo/Demo.ipc", text: "endpoint Demo {\n    ping() => ()\n}\n")])
    }

    /// One record of every kind with ordinary values, in a plausible order.
    static func everyKind(startingAt time: UInt64 = 5_000_000_100) -> [TraceRecord] {
        [
            .channelOpened(ChannelOpenedRecord(
                time: time, channel: 1,
                endpointA: ChannelEndpoint(name: "WebContentClient", pid: 100, command: "Ladybird"),
                endpointB: ChannelEndpoint(name: "WebContentServer", pid: 101, command: "WebContent"),
                discovery: .listen)),
            .payloadFrame(PayloadFrameRecord(
                time: time + 1, channel: 1, direction: .aToB, frameIndex: 0, streamOffset: 0,
                header: .payload(size: 8, fdCount: 1), capturedPayload: [1, 2, 3, 4, 5, 6, 7, 8],
                fds: [AttachedFD(kind: .memfd, inode: 77, size: 4096, interposed: false)])),
            .acknowledgement(AcknowledgementRecord(
                time: time + 2, channel: 1, direction: .bToA, frameIndex: 0, streamOffset: 0, count: 1)),
            .queueSample(QueueSampleRecord(
                time: time + 3, channel: 1, direction: .aToB, proxyBufferedBytes: 10, receiverUnreadBytes: 2304,
                receiverUnreadIsExact: false, unacknowledgedFDs: 1, pendingSyncRequests: 1,
                receiverUnprocessedBytes: 12, receiverUnmatchedFDs: 0)),
            .violation(ViolationRecord(time: time + 4, channel: 1, direction: .aToB, violation: Violation(
                kind: .payloadTooLarge, limit: Limits.maxMessagePayloadSize, observed: 70_000_000, streamOffset: 20,
                frameIndex: 1, continuation: .resyncAssumed))),
            .captureLoss(CaptureLossRecord(
                time: time + 5, channel: 1, direction: .aToB, framesAffected: 3, bytesNotCaptured: 9000,
                reason: CaptureLossRecord.Reason.writerBehind)),
            .eof(EOFRecord(
                time: time + 6, channel: 1, direction: .aToB, kind: .peerClosed, likelyCause: "payload-too-large",
                likelyCauseFrameIndex: 1)),
            .channelClassified(ChannelClassifiedRecord(
                time: time + 6, channel: 1, channelProtocol: .libIPC, decidedBy: .aToB,
                reason: "first frame header: payload of 8 bytes, 1 fds", evidence: [0, 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0])),
            .channelClosed(ChannelClosedRecord(time: time + 7, channel: 1, traffic: ChannelTraffic(
                aToB: DirectionTraffic(bytes: 20, reads: 1, fds: 1), bToA: DirectionTraffic(bytes: 12, reads: 1, fds: 0)))),
            .end(EndRecord(time: time + 8, summary: TraceSummary(channels: 1, frames: 1, bytes: 8, fds: 1, violations: 1, acknowledgementFrames: 1, unknownTypeFrames: 0, warnings: 0), cleanStop: true)),
        ]
    }

    /// Writes `records` after `header` with a TraceWriter and closes it.
    static func writeTrace(_ records: [TraceRecord], header: TraceHeader = Samples.header(), to path: String) throws {
        let writer = try TraceWriter(path: path, header: header)
        for record in records { #expect(writer.submit(record, waitForRoom: true)) }
        try writer.close()
    }

    /// The bytes of a trace file made of `records` (encoded directly, no writer).
    static func traceBytes(_ records: [TraceRecord], header: TraceHeader = Samples.header()) -> [UInt8] {
        var bytes = TraceFileLayout.fileHeaderBytes()
        for record in [TraceRecord.header(header)] + records {
            bytes += record.encoded() ?? []
        }
        return bytes
    }
}


enum Files {
    static func write(_ bytes: [UInt8], to path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        precondition(fd >= 0)
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                precondition(n > 0)
                offset += n
            }
        }
        close(fd)
    }

    static func read(_ path: String) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            out += chunk[..<n]
        }
        return out
    }

    static func mode(_ path: String) -> mode_t {
        var info = stat()
        precondition(stat(path, &info) == 0)
        return info.st_mode & 0o7777
    }
}

extension TraceReader {
    /// Every record, in order.
    var allRecords: [TraceRecord] { records().map(\.record) }
}
