import Foundation
import IPCWire
import Testing
import TraceAnalysis
import TraceFormat

/// What `check` prints, rendered by the library from a report of a trace written here. The text is pinned
/// as `ipcscope check` printed it before it moved out of the executable; the JSON must be byte for byte
/// what Foundation's JSONEncoder wrote then (`[.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]`).
@Suite struct CheckRenderingTests {
    /// A small trace with a bit of everything the report counts; a command line that needs quoting.
    static func writeTrace(in directory: URL) throws -> String {
        let path = directory.appendingPathComponent("check.ipctrace").path
        let header = TraceHeader(
            createdWallClockNanoseconds: 1_795_952_271_982_352_397, monotonicAnchorNanoseconds: 7_000_000_000,
            hostName: "bench-host", ipcscopeVersion: "9.9", commandLine: ["ipcscope", "record", "--", "sh", "-c", "echo 'hi' ünï"],
            limits: TraceHeader.libIPCLimits + [.init(name: "Odd/Limit\t\"x\"", value: 7)], snapLength: 64,
            schemas: [.init(path: "A.ipc", text: "endpoint A\n{\n    ping() =|\n}\n")])
        let writer = try TraceWriter(path: path, header: header)
        var time: UInt64 = 7_000_001_000
        func next() -> UInt64 { time += 1_000_000; return time }
        writer.submit(.channelOpened(ChannelOpenedRecord(
            time: next(), channel: 1, endpointA: ChannelEndpoint(name: "UI", pid: 10), endpointB: ChannelEndpoint(name: "WebContent", pid: 11),
            discovery: .preload)))
        writer.submit(.process(ProcessRecord(time: next(), pid: 10, executable: "/bin/ui")))
        writer.submit(.payloadFrame(PayloadFrameRecord(
            time: next(), channel: 1, direction: .aToB, frameIndex: 0, streamOffset: 0,
            header: .payload(size: 100, fdCount: 1), capturedPayload: Array(repeating: 7, count: 64),
            fds: [AttachedFD(kind: .memfd, inode: 3, size: 4096)])))
        writer.submit(.acknowledgement(AcknowledgementRecord(
            time: next(), channel: 1, direction: .bToA, frameIndex: 0, streamOffset: 0, count: 1)))
        writer.submit(.violation(ViolationRecord(
            time: next(), channel: 1, direction: .aToB,
            violation: Violation(kind: .payloadTooLarge, limit: 64, observed: 65, streamOffset: 112))))
        writer.submit(.violation(ViolationRecord(
            time: next(), channel: 1, direction: .aToB,
            violation: Violation(kind: .unprocessedBytesOverflow, severity: .warning, limit: 100, observed: 90, streamOffset: 112))))
        writer.submit(.eof(EOFRecord(time: next(), channel: 1, direction: .aToB, kind: .peerClosed)))
        try writer.close(ending: EndRecord(
            time: next(),
            summary: TraceSummary(channels: 1, frames: 1, bytes: 1536, fds: 1, violations: 1, acknowledgementFrames: 1,
                                  unknownTypeFrames: 0, warnings: 1),
            cleanStop: true))
        return path
    }

    static func withTrace(_ body: (String) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("check-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try body(try writeTrace(in: directory))
    }

    @Test func textIsWhatCheckPrinted() throws {
        try Self.withTrace { path in
            let report = try TraceReader(path: path).validate()
            let size = report.fileSize
            #expect(CheckText.render(report) == """
                \(path)
                  format       1.1 (\(size) bytes)
                  created      2026-11-29 11:37:51.982 UTC on bench-host, ipcscope 9.9
                  command line ipcscope record -- sh -c 'echo '\\''hi'\\'' ünï'
                  snap length  64 bytes per frame
                  schemas      1 embedded
                  records      9: header 1, channel-opened 1, payload-frame 1, acknowledgement 1, eof 1, violation 2, end 1, process 1
                  channels     1
                  frames       1 payload frame, 1 ack (100 payload bytes, 64 captured, 1 fds)
                  findings     1 violation, 1 near-limit warning
                  processes    1, 0 endpoint records
                  duration     0.007 s
                  end          clean stop
                               the recorder counted 1 payload frame, 1 ack (1.5 KiB with headers), 1 fd, 1 violation, 1 near-limit warning
                  ok

                """)
        }
    }

    @Test func jsonIsWhatJSONEncoderWrote() throws {
        try Self.withTrace { path in
            let report = try TraceReader(path: path).validate()
            let entries: [CheckJSON.Entry] = [.report(report), .unreadable(path: "/no/such\u{1}file", error: "not found")]
            let rendered = CheckJSON.render(entries)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let tree = PrettyJSON.array(entries.map {
                switch $0 {
                case .report(let report): CheckJSON.value(of: report)
                case .unreadable(let path, let error): .object([("path", .string(path)), ("ok", .bool(false)), ("error", .string(error))])
                }
            })
            #expect(rendered == String(decoding: try encoder.encode(EncodableJSON(tree)), as: UTF8.self))
            // And it says what the report says.
            let reports = try #require(try JSONSerialization.jsonObject(with: Data(rendered.utf8)) as? [[String: Any]])
            #expect(reports.count == 2)
            #expect(reports[0]["ok"] as? Bool == true)
            #expect(reports[0]["frames"] as? Int == 1 && reports[0]["violations"] as? Int == 1 && reports[0]["warnings"] as? Int == 1)
            #expect(reports[0]["recording"] as? String == "complete")
            let header = try #require(reports[0]["header"] as? [String: Any])
            #expect((header["limits"] as? [String: Any])?["Odd/Limit\t\"x\""] as? Int == 7)
            #expect(header["created"] as? String == "2026-11-29 11:37:51.982 UTC")
            let recordsByKind = try #require(reports[0]["recordsByKind"] as? [String: Int])
            #expect(recordsByKind["violation"] == 2 && recordsByKind["payload-frame"] == 1)
            #expect(reports[1]["error"] as? String == "not found" && reports[1]["fileSize"] == nil)
        }
    }

    /// Escapes, key order (UTF-8 bytes, not case-insensitive), empty containers, extreme numbers.
    @Test func prettyJSONRendersAsJSONEncoder() throws {
        let keys = ["a_b", "aB", "ab", "a10", "a9", "B", "a", "Z", "_x", "é", "e\u{301}x", "e", "a-b", "", "\u{7f}"]
        let strings = ["", "plain", "a/b", "quote\" backslash\\", "\u{0}\u{1}\u{8}\u{9}\u{a}\u{b}\u{c}\u{d}\u{1b}\u{1f}\u{7f}", "ünï😀\u{2028}"]
        let tree = PrettyJSON.object(
            keys.enumerated().map { ($0.element, .int(Int64($0.offset) - 3)) } + [
                ("strings", .array(strings.map(PrettyJSON.string))),
                ("empty", .array([])), ("emptyObject", .object([])),
                ("nested", .array([.array([]), .object([("x", .object([]))]), .bool(false)])),
                ("max", .uint(.max)), ("min", .int(.min)),
            ])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        #expect(tree.rendered() == String(decoding: try encoder.encode(EncodableJSON(tree)), as: UTF8.self))
        #expect(PrettyJSON.array([]).rendered() == String(decoding: try encoder.encode([Int]()), as: UTF8.self))
    }

    /// `record`'s and `check`'s byte counts, as `String(format: "%.1f")` wrote them before (Foundation).
    @Test func byteCountRoundsAsPrintf() {
        var values: [UInt64] = [0, 1, 1023, 1024, 1075, 1126, 1280, 1331, 1536, 1_048_575, 1_048_576, 1_100_000,
                                (1 << 53) + 1, UInt64.max, UInt64.max - 1, 1 << 63, 13845, 14_438]
        var state: UInt64 = 42
        for _ in 0..<2000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            values.append(state >> (state % 64))
            values.append(UInt64(state % 4096) * 1024 / 20 * 10 + 512)  // ties and near-ties
        }
        for value in values {
            let units = ["B", "KiB", "MiB", "GiB", "TiB"]
            var scaled = Double(value)
            var unit = 0
            while scaled >= 1024, unit < units.count - 1 { scaled /= 1024; unit += 1 }
            let expected = unit == 0 ? "\(value) B" : String(format: "%.1f %@", scaled, units[unit])
            #expect(ByteCount.format(value) == expected, "\(value)")
        }
    }
}

/// PrettyJSON as Foundation encodes it: the reference the renderer must equal.
private struct EncodableJSON: Encodable {
    var value: PrettyJSON
    init(_ value: PrettyJSON) { self.value = value }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: Encoder) throws {
        switch value {
        case .string(let text): var c = encoder.singleValueContainer(); try c.encode(text)
        case .int(let number): var c = encoder.singleValueContainer(); try c.encode(number)
        case .uint(let number): var c = encoder.singleValueContainer(); try c.encode(number)
        case .bool(let flag): var c = encoder.singleValueContainer(); try c.encode(flag)
        case .array(let elements):
            var c = encoder.unkeyedContainer()
            for element in elements { try c.encode(EncodableJSON(element)) }
        case .object(let members):
            var c = encoder.container(keyedBy: Key.self)
            for (key, member) in members { try c.encode(EncodableJSON(member), forKey: Key(stringValue: key)) }
        }
    }
}
