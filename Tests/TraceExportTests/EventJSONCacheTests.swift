import Foundation
import Testing
import TraceAnalysis
import TraceFormat
@testable import TraceExport

/// EventJSON keeps the sender/receiver objects and the message members it already wrote and copies them
/// for the next event that has the same ones. Pinned here: every event comes out byte for byte as an
/// EventJSON with nothing kept writes it (a fresh one per event), on the demo traces in Traces/ — sides
/// that change identity mid-channel (endpoint records, transfers), named and unnamed messages, sync pairs.
@Suite struct EventJSONCacheTests {
    static let traces = ExportCommandTests.traces

    @Test(arguments: traces, [false, true])
    func keptObjectsAreWhatAFreshWriterWrites(path: String, payload: Bool) throws {
        let context = try ExportContext(path: path, store: .disabled)
        let kept = EventJSON(includePayload: payload)
        let withCaches = JSONBuffer(), fresh = JSONBuffer()
        var events = 0
        try context.forEachEventInTimeOrder { number in
            let offset = context.trace.index.offset(of: number)
            guard let record = context.trace.reader.record(at: offset) else { return }
            kept.write(record, offset: offset, context: context, into: withCaches)
            withCaches.newline()
            EventJSON(includePayload: payload).write(record, offset: offset, context: context, into: fresh)
            fresh.newline()
            events += 1
        }
        #expect(events > 300)
        let text = String(decoding: withCaches.bytes, as: UTF8.self)
        let lines = text.split(separator: "\n"), expected = String(decoding: fresh.bytes, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == expected.count)
        let first = lines.indices.first { $0 >= expected.count || lines[$0] != expected[$0] }
        #expect(first == nil, "event \(first ?? 0): \(first.map { lines[$0] } ?? "")\nexpected \(first.map { expected[$0] } ?? "")")
        // The trace has what the caches are for: messages named by schemas, sides named.
        #expect(text.contains("\"message\":") && text.contains("\"sender\":{"))
    }

    /// The export writes payload frames without fds read in place (captured bytes not copied): the same
    /// bytes as the decoded record gives, and only for frames whose fds and payload are not written.
    @Test(arguments: traces, [false, true])
    func inPlaceFramesAreWrittenAsTheirRecords(path: String, payload: Bool) throws {
        let context = try ExportContext(path: path, store: .disabled)
        let writer = EventJSON(includePayload: payload)
        var inPlace = 0, decodedOnly = 0
        var offsets: [Int] = []
        try context.forEachEventInTimeOrder { offsets.append(context.trace.index.offset(of: $0)) }
        for offset in offsets {
            guard case .payloadFrame(let frame)? = context.trace.reader.record(at: offset) else { continue }
            let fields = try #require(context.trace.reader.payloadFrameFields(at: offset))
            guard writer.canWrite(fields) else {
                #expect(payload || !frame.fds.isEmpty)
                decodedOnly += 1
                continue
            }
            let a = JSONBuffer(), b = JSONBuffer()
            writer.write(fields, offset: offset, context: context, into: a)
            writer.write(.payloadFrame(frame), offset: offset, context: context, into: b)
            #expect(a.bytes == b.bytes)
            inPlace += 1
        }
        #expect(payload ? inPlace == 0 : inPlace > 100)
        #expect(decodedOnly > 0)
    }

    @Test func staticKindNamesAreTheKindsDescriptions() {
        for kind in TraceRecordKind.allCases {
            #expect("\(EventJSON.name(of: kind))" == kind.description)
        }
    }
}
