import IPCWire
import Testing
import TraceAnalysis
import TraceFormat

/// Side identities over time, as the record adapter sees them: an event takes what its side was at the
/// event's file offset, and what was not known yet then from the first record that knew it.
@Suite struct TraceFilterContextTests {
    static func frame(_ time: UInt64, _ direction: Direction, index: UInt64) -> TraceRecord {
        .payloadFrame(PayloadFrameRecord(
            time: time, channel: 1, direction: direction, frameIndex: index, streamOffset: index * 20,
            header: FrameHeader(type: .payload, payloadSize: 8, fdCount: 0), capturedPayload: [1, 0, 0, 0, 2, 0, 0, 0]))
    }

    static let records: [(offset: Int, record: TraceRecord)] = [
        (12, .header(TraceHeader(createdWallClockNanoseconds: 5, monotonicAnchorNanoseconds: 1000, hostName: "h",
                                 ipcscopeVersion: "t", commandLine: [], snapLength: 64))),
        (50, .channelOpened(ChannelOpenedRecord(time: 1000, channel: 1, endpointA: ChannelEndpoint(name: ""),
                                                endpointB: ChannelEndpoint(name: "pid 7", pid: 7, command: "/usr/lib/ladybird/WebContent --fd 3"),
                                                discovery: .wrap))),
        (100, frame(1100, .aToB, index: 0)),
        (150, .process(ProcessRecord(time: 1150, pid: 10, executable: "/opt/My App/bin/Ladybird"))),
        (200, .endpoint(EndpointRecord(time: 1200, channel: 1, side: .a, pid: 10, basis: .sender, endpointName: "Client"))),
        (300, frame(1300, .aToB, index: 1)),
        (350, .process(ProcessRecord(time: 1350, pid: 20, arguments: ["/bin/Other", "-x"]))),
        (400, .endpoint(EndpointRecord(time: 1400, channel: 1, side: .a, pid: 20, basis: .holder, afterTransfer: true))),
        (500, frame(1500, .bToA, index: 0)),
    ]

    func subject(at offset: Int, _ context: TraceFilterContext) throws -> TraceRecordSubject {
        let record = try #require(Self.records.first { $0.offset == offset })
        return TraceRecordSubject(record: record.record, offset: offset, context: context)
    }

    func matches(_ filter: String, at offset: Int, _ context: TraceFilterContext) throws -> Bool {
        try CompiledFilter(filter).matches(try subject(at: offset, context))
    }

    @Test func identitiesFollowTheRecordsThatNameThem() throws {
        let context = TraceFilterContext(records: Self.records)
        // Before any record named side A, the first identity known for it counts.
        #expect(try matches("sender.pid == 10 and sender.process == Ladybird and sender.endpoint == Client", at: 100, context))
        // Side B: pid and process from channel-opened's command; "pid 7" is a placeholder, not an endpoint.
        #expect(try matches("receiver.pid == 7 and receiver.process == WebContent and not receiver.endpoint", at: 100, context))
        #expect(try matches("sender.pid == 10", at: 300, context))
        // After the transfer side A is pid 20, named by its first argument; the endpoint name carries on.
        #expect(try matches("receiver.pid == 20 and receiver.process == Other and receiver.endpoint == Client", at: 500, context))
        #expect(try matches("dir == Other>WebContent or dir == WebContent>Other", at: 500, context))
        #expect(try matches("dir == WebContent>Client and dir == b>a", at: 500, context))
        #expect(try !matches("pid == 10", at: 500, context))
        // A process record is its own process (side A), with no direction.
        #expect(try matches("kind == process and pid == 10 and process == Ladybird and not sender.pid and not dir", at: 150, context))
        #expect(try matches("process == \"Other\"", at: 350, context))
        // Times count from the header's monotonic anchor.
        #expect(try matches("time == 100ns", at: 100, context))
        #expect(try matches("time == 0ns and kind == header", at: 12, context))
        // Without schemas there are no message names, but the envelope's id and magic are there.
        #expect(try matches("not message and id == 2 and magic == 1", at: 100, context))
    }
}
