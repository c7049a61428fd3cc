import Foundation
@testable import Recorder
import Synchronization
import Testing
import TraceFormat

/// Process records (kind 15) as the recording session writes them: once per process, again when a pid
/// comes back as another process, always before the endpoint record that names it.
@Suite struct IdentityRecordsTests {
    private static func writer(_ path: String) throws -> TraceWriter {
        try TraceWriter(path: path, header: .startingNow(ipcscopeVersion: "test", commandLine: ["test"], snapLength: 64))
    }

    private static func records(_ path: String) throws -> [TraceRecord] {
        try TraceReader(path: path).records().map(\.record)
    }

    @Test func aLiveProcessIsRecordedOnceWithWhatProcShows() throws {
        let path = makeScratchDirectory() + "/identity.ipctrace"
        let writer = try Self.writer(path)
        let identities = IdentityRecords(writer: writer)
        let me = getpid()
        let start = identities.see(pid: me)
        #expect(start > 0)
        #expect(identities.see(pid: me) == start)
        // As the session does: the channel-opened record first, then the sides it knows.
        writer.submit(.channelOpened(ChannelOpenedRecord(
            time: 1, channel: 1, endpointA: ChannelEndpoint(name: "", pid: me), endpointB: ChannelEndpoint(name: ""),
            discovery: .preload)), waitForRoom: true)
        identities.channelOpened(1, pids: [me, -1], starts: [start, 0], time: 1)
        identities.learnt(EndpointIdentity(side: .b, endpointName: "E"), channel: 1, time: 2)
        try writer.close()
        let records = try Self.records(path)
        let processes = records.compactMap { if case .process(let r) = $0 { r } else { nil } }
        #expect(processes.count == 1)
        let process = try #require(processes.first)
        #expect(process.pid == me && process.parentPID == getppid() && process.startTime == start)
        #expect(process.arguments == CommandLine.arguments, "\(process.arguments)")
        #expect(process.executable == (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")))
        let converted = try #require(process.startMonotonic)
        #expect(converted > 0 && UInt64(converted) < process.time)
        let endpoints = records.compactMap { if case .endpoint(let r) = $0 { r } else { nil } }
        #expect(endpoints.map(\.side) == [.a, .b])
        #expect(endpoints[0].pid == me && endpoints[0].processStartTime == start && endpoints[0].basis == .creator)
        #expect(endpoints[1].pid == -1 && endpoints[1].endpointName == "E")
        #expect(try TraceReader(path: path).validate().identityProblemCount == 0)
    }

    @Test func aReusedPidIsRecordedAgainBeforeTheEndpointNamingIt() throws {
        let path = makeScratchDirectory() + "/reuse.ipctrace"
        let writer = try Self.writer(path)
        // pid 4242 is one process, then (reused) another with a later start time.
        let start = Atomic<UInt64>(1_000)
        let fake: @Sendable (Int32) -> ProcessSnapshot? = { pid in
            var snapshot = ProcessSnapshot(pid: pid, parentPID: 1, startTime: start.load(ordering: .relaxed), bootClock: 9_000)
            snapshot.arguments = ["program-\(start.load(ordering: .relaxed))"]
            return snapshot
        }
        let identities = IdentityRecords(writer: writer, started: fake, snapshot: fake)
        identities.channelOpened(1, pids: [-1, -1], starts: [0, 0], time: 1)
        identities.learnt(EndpointIdentity(side: .a, pid: 4242, bySending: true), channel: 1, time: 2)
        identities.learnt(EndpointIdentity(side: .a, pid: 4242, bySending: true), channel: 1, time: 3)
        start.store(2_000, ordering: .relaxed)
        identities.learnt(EndpointIdentity(side: .a, pid: 4242, bySending: true, afterTransfer: true), channel: 1, time: 4)
        try writer.close()
        let records = try Self.records(path)
        let kinds = records.compactMap { record -> String? in
            switch record {
            case .process(let r): "process \(r.startTime) \(r.commandLine)"
            case .endpoint(let r): "endpoint \(r.pid)@\(r.processStartTime)\(r.afterTransfer ? " after transfer" : "")"
            default: nil
            }
        }
        #expect(kinds == ["process 1000 program-1000", "endpoint 4242@1000",
                          "process 2000 program-2000", "endpoint 4242@2000 after transfer"], "\(kinds)")
    }

    /// A side whose socket travelled is named as the carrying frame's receiver; a plain holder look-up that
    /// still finds the previous owner (the socket in flight, or not yet closed there) does not undo that, and
    /// the side's own first send does override it.
    @Test func aTravelledSideKeepsItsNewHolderUntilItSends() throws {
        let path = makeScratchDirectory() + "/travelled.ipctrace"
        let writer = try Self.writer(path)
        let fake: @Sendable (Int32) -> ProcessSnapshot? = { pid in
            var snapshot = ProcessSnapshot(pid: pid, parentPID: 1, startTime: UInt64(pid) * 10, bootClock: 9_000)
            snapshot.arguments = ["program-\(pid)"]
            return snapshot
        }
        let identities = IdentityRecords(writer: writer, started: fake, snapshot: fake)
        let (ui, webContent) = (Int32(100), Int32(200))
        let starts = [ui, webContent].map { identities.see(pid: $0) }
        // Channel 1: UI (A) → WebContent (B) carries channel 2's side B, which the UI made with both ends.
        identities.channelOpened(1, pids: [ui, webContent], starts: starts, time: 1)
        identities.channelOpened(2, pids: [ui, ui], starts: [starts[0], starts[0]], time: 2)
        identities.sideTravelled(2, .b, carrier: 1, direction: .aToB, time: 3)
        identities.learnt(EndpointIdentity(side: .b, pid: ui), channel: 2, time: 4)
        identities.learnt(EndpointIdentity(side: .b, pid: webContent, bySending: true, afterTransfer: true), channel: 2, time: 5)
        try writer.close()
        let sideB = try Self.records(path).compactMap { record -> EndpointRecord? in
            if case .endpoint(let r) = record, r.channel == 2, r.side == .b { r } else { nil }
        }
        #expect(sideB.map(\.pid) == [ui, webContent, webContent], "\(sideB)")
        #expect(sideB.map(\.afterTransfer) == [false, true, true])
        #expect(sideB.last?.basis == .sender)
    }
}
