import Testing
@testable import TraceFormat

/// Process (kind 15) and endpoint (kind 16) records as `ipcscope check` validates them.
@Suite("Identity records")
struct IdentityRecordTests {
    static let opened = TraceRecord.channelOpened(ChannelOpenedRecord(
        time: 1, channel: 1, endpointA: ChannelEndpoint(name: "pid 10", pid: 10), endpointB: ChannelEndpoint(name: ""),
        discovery: .preload))
    static let process = TraceRecord.process(ProcessRecord(
        time: 1, pid: 10, parentPID: 1, startTime: 5_000, bootClockAtTime: 9_000, arguments: ["ui", "--x"]))
    static let endpoint = TraceRecord.endpoint(EndpointRecord(
        time: 2, channel: 1, side: .a, pid: 10, processStartTime: 5_000, basis: .sender, endpointName: "E"))

    private func report(_ records: [TraceRecord]) throws -> CheckReport {
        let directory = TemporaryDirectory()
        let path = directory.file("identity.ipctrace")
        try Samples.writeTrace(records, to: path)
        return try TraceReader(path: path).validate()
    }

    @Test func endpointsNamingRecordedProcessesAreConsistent() throws {
        let r = try report([Self.process, Self.opened, Self.endpoint])
        #expect(r.identityProblemCount == 0, "\(r.identityProblems)")
        #expect(r.processCount == 1)
        #expect(r.isIntact)
    }

    @Test func anEndpointBeforeItsProcessOrChannelIsReported() throws {
        let r = try report([Self.endpoint, Self.opened, Self.process])
        #expect(r.identityProblemCount == 2, "\(r.identityProblems)")
        // A reused pid is another process: the start time must match too.
        let reused = TraceRecord.endpoint(EndpointRecord(time: 3, channel: 1, side: .b, pid: 10, processStartTime: 6_000))
        #expect(try report([Self.process, Self.opened, reused]).identityProblemCount == 1)
        // Integrity is another matter: the file is intact.
        #expect(r.isIntact)
    }

    @Test func transfersCountEachHandOverOnce() throws {
        let origin = TransferOrigin(parentChannel: 1, direction: .aToB, frameIndex: 3)
        let followed = TraceRecord.channelOpened(ChannelOpenedRecord(
            time: 2, channel: 2, endpointA: ChannelEndpoint(name: ""), endpointB: ChannelEndpoint(name: ""),
            discovery: .transfer, transferredBy: origin))
        let sameHandOver = TraceRecord.channelTransferred(ChannelTransferredRecord(time: 2, channel: 2, carriedBy: origin))
        let later = TraceRecord.channelTransferred(ChannelTransferredRecord(
            time: 3, channel: 2, carriedBy: TransferOrigin(parentChannel: 1, direction: .bToA, frameIndex: 0)))
        #expect(try report([Self.opened, followed, sameHandOver, later]).transferCount == 2)
        // A 1.0 trace has only the channel-opened origin.
        #expect(try report([Self.opened, followed]).transferCount == 1)
    }

    @Test func startTimeConvertsToTheTraceClock() {
        let record = ProcessRecord(time: 100_000, pid: 1, startTime: 5_000, bootClockAtTime: 9_000)
        #expect(record.startMonotonic == 96_000)
        #expect(ProcessRecord(time: 1, pid: 1).startMonotonic == nil)
    }
}
