import Glibc
import TestSupport
import Testing
@testable import TraceFormat

/// The resync that skips damage: one linear pass (ResyncSearch) must answer exactly as checking every
/// candidate's checksum on its own did, and must not take quadratic time on a file full of fake records.
@Suite struct ResyncTests {
    /// The straightforward resync, kept as the reference: each candidate's checksum computed on its own.
    static func referenceResync(in data: UnsafeRawBufferPointer, after offset: Int) -> RecordScanner.Resync {
        guard let base = data.baseAddress else { return .none }
        let firstMarkerByte = Int32(TraceFileLayout.syncMarker & 0xFF)
        var candidate = offset + 1
        var firstIncomplete: Int?
        while candidate < data.count {
            guard let found = memchr(base + candidate, firstMarkerByte, data.count - candidate) else { break }
            let at = base.distance(to: UnsafeRawPointer(found))
            switch RecordScanner.checkFrame(in: data, at: at) {
            case .valid: return .valid(at)
            case .incomplete: if firstIncomplete == nil { firstIncomplete = at }
            case .invalid: break
            }
            candidate = at + 1
        }
        return firstIncomplete.map { .incomplete($0) } ?? .none
    }

    static func describe(_ resync: RecordScanner.Resync) -> String {
        switch resync {
        case .valid(let at): "valid \(at)"
        case .incomplete(let at): "incomplete \(at)"
        case .none: "none"
        }
    }

    /// A record-like run of bytes: marker, length, checksum (right or wrong), kind, body.
    static func fakeRecord(bodyLength: Int, goodChecksum: Bool, random: inout SplitMix64) -> [UInt8] {
        let body = (0...bodyLength).map { _ in UInt8(truncatingIfNeeded: random.next()) }  // kind + body
        var checksum = CRC32C.checksum(body)
        if !goodChecksum { checksum ^= 1 }
        func le(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        return le(TraceFileLayout.syncMarker) + le(UInt32(bodyLength)) + le(checksum) + body
    }

    @Test func answersAsCheckingEachCandidateAloneDoes() {
        var random = SplitMix64(seed: 2026)
        for round in 0..<300 {
            // Real records, damaged bytes, fake and overlapping record starts, some with good checksums,
            // some running past the end.
            var bytes = Samples.traceBytes(Samples.everyKind())
            for _ in 0..<Int(random.next() % 6) {
                let position = Int(random.next() % UInt64(bytes.count))
                switch random.next() % 4 {
                case 0:
                    bytes[position] ^= UInt8(truncatingIfNeeded: random.next() | 1)
                case 1:
                    let fake = Self.fakeRecord(bodyLength: Int(random.next() % 300), goodChecksum: random.next() % 3 == 0,
                                               random: &random)
                    bytes.insert(contentsOf: fake, at: position)
                case 2:
                    // A fake header claiming more than follows: a candidate that ends past other candidates.
                    var fake = Self.fakeRecord(bodyLength: Int(random.next() % 64), goodChecksum: false, random: &random)
                    fake[4] = UInt8(truncatingIfNeeded: random.next())
                    fake[5] = UInt8(truncatingIfNeeded: random.next() % 4)
                    bytes.insert(contentsOf: fake.prefix(12 + Int(random.next() % 8)), at: position)
                default:
                    bytes.removeLast(Int(random.next() % UInt64(min(40, bytes.count - 12))))
                }
            }
            bytes.withUnsafeBytes { data in
                var offsets = Set((0..<20).map { _ in Int(random.next() % UInt64(data.count)) })
                offsets.insert(TraceFileLayout.fileHeaderSize)
                for offset in offsets.sorted() {
                    let expected = Self.describe(Self.referenceResync(in: data, after: offset))
                    let found = Self.describe(RecordScanner.findResync(in: data, after: offset))
                    #expect(found == expected, "round \(round), after \(offset)")
                }
            }
        }
    }

    /// Fake records every 12 bytes, each claiming a body to near the end of a 4 MiB region, then a real
    /// record: checking each candidate alone would checksum terabytes. The pass finds the real record.
    @Test func aRegionFullOfFakeRecordsIsPassedInOnePass() throws {
        let region = 4 << 20
        var bytes = Samples.traceBytes([])
        let fakesStart = bytes.count
        func le(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        while bytes.count - fakesStart + 12 < region {
            let length = UInt32(region - (bytes.count - fakesStart) - 12)
            bytes += le(TraceFileLayout.syncMarker) + le(length) + le(0xDEAD_BEEF)
        }
        let realStart = bytes.count
        let real = try #require(Samples.everyKind()[0].encoded())
        bytes += real
        try bytes.withUnsafeBytes { data in
            let resync = RecordScanner.findResync(in: data, after: fakesStart - 1)
            guard case .valid(let at) = resync else {
                Issue.record("no resync: \(Self.describe(resync))")
                return
            }
            // Some fake bodies end exactly where the real record starts or inside it; none checks out.
            #expect(at == realStart)
            let directory = TemporaryDirectory()
            Files.write(Array(data), to: directory.file("fakes.ipctrace"))
            let report = try TraceReader(path: directory.file("fakes.ipctrace")).validate()
            #expect(report.corruptions.count == 1)
            #expect(report.corruptions.first?.resumedAt == realStart)
            #expect(report.recordCount == 2)
        }
    }
}

/// The cases docs/trace-format.md §4.1 settles ("Cases settled"), pinned through the real reader.
@Suite struct SettledResyncCasesTests {
    static func validate(_ bytes: [UInt8]) throws -> CheckReport {
        let directory = TemporaryDirectory()
        Files.write(bytes, to: directory.file("t"))
        return try TraceReader(path: directory.file("t")).validate()
    }

    static let closed = TraceRecord.channelClosed(ChannelClosedRecord(time: 1, channel: 2)).encoded() ?? []

    /// A bad checksum does not vouch for the length: the search starts at p + 1 and reads a good record
    /// found inside the damaged one.
    @Test func searchAfterABadChecksumStartsInsideTheDamagedRecord() throws {
        // A payload-frame record whose captured payload ends with a whole channel-closed record.
        let carrier = try #require(TraceRecord.payloadFrame(PayloadFrameRecord(
            time: 1, channel: 1, direction: .aToB, frameIndex: 0, streamOffset: 0,
            header: .payload(size: Self.closed.count, fdCount: 0), capturedPayload: Self.closed)).encoded())
        var damaged = carrier
        damaged[8] ^= 0xFF  // its checksum
        let prefix = Samples.traceBytes([])
        let tail = try #require(TraceRecord.channelClosed(ChannelClosedRecord(time: 3, channel: 4)).encoded())
        let report = try Self.validate(prefix + damaged + tail)
        let inner = try prefix.count + #require(firstRange(of: Self.closed, in: damaged))
        #expect(report.corruptions.count == 2, "\(report.corruptions)")
        #expect(report.corruptions.first?.offset == prefix.count)
        #expect(report.corruptions.first?.resumedAt == inner, "resumed inside the damaged record")
        // The carrier's last 6 bytes (its empty fd list) follow the inner record: damage again, then `tail`.
        #expect(report.corruptions.last?.resumedAt == prefix.count + damaged.count)
        #expect(report.count(of: .channelClosed) == 2)
    }

    /// Bytes skipped before a resync that finds only an incomplete record are damage; that record is the
    /// tail. Zeros all the way to the end are no damage at all.
    @Test func skippedBytesBeforeAnIncompleteTailAreDamageUnlessAllZero() throws {
        let prefix = Samples.traceBytes([])
        let partial = Array(Self.closed.prefix(10))
        let report = try Self.validate(prefix + [UInt8](repeating: 0, count: 20) + partial)
        #expect(report.corruptions.map(\.offset) == [prefix.count])
        #expect(report.corruptions.first?.resumedAt == prefix.count + 20)
        #expect(report.truncatedTail == TruncatedTail(offset: prefix.count + 20, length: 10))

        let zeros = try Self.validate(prefix + [UInt8](repeating: 0, count: 20))
        #expect(zeros.corruptions.isEmpty)
        #expect(zeros.truncatedTail == TruncatedTail(offset: prefix.count, length: 20))
    }

    /// The first record for the header check is the first good one of a known kind whose body decodes.
    @Test func unknownAndUndecodableRecordsDoNotCountAsTheFirstRecord() throws {
        let unknown = ByteBuffer()
        _ = unknown.appendRecord(kind: 200) { $0.append(UInt64(1)) }
        var bytes = TraceFileLayout.fileHeaderBytes() + unknown.array
        bytes += TraceRecord.header(Samples.header()).encoded() ?? []
        let afterUnknown = try Self.validate(bytes + Self.closed)
        #expect(afterUnknown.corruptions.isEmpty)
        #expect(afterUnknown.header != nil)
        #expect(afterUnknown.unknownKinds.map(\.kind) == [200])

        let cutHeader = ByteBuffer()
        _ = cutHeader.appendRecord(kind: TraceRecordKind.header.rawValue) { $0.append(UInt64(1)) }
        let damaged = try Self.validate(TraceFileLayout.fileHeaderBytes() + cutHeader.array + Self.closed)
        #expect(damaged.header == nil)
        #expect(damaged.corruptions.count == 2)
        if case .undecodableBody(.header, _)? = damaged.corruptions.first?.reason {} else {
            Issue.record("expected an undecodable header first, got \(damaged.corruptions)")
        }
        #expect(damaged.corruptions.last?.reason == .missingHeader(firstKind: TraceRecordKind.channelClosed.rawValue))
    }

    /// Records after an end record are read; the last end record counts.
    @Test func theLastEndRecordCounts() throws {
        let first = EndRecord(time: 1, summary: TraceSummary(frames: 1), cleanStop: true)
        let last = EndRecord(time: 2, summary: TraceSummary(frames: 2), cleanStop: true)
        let report = try Self.validate(Samples.traceBytes([.end(first), .channelClosed(ChannelClosedRecord(time: 1, channel: 1)), .end(last)]))
        #expect(report.corruptions.isEmpty)
        #expect(report.end == last)
        #expect(report.count(of: .channelClosed) == 1)
    }

    private func firstRange(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        return (0...(haystack.count - needle.count)).first { Array(haystack[$0..<($0 + needle.count)]) == needle }
    }
}
