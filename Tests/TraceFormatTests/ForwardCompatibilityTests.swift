import IPCWire
import Testing
@testable import TraceFormat

@Suite struct ForwardCompatibilityTests {
    @Test func trailingBytesOfAKnownKindAreIgnored() throws {
        for record in Samples.everyKind() + [.header(Samples.header())] {
            let encoded = try #require(record.encoded())
            let body = Array(encoded[TraceFileLayout.recordHeaderSize...]) + [9, 9, 9, 9, 9]
            let decoded = try body.withUnsafeBytes { try RecordBodyDecoder.decode(kind: record.kind.rawValue, body: $0) }
            #expect(decoded == record)
        }
    }

    @Test func largerAttachedFDEntriesKeepTheirKnownPart() throws {
        let buffer = ByteBuffer()
        _ = buffer.appendRecord(kind: TraceRecordKind.payloadFrame.rawValue) { b in
            b.append(UInt64(7)); b.append(UInt32(1)); b.append(Direction.bToA.rawValue)
            b.append(UInt64(2)); b.append(UInt64(3))
            b.append(UInt8(0)); b.append(UInt32(1)); b.append(UInt32(2))
            b.appendBlob([0xAB])
            b.append(UInt32(2)); b.append(UInt16(22))
            for inode in [UInt64(10), 11] {
                b.append(FDKind.pipe.rawValue); b.append(UInt8(0b11)); b.append(inode); b.append(UInt64(0))
                b.append(UInt32(0xDEAD_BEEF))  // a field a later version added
            }
        }
        let directory = TemporaryDirectory()
        Files.write(Samples.traceBytes([]) + buffer.array, to: directory.file("t"))
        let records = try TraceReader(path: directory.file("t")).allRecords
        #expect(records.last == .payloadFrame(PayloadFrameRecord(
            time: 7, channel: 1, direction: .bToA, frameIndex: 2, streamOffset: 3,
            header: FrameHeader(rawType: 0, payloadSize: 1, fdCount: 2), capturedPayload: [0xAB],
            fds: [AttachedFD(kind: .pipe, inode: 10, interposed: true), AttachedFD(kind: .pipe, inode: 11, interposed: true)])))
    }

    @Test func unknownKindsAreSkippedAndReportedNotCorrupt() throws {
        let buffer = ByteBuffer()
        _ = buffer.appendRecord(kind: 200) { $0.append(UInt64(42)); $0.append("from the future") }
        let tail = Samples.everyKind()
        let bytes = Samples.traceBytes([]) + buffer.array + tail.flatMap { $0.encoded() ?? [] }
        let directory = TemporaryDirectory()
        Files.write(bytes, to: directory.file("t"))
        let reader = try TraceReader(path: directory.file("t"))
        let report = reader.validate()
        #expect(report.isIntact)
        #expect(report.unknownKinds.map(\.kind) == [200])
        #expect(reader.allRecords == [.header(Samples.header())] + tail)
        let index = reader.buildIndex()
        #expect(index.count == tail.count + 2)
        #expect(index.unknownKindCount == 1)
        #expect(index.times[1] == 42)
    }

    @Test func laterMinorVersionsAreReadAndOtherMajorsRefused() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("t")
        var bytes = Samples.traceBytes(Samples.everyKind())
        bytes[10] = 7  // minor 7
        Files.write(bytes, to: path)
        let reader = try TraceReader(path: path)
        #expect(reader.version == TraceFormatVersion(major: 1, minor: 7))
        #expect(reader.validate().isIntact)
        bytes[8] = 2  // major 2
        Files.write(bytes, to: path)
        #expect(throws: TraceFileError.unsupportedVersion(path: path, version: TraceFormatVersion(major: 2, minor: 7))) {
            try TraceReader(path: path)
        }
    }

    @Test func notATraceAndMissingFilesAreClearErrors() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("t")
        Files.write(Array("hello, this is not a trace".utf8), to: path)
        #expect(throws: TraceFileError.notATrace(path: path)) { try TraceReader(path: path) }
        #expect(TraceFileError.notATrace(path: path).description.contains(path))
        let missing = directory.file("missing")
        do {
            _ = try TraceReader(path: missing)
            Issue.record("opened a missing file")
        } catch {
            #expect(error.description.contains(missing))
            #expect(error.description.contains("No such file"))
        }
        #expect(throws: TraceFileError.notARegularFile(path: directory.path)) { try TraceReader(path: directory.path) }
    }
}
