import Foundation
import IPCWire
import Testing
@testable import TraceFormat

/// `TraceReader.payloadFrameFields(at:)` reads a payload frame without copying its captured bytes or fds, for
/// passes over every frame (the analysis, the export). It must say what decoding the record says, and
/// refuse exactly the records decoding refuses.
@Suite struct PayloadFrameFieldsTests {
    static let traces = ["demo.ipctrace", "demo-misbehave.ipctrace"].map { SampleTraceTests.directory.appendingPathComponent($0).path }
        + [SampleTraceTests.version10Directory.appendingPathComponent("demo.ipctrace").path]

    static func check(_ fields: PayloadFrameFields, against frame: PayloadFrameRecord) {
        var expected = frame
        expected.capturedPayload = []
        expected.fds = []
        #expect(fields.frame == expected)
        #expect(fields.envelope == MessageEnvelope(payload: frame.capturedPayload))
        #expect(fields.capturedSize == frame.capturedPayload.count)
        #expect(fields.attachedFDCount == frame.fds.count)
    }

    @Test(arguments: traces)
    func fieldsAreTheDecodedRecords(path: String) throws {
        let reader = try TraceReader(path: path)
        var frames = 0, withFDs = 0, others = 0
        for (offset, record) in reader.records().map({ ($0.offset, $0.record) }) {
            if case .payloadFrame(let frame) = record {
                let fields = try #require(reader.payloadFrameFields(at: offset))
                Self.check(fields, against: frame)
                frames += 1
                if !frame.fds.isEmpty { withFDs += 1 }
            } else {
                #expect(reader.payloadFrameFields(at: offset) == nil, "a \(record.kind) record is not a payload frame")
                others += 1
            }
        }
        #expect(frames > 100 && withFDs > 0 && others > 0)
        // Offsets where no record starts.
        #expect(reader.payloadFrameFields(at: 0) == nil && reader.payloadFrameFields(at: 13) == nil && reader.payloadFrameFields(at: Int.max) == nil)
    }

    /// Every prefix of a real payload-frame body, with fds, and bodies with a bad direction, fd entry size
    /// or fd count: the in-place read accepts exactly what the decoder accepts, with the same fields.
    @Test func refusesExactlyWhatDecodingRefuses() throws {
        let frame = PayloadFrameRecord(
            time: 7, channel: 3, direction: .bToA, frameIndex: 9, streamOffset: 120,
            header: FrameHeader(rawType: 0, payloadSize: 40, fdCount: 2), capturedPayload: Array(0..<24),
            fds: [AttachedFD(kind: .socket, inode: 5, size: 0, interposed: true), AttachedFD(kind: .regular, inode: 6, size: 4096, interposed: false)])
        let body = Array(try #require(TraceRecord.payloadFrame(frame).encoded()).dropFirst(TraceFileLayout.recordHeaderSize))
        var bodies = (0...body.count).map { Array(body[..<$0]) }
        var badDirection = body; badDirection[12] = 2; bodies.append(badDirection)
        let fdCountAt = 8 + 4 + 1 + 8 + 8 + 1 + 4 + 4 + 4 + 24
        var smallEntries = body; smallEntries[fdCountAt + 4] = 17; bodies.append(smallEntries)
        var tooMany = body; tooMany[fdCountAt] = 3; bodies.append(tooMany)
        var longer = body; longer += [1, 2, 3]; bodies.append(longer)  // later minor versions append fields
        var accepted = 0
        for candidate in bodies {
            candidate.withUnsafeBytes { bytes in
                let decoded = try? RecordBodyDecoder.decode(kind: TraceRecordKind.payloadFrame.rawValue, body: bytes)
                let fields = try? RecordBodyDecoder.payloadFrameFields(body: bytes)
                #expect((decoded == nil) == (fields == nil), "body of \(candidate.count) bytes")
                if case .payloadFrame(let decodedFrame)?? = decoded, let fields {
                    Self.check(fields, against: decodedFrame)
                    accepted += 1
                }
            }
        }
        #expect(accepted == 2, "the whole body and the longer one")
    }
}
