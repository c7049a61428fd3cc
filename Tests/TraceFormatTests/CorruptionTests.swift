import TestSupport
import Testing
@testable import TraceFormat

@Suite struct CorruptionTests {
    static let records = [TraceRecord.header(Samples.header())] + Samples.everyKind()

    /// Offsets at which each record starts, plus the file end.
    static func recordStarts() -> [Int] {
        var starts = [TraceFileLayout.fileHeaderSize]
        for record in records { starts.append(starts.last! + (record.encoded()?.count ?? 0)) }
        return starts
    }

    @Test func flippedByteInTheMiddleRecordIsReportedAndTheRestRecovered() throws {
        let clean = Samples.traceBytes(Array(Self.records.dropFirst()))
        let starts = Self.recordStarts()
        let middle = Self.records.count / 2
        let (start, end) = (starts[middle], starts[middle + 1])
        let directory = TemporaryDirectory()
        let path = directory.file("flipped.ipctrace")
        // Every byte of the middle record: marker, length, CRC, kind and body.
        for position in start..<end {
            var bytes = clean
            bytes[position] ^= 0x5A
            Files.write(bytes, to: path)
            let reader = try TraceReader(path: path)
            let report = reader.validate()
            #expect(report.corruptions.count == 1, "byte \(position - start)")
            let damage = try #require(report.corruptions.first)
            #expect(damage.offset == start, "byte \(position - start)")
            #expect(damage.resumedAt == end, "byte \(position - start): \(damage.reason)")
            #expect(damage.recordsRecovered == Self.records.count - middle - 1)
            #expect(report.truncatedTail == nil)
            var expected = Self.records
            expected.remove(at: middle)
            #expect(reader.allRecords == expected, "byte \(position - start)")
            #expect(reader.buildIndex().count == expected.count)
        }
    }

    @Test func reasonsNameWhatIsWrong() throws {
        let clean = Samples.traceBytes(Array(Self.records.dropFirst()))
        let start = Self.recordStarts()[3]
        func reason(flipping position: Int, with mask: UInt8) throws -> CorruptionReason? {
            var bytes = clean
            bytes[position] ^= mask
            let directory = TemporaryDirectory()
            Files.write(bytes, to: directory.file("t"))
            return try TraceReader(path: directory.file("t")).validate().corruptions.first?.reason
        }
        #expect(try reason(flipping: start, with: 1) == .badMarker)
        let length = UInt32(clean[start + 4]) | UInt32(clean[start + 5]) << 8 | UInt32(clean[start + 6]) << 16
        #expect(try reason(flipping: start + 7, with: 0x80) == .impossibleLength(length | 0x8000_0000))
        if case .badChecksum = try reason(flipping: start + 20, with: 1) {} else { Issue.record("expected a bad checksum") }
        if case .runsPastEnd = try reason(flipping: start + 6, with: 0x10) {} else { Issue.record("expected runs past end") }
    }

    @Test func firstRecordThatIsNotAHeaderIsReported() throws {
        var bytes = TraceFileLayout.fileHeaderBytes()
        for record in Samples.everyKind() { bytes += record.encoded() ?? [] }
        let directory = TemporaryDirectory()
        Files.write(bytes, to: directory.file("t"))
        let report = try TraceReader(path: directory.file("t")).validate()
        #expect(report.corruptions.map(\.reason) == [.missingHeader(firstKind: TraceRecordKind.channelOpened.rawValue)])
        #expect(report.header == nil)
        #expect(report.recordCount == Samples.everyKind().count)
    }

    @Test func secondHeaderIsReported() throws {
        let bytes = Samples.traceBytes([.header(Samples.header())] + Samples.everyKind())
        let directory = TemporaryDirectory()
        Files.write(bytes, to: directory.file("t"))
        let report = try TraceReader(path: directory.file("t")).validate()
        #expect(report.corruptions.map(\.reason) == [.misplacedHeader])
        #expect(report.corruptions.first?.recordsRecovered == Samples.everyKind().count)
    }

    @Test func undecodableBodyWithAGoodChecksumIsReportedAndSkipped() throws {
        let buffer = ByteBuffer()
        // An acknowledgement body cut short, framed with a valid checksum.
        _ = buffer.appendRecord(kind: TraceRecordKind.acknowledgement.rawValue) { $0.append(UInt64(1)); $0.append(UInt32(2)) }
        let bytes = Samples.traceBytes([]) + buffer.array + (Samples.everyKind().first?.encoded() ?? [])
        let directory = TemporaryDirectory()
        Files.write(bytes, to: directory.file("t"))
        let reader = try TraceReader(path: directory.file("t"))
        let report = reader.validate()
        #expect(report.corruptions.count == 1)
        if case .undecodableBody(.acknowledgement, _)? = report.corruptions.first?.reason {} else {
            Issue.record("expected an undecodable acknowledgement, got \(report.corruptions)")
        }
        #expect(report.corruptions.first?.recordsRecovered == 1)
        #expect(reader.allRecords.count == 2)
    }

    // MARK: properties: never trap

    @Test(arguments: 0..<40)
    func randomGarbageNeverTraps(seed: Int) throws {
        var generator = SplitMix64(seed: UInt64(seed))
        var bytes = TraceFileLayout.fileHeaderBytes()
        let length = Int.random(in: 0...6000, using: &generator)
        bytes += (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
        // Sprinkle markers with random lengths so resync paths run, and some good records among them.
        let marker: [UInt8] = [0xE9, 0x1F, 0xC3, 0xA7]
        for _ in 0..<Int.random(in: 0...30, using: &generator) where bytes.count > 20 {
            let at = Int.random(in: 12..<(bytes.count - 8), using: &generator)
            bytes.replaceSubrange(at..<(at + 4), with: marker)
            if Bool.random(using: &generator) {
                let length = UInt32.random(in: 0...200, using: &generator)
                bytes.replaceSubrange((at + 4)..<(at + 8), with: withUnsafeBytes(of: length.littleEndian, Array.init))
            }
        }
        if Bool.random(using: &generator), let good = Samples.everyKind().randomElement(using: &generator)?.encoded() {
            bytes.insert(contentsOf: good, at: Int.random(in: 12...bytes.count, using: &generator))
        }
        try exercise(bytes)
    }

    @Test(arguments: 0..<60)
    func randomByteFlipsNeverTrapAndDamageIsLocal(seed: Int) throws {
        var generator = SplitMix64(seed: UInt64(1000 + seed))
        var records: [TraceRecord] = []
        for _ in 0..<8 { records += Samples.everyKind() }
        records += RoundTripTests.edgeRecords
        var bytes = Samples.traceBytes(records)
        var ranges: [Range<Int>] = []
        var start = TraceFileLayout.fileHeaderSize
        for record in [TraceRecord.header(Samples.header())] + records {
            let size = record.encoded()?.count ?? 0
            ranges.append(start..<(start + size))
            start += size
        }
        let flips = Int.random(in: 1...8, using: &generator)
        var flipped: [Int] = []
        for _ in 0..<flips {
            let at = Int.random(in: 12..<bytes.count, using: &generator)
            bytes[at] ^= UInt8.random(in: 1...255, using: &generator)
            flipped.append(at)
        }
        if Bool.random(using: &generator) { bytes.removeLast(Int.random(in: 0..<200, using: &generator)) }
        let report = try exercise(bytes)
        // Damage stays local: each flip breaks at most the record it lands in (and a broken header adds a
        // "missing header"); every untouched complete record is found again.
        #expect(report.corruptions.count <= flips + 1)
        let untouched = ranges.filter { range in range.upperBound <= bytes.count && !flipped.contains { range.contains($0) } }
        let directory = TemporaryDirectory()
        Files.write(bytes, to: directory.file("t"))
        let indexed = Set(try TraceReader(path: directory.file("t")).buildIndex().offsets)
        for range in untouched {
            #expect(indexed.contains(range.lowerBound), "record at \(range.lowerBound) lost (flips at \(flipped))")
        }
    }

    @discardableResult
    private func exercise(_ bytes: [UInt8]) throws -> CheckReport {
        let directory = TemporaryDirectory()
        let path = directory.file("garbage.ipctrace")
        Files.write(bytes, to: path)
        let reader = try TraceReader(path: path)
        let report = reader.validate()
        let iterated = Array(reader.records())
        let index = reader.buildIndex()
        #expect(iterated.count <= index.count)
        for offset in index.offsets { _ = reader.record(at: offset) }
        for (offset, record) in iterated { #expect(reader.record(at: offset) == record) }
        return report
    }

    /// The record as a 1.0 writer would have written it, when 1.1 appended fields to it.
    /// The record as a 1.0 reader would have read it, and the length of its 1.0 body; nil for records that
    /// 1.1 did not extend.
    static func earlierVersionForms(of record: TraceRecord) -> [(record: TraceRecord, bodyLength: Int)] {
        func form(_ earlier: TraceRecord) -> [(record: TraceRecord, bodyLength: Int)] {
            guard let encoded = earlier.encoded() else { return [] }
            return [(earlier, encoded.count - TraceFileLayout.recordHeaderSize)]
        }
        switch record {
        case .channelClosed(var closed) where closed.traffic != nil:
            closed.traffic = nil
            return form(.channelClosed(closed))
        case .acknowledgement(var ack) where ack.payloadSize != nil:
            // 1.1 appends the ack frame's payload size; a 1.0 body reads without it.
            ack.payloadSize = nil
            return form(.acknowledgement(ack))
        case .captureLoss(let loss):
            // 1.1 appends the frame range and the records lost by kind; a 1.0 body reads with none.
            let earlier = CaptureLossRecord(
                time: loss.time, channel: loss.channel, direction: loss.direction, framesAffected: loss.framesAffected,
                bytesNotCaptured: loss.bytesNotCaptured, reason: loss.reason)
            return [(.captureLoss(earlier), 8 + 4 + 1 + 8 + 8 + 4 + loss.reason.utf8.count)]
        case .channelTransferred(var transferred):
            // 1.1 appends whether the channel was adopted by this hand-over; 1.0 ends after the frame index.
            transferred.adoption = nil
            return [(.channelTransferred(transferred), 8 + 4 + 4 + 1 + 8)]
        case .end(let end):
            // 1.1 appends why writing stopped, then the acknowledgement, unknown-type frame and warning counts;
            // a 1.0 end record reads as a complete recording, one without the counts has them unknown.
            var withoutCounts = end
            withoutCounts.summary.acknowledgementFrames = nil
            withoutCounts.summary.unknownTypeFrames = nil
            withoutCounts.summary.warnings = nil
            let oldest = EndRecord(time: end.time, summary: withoutCounts.summary, cleanStop: end.cleanStop)
            return [(.end(oldest), endBodyLength10)] + (withoutCounts == end ? [] : form(.end(withoutCounts)))
        default:
            return []
        }
    }

    @Test(arguments: TraceRecordKind.allCases)
    func arbitraryBodiesNeverTrapTheDecoder(kind: TraceRecordKind) {
        var generator = SplitMix64(seed: UInt64(kind.rawValue))
        for _ in 0..<300 {
            let length = Int.random(in: 0...300, using: &generator)
            var body = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // Small counts and lengths get further into the decoders.
            for i in stride(from: 0, to: body.count, by: Int.random(in: 3...9, using: &generator)) where Bool.random(using: &generator) {
                body[i] = UInt8.random(in: 0...3, using: &generator)
            }
            _ = body.withUnsafeBytes { try? RecordBodyDecoder.decode(kind: kind.rawValue, body: $0) }
        }
        // Every prefix of a real body fails cleanly — but the length of an older version's body, which
        // decodes with the appended fields at their defaults.
        let samples = Samples.everyKind() + RoundTripTests.edgeRecords + [.header(Samples.header())]
        for record in samples where record.kind == kind {
            guard let bytes = record.encoded() else { continue }
            let body = Array(bytes[TraceFileLayout.recordHeaderSize...])
            // Where an earlier version's body ended, the cut body is that version's record (fields are
            // only ever appended); every other cut fails.
            let earlierForms = Self.earlierVersionForms(of: record)
            for cut in 0..<body.count {
                let result = Array(body[..<cut]).withUnsafeBytes { try? RecordBodyDecoder.decode(kind: kind.rawValue, body: $0) }
                if let earlier = earlierForms.first(where: { $0.bodyLength == cut }) {
                    #expect(result == earlier.record, "\(kind) body cut where an earlier form ends")
                } else {
                    #expect(result == nil, "\(kind) body cut at \(cut) of \(body.count) decoded")
                }
            }
        }
    }

    /// The end record's body in format 1.0: time, five counts, flags (1.1 appends why writing stopped).
    static let endBodyLength10 = 8 + 5 * 8 + 1
}
