import Foundation
import Testing

/// A reader written from docs/trace-format.md's tables alone — raw bytes, the documented layout, its own
/// CRC-32C; nothing from TraceFormat — reads a trace the real recorder wrote, and its totals must agree
/// with `ipcscope check --json` on every field, and with the end record's counts as §5.9 defines them.
@Suite(.serialized) struct IndependentReaderTests {
    @Test("an independent reader of a recorded demo agrees with check and with the end record",
          arguments: [["--messages", "60"], ["--misbehave", "--messages", "60"]])
    func independentReaderAgreesWithCheck(demoArguments: [String]) throws {
        #expect(DocumentedReader.crc32c(ArraySlice("123456789".utf8)) == 0xE306_9283, "§4's check value")
        let directory = try DemoScratch.make()
        let trace = directory + "/independent.ipctrace"
        let run = try DemoBinary.run(["demo", "-o", trace, "--via", "takeover"] + demoArguments)
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: trace)))
        let totals = try DocumentedReader.read(bytes)

        let check = try DemoBinary.run(["check", "--json", trace])
        #expect(check.status == 0, "\(check.stderr)")
        let reports = try #require(try JSONSerialization.jsonObject(with: Data(check.stdout.utf8)) as? [[String: Any]])
        let report = try #require(reports.first)
        func number(_ key: String, in object: [String: Any]? = nil) -> UInt64? {
            ((object ?? report)[key] as? NSNumber)?.uint64Value
        }
        #expect(number("records") == totals.records)
        #expect(number("channels") == UInt64(totals.channels.count))
        #expect(number("frames") == totals.payloadFrames)
        #expect(number("acknowledgementFrames") == totals.acknowledgementFrames)
        #expect(number("unknownTypeFrames") == totals.unknownTypeFrames)
        #expect(number("payloadBytes") == totals.payloadBytes)
        #expect(number("capturedPayloadBytes") == totals.capturedBytes)
        #expect(number("fds") == totals.attachedFDs)
        #expect(number("fdsClaimed") == totals.claimedFDs)
        #expect(number("violations") == totals.violations)
        #expect(number("warnings") == totals.warnings)
        #expect(number("captureLosses") == totals.captureLosses)
        #expect(number("firstTime") == totals.firstTime)
        #expect(number("lastTime") == totals.lastTime)
        let byKind = try #require(report["recordsByKind"] as? [String: NSNumber])
        #expect(byKind.mapValues(\.uint64Value) == totals.recordsByKindName, "\(byKind) vs \(totals.recordsByKindName)")

        // The end record as the document defines its fields, against what the records show (no capture
        // was lost here, so every frame the recorder counted has its record).
        let end = try #require(totals.end, "no end record")
        #expect(totals.captureLosses == 0)
        #expect(end.channels == UInt64(totals.channels.count))
        #expect(end.payloadFrames == totals.payloadFrames)
        #expect(end.bytes == totals.payloadBytes + 12 * totals.payloadFrames)
        #expect(end.fds == totals.attachedFDs)
        #expect(end.violations == totals.violations)
        #expect(end.acknowledgementFrames == totals.acknowledgementFrames)
        #expect(end.unknownTypeFrames == totals.unknownTypeFrames)
        #expect(end.warnings == totals.warnings)
        // And check reports the same end record.
        let checkEnd = try #require(report["end"] as? [String: Any])
        #expect(number("frames", in: checkEnd) == end.payloadFrames)
        #expect(number("bytes", in: checkEnd) == end.bytes)
        #expect(number("fds", in: checkEnd) == end.fds)
        #expect(number("violations", in: checkEnd) == end.violations)
        #expect(number("warnings", in: checkEnd) == end.warnings)
        #expect(number("acknowledgementFrames", in: checkEnd) == end.acknowledgementFrames)
        #expect(number("unknownTypeFrames", in: checkEnd) == end.unknownTypeFrames)

        // `record`'s closing line and `check` say the same thing in the same words.
        let text = try DemoBinary.run(["check", trace])
        let counted = try #require(text.stdout.split(separator: "\n").first { $0.contains("the recorder counted ") })
        let words = String(counted[counted.range(of: "the recorder counted ")!.upperBound...])
        #expect(words.contains("\(end.payloadFrames) payload frames") && words.contains("near-limit warning"), "\(words)")
        #expect(run.stderr.contains(", " + words + " → "), "record said: \(run.stderr)\ncheck said: \(words)")

        // §2/§5 ordering: within one direction of a channel, frame records (kinds 3, 4, 17) come in frame
        // index order, one per frame from 0 with none missing, and their times never go back.
        for (key, frames) in totals.framesByDirection {
            #expect(frames.map(\.index) == Array(0..<UInt64(frames.count)), "channel \(key.channel) direction \(key.direction)")
            #expect(zip(frames, frames.dropFirst()).allSatisfy { $0.time <= $1.time }, "channel \(key.channel)")
        }
        // §5.18: each direction's frames-delivered ranges follow each other from its first frame without
        // gaps or overlaps, and each frame was delivered no earlier than the proxy had it. Without
        // misbehaviour every receiver reads to the end, so every frame is delivered.
        for (key, frames) in totals.framesByDirection {
            let ranges = totals.deliveriesByDirection[key] ?? []
            var next: UInt64 = 0
            for range in ranges {
                #expect(range.first == next, "channel \(key.channel) direction \(key.direction): delivery gap or overlap")
                for index in range.first...range.last where index < UInt64(frames.count) {
                    #expect(frames[Int(index)].time <= range.time, "frame \(index) delivered before it was had")
                }
                next = range.last &+ 1
            }
            if !demoArguments.contains("--misbehave") {
                #expect(next == UInt64(frames.count), "channel \(key.channel) direction \(key.direction): \(next) of \(frames.count) delivered")
            }
        }
        if demoArguments.contains("--misbehave") {
            #expect(totals.unknownTypeFrames == 1 && totals.violations == 7)
        }
    }
}

/// Reads a trace with nothing but docs/trace-format.md: §3 file layout, §4 framing, §5 bodies.
enum DocumentedReader {
    struct End {
        var channels, payloadFrames, bytes, fds, violations: UInt64
        var acknowledgementFrames, unknownTypeFrames, warnings: UInt64?
    }

    struct DirectionKey: Hashable {
        var channel: UInt32
        var direction: UInt8
    }

    struct Totals {
        var records: UInt64 = 0
        var recordsByKindName: [String: UInt64] = [:]
        var channels = Set<UInt32>()
        var payloadFrames: UInt64 = 0
        var acknowledgementFrames: UInt64 = 0
        var unknownTypeFrames: UInt64 = 0
        var payloadBytes: UInt64 = 0
        var capturedBytes: UInt64 = 0
        var attachedFDs: UInt64 = 0
        var claimedFDs: UInt64 = 0
        var violations: UInt64 = 0
        var warnings: UInt64 = 0
        var captureLosses: UInt64 = 0
        var firstTime: UInt64?
        var lastTime: UInt64?
        var end: End?
        var framesByDirection: [DirectionKey: [(index: UInt64, time: UInt64)]] = [:]
        var deliveriesByDirection: [DirectionKey: [(first: UInt64, last: UInt64, time: UInt64)]] = [:]
    }

    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    /// §5's kind names, as check reports them.
    static let kindNames: [UInt8: String] = [
        1: "header", 2: "channel-opened", 3: "payload-frame", 4: "acknowledgement", 5: "eof", 6: "queue-sample",
        7: "violation", 8: "capture-loss", 9: "end", 10: "channel-closed", 11: "endpoint-resolved",
        12: "channel-transferred", 13: "late-fds", 14: "channel-classified", 15: "process", 16: "endpoint",
        17: "unknown-frame", 18: "frames-delivered",
    ]

    /// A little-endian cursor over one body (§2).
    struct Body {
        let bytes: ArraySlice<UInt8>
        var at: Int

        init(_ bytes: ArraySlice<UInt8>) {
            self.bytes = bytes
            at = bytes.startIndex
        }

        var remaining: Int { bytes.endIndex - at }

        mutating func int(_ width: Int) throws -> UInt64 {
            guard remaining >= width else { throw Malformed(description: "body ends inside a field") }
            var value: UInt64 = 0
            for i in 0..<width { value |= UInt64(bytes[at + i]) << (8 * UInt64(i)) }
            at += width
            return value
        }

        mutating func u8() throws -> UInt64 { try int(1) }
        mutating func u16() throws -> UInt64 { try int(2) }
        mutating func u32() throws -> UInt64 { try int(4) }
        mutating func u64() throws -> UInt64 { try int(8) }

        /// `string` and `bytes`: u32 length, then that many bytes.
        mutating func blob() throws -> ArraySlice<UInt8> {
            let length = Int(try u32())
            guard remaining >= length else { throw Malformed(description: "blob runs past the body") }
            defer { at += length }
            return bytes[at..<(at + length)]
        }

        mutating func string() throws -> String { String(decoding: try blob(), as: UTF8.self) }

        /// An attached-fd list: u32 count, u16 entry size, entries (§5.3); returns the count.
        mutating func fdList() throws -> UInt64 {
            let count = try u32()
            let size = Int(try u16())
            guard size >= 18, UInt64(remaining) >= count * UInt64(size) else { throw Malformed(description: "fd list") }
            at += Int(count) * size
            return count
        }
    }

    static func read(_ file: [UInt8]) throws -> Totals {
        // §3: magic, major 1, any minor.
        guard file.count >= 12, Array(file[0..<8]) == Array("IPCTRACE".utf8), file[8] == 1, file[9] == 0 else {
            throw Malformed(description: "not a version 1 trace")
        }
        var totals = Totals()
        var offset = 12
        while offset < file.count {
            // §4: marker, length, CRC-32C of kind + body, kind, body. This trace must be whole.
            guard file.count - offset >= 13 else { throw Malformed(description: "incomplete record at \(offset)") }
            var framing = Body(file[offset..<(offset + 12)])
            guard try framing.u32() == 0xA7C3_1FE9 else { throw Malformed(description: "no marker at \(offset)") }
            let length = Int(try framing.u32())
            let checksum = try framing.u32()
            guard length <= 83_886_080, file.count - offset >= 13 + length else {
                throw Malformed(description: "record at \(offset) runs past the file")
            }
            guard crc32c(file[(offset + 12)..<(offset + 13 + length)]) == UInt32(checksum) else {
                throw Malformed(description: "bad checksum at \(offset)")
            }
            let kind = file[offset + 12]
            try tally(kind: kind, body: Body(file[(offset + 13)..<(offset + 13 + length)]), into: &totals)
            offset += 13 + length
        }
        return totals
    }

    private static func tally(kind: UInt8, body: Body, into t: inout Totals) throws {
        guard let name = kindNames[kind] else { return }  // §4.1 step 3: unknown kinds are skipped
        var r = body
        t.records += 1
        t.recordsByKindName[name, default: 0] += 1
        let time = try r.u64()
        if kind != 1 {
            t.firstTime = min(t.firstTime ?? .max, time)
            t.lastTime = max(t.lastTime ?? 0, time)
        }
        func noteFrame(channel: UInt64, direction: UInt64, index: UInt64) {
            t.framesByDirection[DirectionKey(channel: UInt32(channel), direction: UInt8(direction)), default: []]
                .append((index, time))
        }
        switch kind {
        case 2:
            t.channels.insert(UInt32(try r.u32()))
        case 3:  // §5.3
            let channel = try r.u32(), direction = try r.u8(), index = try r.u64()
            _ = try r.u64()  // stream offset
            _ = try r.u8()  // frame type
            t.payloadBytes += try r.u32()
            t.claimedFDs += try r.u32()
            t.capturedBytes += UInt64(try r.blob().count)
            t.attachedFDs += try r.fdList()
            t.payloadFrames += 1
            noteFrame(channel: channel, direction: direction, index: index)
        case 4:  // §5.4
            let channel = try r.u32(), direction = try r.u8(), index = try r.u64()
            t.acknowledgementFrames += 1
            noteFrame(channel: channel, direction: direction, index: index)
        case 7:  // §5.7
            _ = try r.u32(); _ = try r.u8(); _ = try r.string()
            switch try r.string() {
            case "warning": t.warnings += 1
            default: t.violations += 1  // "violation", and unknown severities read as violation
            }
        case 8:
            t.captureLosses += 1
        case 9:  // §5.9, with the (1.1) fields
            let channels = try r.u64(), frames = try r.u64(), bytes = try r.u64(), fds = try r.u64()
            let violations = try r.u64()
            var end = End(channels: channels, payloadFrames: frames, bytes: bytes, fds: fds, violations: violations)
            _ = try r.u8()  // flags
            if r.remaining > 0 {
                _ = try r.u8(); _ = try r.int(4); _ = try r.u64(); _ = try r.string()
            }
            if r.remaining > 0 {
                end.acknowledgementFrames = try r.u64()
                end.unknownTypeFrames = try r.u64()
                end.warnings = try r.u64()
            }
            t.end = end
        case 13:  // §5.13
            _ = try r.u32(); _ = try r.u8(); _ = try r.u64()
            t.attachedFDs += try r.fdList()
        case 17:  // §5.17
            let channel = try r.u32(), direction = try r.u8(), index = try r.u64()
            t.unknownTypeFrames += 1
            noteFrame(channel: channel, direction: direction, index: index)
        case 18:  // §5.18
            let channel = try r.u32(), direction = try r.u8(), first = try r.u64(), last = try r.u64()
            t.deliveriesByDirection[DirectionKey(channel: UInt32(channel), direction: UInt8(direction)), default: []]
                .append((first, last, time))
        default:
            break
        }
    }

    /// CRC-32C as §4 specifies it: reflected polynomial 0x82F63B78, initial and final XOR 0xFFFFFFFF.
    static func crc32c(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 {
                crc = crc & 1 != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1
            }
        }
        return crc ^ 0xFFFF_FFFF
    }
}
