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
