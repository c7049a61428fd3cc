import Foundation
import Glibc
import IPCWire
import Testing
import TraceAnalysis
import TraceFormat

/// The analysis over a trace written with TraceWriter and read through the index, as `show`, `stats` and
/// export read it: sync pairing, fd lifecycles, violation context, and resuming as a trace grows.
@Suite struct TraceAnalyzerTests {
    static func analysed(_ path: String, chunk: Int? = nil) throws -> (TraceAnalyzer, [(offset: Int, record: TraceRecord)]) {
        var trace = try IndexedTrace(path: path, store: .disabled)
        trace.indexToEnd()
        let analyzer = TraceAnalyzer()
        if let chunk {
            var end = 0
            while end < trace.eventCount {
                end += chunk
                analyzer.advance(over: trace, upTo: end)
            }
        } else {
            analyzer.advance(over: trace)
        }
        let records = try TraceReader(path: path).records().map { (offset: $0.offset, record: $0.record) }
        return (analyzer, records)
    }

    /// The offset of the payload frame of `channel`, `direction`, `index`.
    static func frameOffset(_ records: [(offset: Int, record: TraceRecord)], _ channel: UInt32, _ direction: Direction, _ index: UInt64) -> Int? {
        records.first {
            if case .payloadFrame(let frame) = $0.record { return frame.channel == channel && frame.direction == direction && frame.frameIndex == index }
            return false
        }?.offset
    }

    @Test func syncCallsPairWithTheirOwnResponses() throws {
        let path = try ConstructedTrace.write()
        let (analyzer, records) = try Self.analysed(path)
        func latency(_ channel: UInt32, _ direction: Direction, _ index: UInt64) throws -> Int64? {
            analyzer.latency(at: try #require(Self.frameOffset(records, channel, direction, index)))
        }
        // Channel 1: the calls of the two sides interleave; each response answers the other side's request.
        #expect(try latency(1, .aToB, 0) == 100)  // A's compute at 100, answered at 200
        #expect(try latency(1, .bToA, 1) == 100)
        #expect(try latency(1, .bToA, 0) == 140)  // B's ask at 120, answered at 260
        #expect(try latency(1, .aToB, 2) == 140)
        #expect(try latency(1, .aToB, 1) == nil)  // the notify between them
        // Channel 2: pipelined requests are answered in order.
        #expect(try latency(2, .aToB, 0) == 40)
        #expect(try latency(2, .aToB, 1) == 70)
        #expect(try latency(2, .bToA, 0) == 40)
        #expect(try latency(2, .bToA, 1) == 70)
        // Async messages have none.
        #expect(try latency(3, .aToB, 0) == nil)
        #expect(analyzer.sync.calls == 4 && analyzer.sync.answeredCalls == 4 && analyzer.sync.unansweredRequests == 0)
        let name = try #require(analyzer.message(magic: ConstructedTrace.descriptors["TestServer::compute"]!.magic,
                                                 id: ConstructedTrace.descriptors["TestServer::compute"]!.id))
        #expect(String(decoding: name.name, as: UTF8.self) == "TestServer::compute" && name.kind == .request)
    }

    @Test func fdsAreFollowedFromTheirFrameToTheirAcknowledgement() throws {
        let path = try ConstructedTrace.write()
        let (analyzer, records) = try Self.analysed(path)
        let fds = try #require(analyzer.fds.fds(channel: 3, direction: .aToB))
        #expect(fds.batches.map(\.count) == [2, 1, 200])
        let ackOffset = records.first { $0.record.kind == .acknowledgement }?.offset
        // The ack of 2 releases frame 0's two fds; frame 1's one fd is never acknowledged.
        #expect(fds.batches[0].isAcknowledged && fds.batches[0].acknowledgedBy == ackOffset)
        #expect(!fds.batches[1].isAcknowledged && fds.batches[1].acknowledgedBy == nil && fds.batches[1].acknowledged == 0)
        #expect(fds.batches[0].offset == Self.frameOffset(records, 3, .aToB, 0))
        // Frames 0 and 1 were delivered at 315; frame 2 never was.
        #expect(fds.batches[0].deliveredTime == 315 && fds.batches[1].deliveredTime == 315 && fds.batches[2].deliveredTime == nil)
        #expect(fds.sent == 203 && fds.acknowledged == 2 && fds.outstanding == 201)
        #expect(analyzer.fds.fds(channel: 3, direction: .bToA) == nil || analyzer.fds.fds(channel: 3, direction: .bToA)!.sent == 0)
    }

    @Test func aViolationNamesItsFrameAndTheEOFItCaused() throws {
        let path = try ConstructedTrace.write()
        let (analyzer, records) = try Self.analysed(path)
        let violation = try #require(analyzer.violations.entries.first)
        #expect(analyzer.violations.entries.count == 1)
        #expect(violation.kind == "too-many-fds-in-frame" && !violation.isWarning && violation.observed == 200 && violation.limit == 128)
        #expect(violation.frameIndex == 2 && violation.frameOffset == Self.frameOffset(records, 3, .aToB, 2))
        let eofOffset = records.first { $0.record.kind == .eof }?.offset
        #expect(violation.eofOffset == eofOffset && violation.eofKind == .reset)
        let channel = try #require(analyzer.channels[3])
        #expect(channel.ends[0]?.causedBy == 0 && channel.ends[1] == nil && channel.isHalfClosed)
    }

    @Test func analysingInChunksEqualsAnalysingAtOnce() throws {
        let path = try ConstructedTrace.write()
        let (whole, records) = try Self.analysed(path)
        let (stepped, _) = try Self.analysed(path, chunk: 1)
        for (offset, _) in records {
            #expect(whole.latency(at: offset) == stepped.latency(at: offset))
            for channel in UInt32(1)...3 {
                #expect(whole.identity(channel: channel, side: 0, at: offset) == stepped.identity(channel: channel, side: 0, at: offset))
            }
        }
        #expect(whole.kindCounts == stepped.kindCounts)
        #expect(whole.violations.entries == stepped.violations.entries)
        // Feeding the same events again changes nothing.
        var trace = try IndexedTrace(path: path, store: .disabled)
        trace.indexToEnd()
        stepped.advance(over: trace)
        #expect(whole.kindCounts == stepped.kindCounts)
    }

    @Test func aGrowingTraceIsAnalysedAsItGrows() throws {
        // A writer that has not finished: the analysis of what is there, then of what was appended.
        var template = Array("/tmp/ipcscope-analysis-XXXXXX".utf8CString)
        let directory = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        let path = directory + "/growing.ipctrace"
        let header = TraceHeader(createdWallClockNanoseconds: 0, monotonicAnchorNanoseconds: 0, hostName: "h", ipcscopeVersion: "t",
                                 commandLine: [], snapLength: 64, schemas: [.init(path: "test.ipc", text: ConstructedTrace.schema)])
        let writer = try TraceWriter(path: path, header: header)
        for record in ConstructedTrace.records.prefix(5) { _ = writer.submit(record, waitForRoom: true) }
        try writer.flush()
        var trace = try IndexedTrace(path: path, store: .disabled)
        trace.indexToEnd()
        let analyzer = TraceAnalyzer()
        analyzer.advance(over: trace)
        let first = analyzer.analyzedEvents
        #expect(first == 6)  // header, three channel-opened, two requests
        #expect(analyzer.sync.calls == 2 && analyzer.sync.answeredCalls == 0)
        for record in ConstructedTrace.records.dropFirst(5) { _ = writer.submit(record, waitForRoom: true) }
        try writer.close()
        try trace.follow()
        analyzer.advance(over: trace)
        #expect(analyzer.analyzedEvents == ConstructedTrace.records.count + 1)
        #expect(analyzer.sync.calls == 4 && analyzer.sync.answeredCalls == 4)
    }
}

/// The export's analysis keeps only what names events (`TraceAnalyzer.Scope.names`) and reads no async
/// frame: every answer it gives is the full analysis's, for every event of the demo traces (sides that
/// change identity, processes, named and unnamed messages, answered and unanswered sync calls).
@Suite struct NamesScopeTests {
    static let traces = ["demo.ipctrace", "demo-misbehave.ipctrace"].map {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Traces/\($0)").standardizedFileURL.path
    } + [ConstructedTraceFile.path]

    enum ConstructedTraceFile {
        static let path: String = (try? ConstructedTrace.write()) ?? "/nonexistent"
    }

    @Test(arguments: traces)
    func namesAreTheFullAnalysisNames(path: String) throws {
        var trace = try IndexedTrace(path: path, store: .disabled)
        trace.indexToEnd()
        let full = TraceAnalyzer()
        full.advance(over: trace)
        full.isComplete = true
        // Fed in chunks, as a followed trace is.
        let names = TraceAnalyzer(scope: .names)
        var end = 0
        while end < trace.eventCount {
            end += 37
            names.advance(over: trace, upTo: end)
        }
        names.isComplete = true
        #expect(names.header == full.header && names.startTime == full.startTime && names.end == full.end)
        #expect(names.processes == full.processes)
        #expect(names.sync.calls == full.sync.calls && names.sync.answeredCalls == full.sync.answeredCalls)
        #expect(full.sync.calls > 0)
        var latencies = 0, named = 0
        for number in 0..<trace.eventCount {
            let event = trace.event(number)
            #expect(names.latency(at: event.offset) == full.latency(at: event.offset))
            if full.latency(at: event.offset) != nil { latencies += 1 }
            if let envelope = event.envelope {
                let a = names.message(magic: envelope.magic, id: envelope.messageID), b = full.message(magic: envelope.magic, id: envelope.messageID)
                #expect(a?.name == b?.name && a?.kind == b?.kind)
                if b != nil { named += 1 }
            }
            if let channel = event.channel {
                for side in 0..<2 {
                    #expect(names.identity(channel: channel, side: side, at: event.offset) == full.identity(channel: channel, side: side, at: event.offset))
                }
            }
        }
        #expect(latencies > 0 && named > 0)
        // What the scope leaves out stays empty.
        #expect(names.tally.events == 0 && names.channels.channels.isEmpty)
    }
}
