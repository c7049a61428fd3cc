import Glibc
import IPCTransport
import IPCWire
import Recorder
import Testing
import TraceFormat

/// A fresh directory under /tmp for one test's files.
func makeScratchDirectory() -> String {
    var template = Array("/tmp/ipcscope-recording-XXXXXX".utf8CString)
    return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
}

/// Two real LibIPC endpoints (IPCTransport) talking through a recording session.
struct RecordedPair {
    let directory = makeScratchDirectory()
    let tracePath: String
    let session: RecordingSession
    let endpointA: IPCTransport
    let endpointB: IPCTransport

    init(schemas: SchemaSet? = nil, snapLength: UInt32 = 4096) throws {
        tracePath = directory + "/test.ipctrace"
        var options = RecordingSession.Options()
        options.schemas = schemas
        let header = TraceHeader.startingNow(ipcscopeVersion: "test", commandLine: ["test"], snapLength: snapLength)
        session = try RecordingSession(tracePath: tracePath, header: header, options: options)
        let a = try SocketPair.makeRaw()
        let b = try SocketPair.makeRaw()
        try session.openChannel(endA: OwnedFD(adopting: a.second), endB: OwnedFD(adopting: b.second), endpointA: ChannelEndpoint(name: "A"),
                                endpointB: ChannelEndpoint(name: "B"), discovery: .wrap)
        endpointA = try IPCTransport(adopting: a.first)
        endpointB = try IPCTransport(adopting: b.first)
    }

    func records() throws -> [TraceRecord] {
        try TraceReader(path: tracePath).records().map(\.record)
    }
}

/// Every payload and acknowledgement frame of the trace has a frames-delivered record covering it, given once
/// per direction in order, at or after the time the recorder had the frame (trace-format §5.15).
func expectEveryFrameDelivered(_ records: [TraceRecord], sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    var had: [String: [UInt64: UInt64]] = [:]
    var delivered: [String: [FramesDeliveredRecord]] = [:]
    for record in records {
        switch record {
        case .payloadFrame(let r): had["\(r.channel)/\(r.direction)", default: [:]][r.frameIndex] = r.time
        case .acknowledgement(let r): had["\(r.channel)/\(r.direction)", default: [:]][r.frameIndex] = r.time
        case .framesDelivered(let r): delivered["\(r.channel)/\(r.direction)", default: []].append(r)
        default: break
        }
    }
    #expect(Set(delivered.keys) == Set(had.keys), sourceLocation: sourceLocation)
    for (key, frames) in had {
        var next: UInt64 = 0
        var previous: UInt64 = 0
        for range in delivered[key] ?? [] {
            #expect(range.firstFrameIndex == next, "\(key): ranges follow each other", sourceLocation: sourceLocation)
            #expect(range.time >= previous, sourceLocation: sourceLocation)
            for index in range.firstFrameIndex...range.lastFrameIndex {
                #expect(range.time >= frames[index] ?? .max, "\(key): frame \(index) delivered before it was had",
                        sourceLocation: sourceLocation)
            }
            next = range.lastFrameIndex + 1
            previous = range.time
        }
        #expect(next == UInt64(frames.count), "\(key): \(next) of \(frames.count) frames delivered",
                sourceLocation: sourceLocation)
    }
}

func receiveMessage(_ transport: IPCTransport) -> (payload: [UInt8], fds: [Int32])? {
    if case .message(let payload, let fds) = transport.receive(timeout: .seconds(5)) { return (payload, fds) }
    return nil
}

@Suite(.serialized) struct RecordingTests {
    @Test func endpointsSeeIdenticalTrafficAndTheTraceCountsIt() throws {
        let pair = try RecordedPair()
        var sentBytes: UInt64 = 0
        var sentFDs: UInt64 = 0
        var inodes: [UInt64] = []
        for index in 0..<200 {
            let payload = (0..<(index * 37 % 5000)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) }
            var fds: [Int32] = []
            if index % 10 == 0 {
                let pipe = try Pipe.makeRaw()
                inodes.append(try Descriptor.info(pipe.readEnd).inode)
                Descriptor.close(pipe.writeEnd)
                fds = [pipe.readEnd]
            }
            try pair.endpointA.send(payload: payload, attachments: fds)
            sentBytes += UInt64(payload.count)
            sentFDs += UInt64(fds.count)
            let received = try #require(receiveMessage(pair.endpointB), "message \(index)")
            #expect(received.payload == payload, "message \(index)")
            #expect(received.fds.count == fds.count)
            for fd in received.fds {
                #expect(try Descriptor.info(fd).inode == inodes.last)
                Descriptor.close(fd)
            }
        }
        for index in 0..<50 {
            try pair.endpointB.send(payload: [UInt8(index)])
            #expect(receiveMessage(pair.endpointA)?.payload == [UInt8(index)])
        }
        // Acks travel back through the proxy: A's retained fds return to 0.
        let deadline = ContinuousClock.now + .seconds(5)
        while pair.endpointA.statistics.retainedFDs > 0, ContinuousClock.now < deadline { usleep(5_000) }
        #expect(pair.endpointA.statistics.retainedFDs == 0)
        pair.endpointA.close()
        pair.endpointB.close()
        let summary = pair.session.finishWhenChannelsEnd()
        #expect(summary.frames == 250)

        let records = try pair.records()
        let frames = records.compactMap { if case .payloadFrame(let f) = $0 { f } else { nil } }
        let fromA = frames.filter { $0.direction == .aToB }
        #expect(fromA.count == 200)
        #expect(frames.filter { $0.direction == .bToA }.count == 50)
        #expect(fromA.reduce(0) { $0 + UInt64($1.header.payloadSize) } == sentBytes)
        #expect(fromA.reduce(0) { $0 + UInt64($1.fds.count) } == sentFDs)
        #expect(fromA.flatMap(\.fds).map(\.inode) == inodes)
        #expect(fromA.flatMap(\.fds).allSatisfy { $0.kind == .pipe })
        let acknowledged = records.reduce(UInt64(0)) {
            if case .acknowledgement(let ack) = $1, ack.direction == .bToA { return $0 + UInt64(ack.count) }
            return $0
        }
        #expect(acknowledged == sentFDs)
        #expect(records.contains { if case .end(let end) = $0 { end.cleanStop } else { false } })
        #expect(records.filter { if case .eof = $0 { true } else { false } }.count == 2)
        expectEveryFrameDelivered(records)
        // No schemas: pending sync requests are not measured (not 0); everything else is.
        let samples = records.compactMap { if case .queueSample(let q) = $0 { q } else { nil } }
        #expect(!samples.isEmpty)
        #expect(samples.allSatisfy { $0.notMeasured == [.pendingSyncRequests] })

        var info = stat()
        #expect(stat(pair.tracePath, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        #expect(pair.tracePath.isEmpty == false)
    }

    @Test func everyFrameLevelViolationIsRecordedOnceWithItsLimit() throws {
        let cases: [(Violation.Kind, [UInt8], UInt64)] = [
            (.payloadTooLarge, FrameHeader(type: .payload, payloadSize: 64 * 1024 * 1024 + 1, fdCount: 0).bytes, 67_108_864),
            (.tooManyFDsInFrame, FrameHeader(type: .payload, payloadSize: 0, fdCount: 129).bytes, 128),
            (.unknownFrameType, FrameHeader(rawType: 9, payloadSize: 0, fdCount: 0).bytes, 0),
            (.acknowledgementWithPayload, FrameHeader(type: .fdAcknowledgement, payloadSize: 1, fdCount: 0).bytes + [0], 0),
            (.overAcknowledgement, FrameEncoder.acknowledgementFrame(count: 3), 0),
        ]
        for (kind, bytes, limit) in cases {
            let pair = try RecordedPair()
            // Write the bad frame raw: IPCTransport refuses to send such frames.
            try Descriptor.writeAll(pair.endpointA.socketFD, bytes)
            // The victim disconnects, as Ladybird does.
            if case .eof = pair.endpointB.receive(timeout: .seconds(5)) {} else {
                Issue.record("\(kind): the receiving transport did not disconnect")
            }
            pair.endpointB.close()
            pair.endpointA.close()
            pair.session.finishWhenChannelsEnd()
            let violations = try pair.records().compactMap { (record: TraceRecord) -> ViolationRecord? in
                if case .violation(let v) = record, v.severity == .violation { return v }
                return nil
            }
            #expect(violations.map(\.kindName) == [kind.rawValue], "\(kind)")
            #expect(violations.first?.limit == limit, "\(kind)")
            let eofs = try pair.records().compactMap { (record: TraceRecord) -> EOFRecord? in
                if case .eof(let e) = record { return e }
                return nil
            }
            #expect(eofs.contains { $0.likelyCause == kind.rawValue }, "\(kind): the disconnect names its cause")
        }
    }
}

extension RecordingTests {
    /// Frames are recorded per chunk in one batch while a violation is written at once: the trace must
    /// still hold them in stream order.
    @Test func aViolationStaysBetweenTheFramesAroundItInTheSameChunk() throws {
        let pair = try RecordedPair()
        // One write, so one chunk: a frame, a frame claiming too many fds, a frame.
        let bytes = FrameEncoder.payloadFrame([1, 2, 3])
            + FrameHeader(type: .payload, payloadSize: 0, fdCount: 129).bytes
            + FrameEncoder.payloadFrame([4, 5])
        try Descriptor.writeAll(pair.endpointA.socketFD, bytes)
        _ = pair.endpointB.receive(timeout: .seconds(5))
        pair.endpointB.close()
        pair.endpointA.close()
        pair.session.finishWhenChannelsEnd()

        let sequence = try pair.records().compactMap { (record: TraceRecord) -> String? in
            switch record {
            case .payloadFrame(let frame) where frame.direction == .aToB: "frame \(frame.frameIndex)"
            case .violation(let violation) where violation.direction == .aToB:
                "\(violation.kindName) \(violation.frameIndex.map(String.init) ?? "-")"
            default: nil
            }
        }
        #expect(sequence == ["frame 0", "too-many-fds-in-frame 1", "frame 1", "frame 2"])
    }
}

@Suite(.serialized) struct RecordingWithSchemasTests {
    static let schema = """
        endpoint ProbeServer
        {
            ask(String question) => (String answer)
            tell(Vector<u8> data) =|
        }
        """

    @Test func aDecodedLengthOverTheLimitIsAViolation() throws {
        let file = try SchemaParser.parse(Self.schema, path: "Probe.ipc")
        let pair = try RecordedPair(schemas: SchemaSet(files: [file]))
        var encoder = IPCEncoder()
        encoder.envelope(magic: EndpointMagic.of("ProbeServer"), id: 3)
        encoder.count(0x0500_0000)  // 80 Mi elements claimed, none sent
        try pair.endpointA.send(payload: encoder.bytes)
        _ = receiveMessage(pair.endpointB)
        pair.endpointA.close()
        pair.endpointB.close()
        pair.session.finishWhenChannelsEnd()
        let violations = try pair.records().compactMap { (record: TraceRecord) -> ViolationRecord? in
            if case .violation(let v) = record { return v }
            return nil
        }
        #expect(violations.map(\.kindName) == [Violation.Kind.decodedSizeTooLarge.rawValue])
        #expect(violations.first?.limit == 64 * 1024 * 1024)
        #expect(violations.first?.observed == 0x0500_0000)
        #expect(violations.first?.streamOffset == 12 + 8)
    }

    @Test func pendingSyncRequestsArePairedWithTheirResponses() throws {
        let file = try SchemaParser.parse(Self.schema, path: "Probe.ipc")
        let pair = try RecordedPair(schemas: SchemaSet(files: [file]))
        let magic = EndpointMagic.of("ProbeServer")
        for round in 0..<3 {
            var request = IPCEncoder()
            request.envelope(magic: magic, id: 1)
            request.string("question \(round)")
            try pair.endpointA.send(payload: request.bytes)
            _ = receiveMessage(pair.endpointB)
            // The response waits until the trace shows the request pending (the sampler sees it within 5 ms).
            #expect(try waitForPendingChanges(in: pair, count: 2 * round + 1))
            var response = IPCEncoder()
            response.envelope(magic: magic, id: 2)
            response.string("answer \(round)")
            try pair.endpointB.send(payload: response.bytes)
            _ = receiveMessage(pair.endpointA)
            #expect(try waitForPendingChanges(in: pair, count: 2 * round + 2))
        }
        pair.endpointA.close()
        pair.endpointB.close()
        pair.session.finishWhenChannelsEnd()
        let samples = try pair.records().compactMap { (record: TraceRecord) -> QueueSampleRecord? in
            if case .queueSample(let sample) = record, sample.direction == .aToB { return sample }
            return nil
        }
        let pending = samples.map(\.pendingSyncRequests)
        #expect(pending.filter { $0 == 1 }.count >= 3)
        #expect(pending.last == 0)
        #expect(pending.allSatisfy { $0 <= 1 })
        // The schema told the kind of every message: the count was measured throughout.
        #expect(samples.allSatisfy { !$0.notMeasured.contains(.pendingSyncRequests) })
    }

    /// Waits (bounded) until the live trace's A→B pending-request counts, from the first 1 on and without
    /// repeats (1, 0, 1, 0, …), number at least `count`. A record reaching the file raises no event, so this
    /// rereads the file; the outcome is what the records say, the bound only ends a broken test.
    private func waitForPendingChanges(in pair: RecordedPair, count: Int) throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(10)
        repeat {
            var changes: [UInt64] = []
            for record in try pair.records() {
                guard case .queueSample(let sample) = record, sample.direction == .aToB else { continue }
                let pending = sample.pendingSyncRequests
                if changes.last != pending, !(changes.isEmpty && pending == 0) { changes.append(pending) }
            }
            if changes.count >= count { return true }
            usleep(5_000)
        } while ContinuousClock.now < deadline
        return false
    }
}

/// What the trace says about fds that do not come with their frame (issue 9, finding 4 and finding 1).
@Suite(.serialized) struct FDArrivalRecordingTests {
    private func payloadFrames(_ records: [TraceRecord]) -> [PayloadFrameRecord] {
        records.compactMap { if case .payloadFrame(let f) = $0 { f } else { nil } }
    }

    /// A header that declares 3 fds with only 1 passed is recorded with exactly the fd that came; the end
    /// of the stream proves the other two missing, and the EOF names that as its cause.
    @Test func aFrameMissingFDsRecordsOnlyThoseThatCameAndReportsTheShortfall() throws {
        let pair = try RecordedPair()
        let pipe = try Pipe.makeRaw()
        defer { Descriptor.close(pipe.readEnd); Descriptor.close(pipe.writeEnd) }
        let frame = FrameEncoder.payloadFrame([UInt8](repeating: 7, count: 8), fdCount: 3)
        _ = try SocketMessaging.sendMessage(pair.endpointA.socketFD, bytes: frame, fds: [pipe.readEnd])
        pair.endpointA.close()
        pair.endpointB.close()
        let summary = pair.session.finishWhenChannelsEnd()
        #expect(summary.fds == 1)

        let records = try pair.records()
        let frames = payloadFrames(records)
        #expect(frames.count == 1)
        #expect(frames.first?.header.fdCount == 3)
        #expect(frames.first?.fds.map(\.inode) == [try Descriptor.info(pipe.readEnd).inode])
        #expect(frames.first?.fds.map(\.kind) == [.pipe])
        let violations = records.compactMap { if case .violation(let v) = $0 { v } else { nil } }
        #expect(violations.map(\.kindName) == ["missing-fds"])
        #expect(violations.first?.limit == 3)
        #expect(violations.first?.observed == 1)
        #expect(violations.first?.frameIndex == 0)
        let eofs = records.compactMap { if case .eof(let e) = $0, e.direction == .aToB { e } else { nil } }
        #expect(eofs.first?.likelyCause == "missing-fds")
        let end = records.compactMap { if case .end(let e) = $0 { e } else { nil } }.first
        #expect(end?.summary.fds == 1)
    }

    /// Fds sent after their frame's last byte (with the next frame's first bytes) keep their kind and inode:
    /// the frame lists what had arrived, a late-fds record the rest.
    @Test func fdsAfterTheirFrameAreRecordedWithKindAndInode() throws {
        let pair = try RecordedPair()
        let socket = pair.endpointA.socketFD
        var inodes: [UInt64] = []
        let rounds = 50
        for round in 0..<rounds {
            let pipe = try Pipe.makeRaw()
            inodes.append(try Descriptor.info(pipe.readEnd).inode)
            let waiting = FrameEncoder.payloadFrame([UInt8](repeating: UInt8(round), count: 8), fdCount: 1)
            let next = FrameEncoder.payloadFrame([UInt8](repeating: 0xEE, count: 8))
            try Descriptor.writeAll(socket, waiting)
            waitUntilDrained(socket)
            _ = try SocketMessaging.sendMessage(socket, bytes: Array(next.prefix(3)), fds: [pipe.readEnd])
            try Descriptor.writeAll(socket, Array(next.dropFirst(3)))
            Descriptor.close(pipe.readEnd)
            Descriptor.close(pipe.writeEnd)
        }
        // The receiving transport gets every message with its fd.
        for round in 0..<rounds {
            let first = try #require(receiveMessage(pair.endpointB), "round \(round)")
            #expect(first.fds.count == 1)
            #expect(first.fds.first.map { (try? Descriptor.info($0).inode) ?? 0 } == inodes[round])
            Descriptor.closeAll(first.fds)
            #expect(receiveMessage(pair.endpointB)?.fds.isEmpty == true)
        }
        pair.endpointA.close()
        pair.endpointB.close()
        let summary = pair.session.finishWhenChannelsEnd()
        #expect(summary.fds == UInt64(rounds))

        let records = try pair.records()
        let late = records.compactMap { if case .lateFDs(let l) = $0 { l } else { nil } }
        let onFrames = payloadFrames(records).filter { $0.direction == .aToB }.flatMap(\.fds)
        // Every fd is described once — on its frame or as late — with its kind and inode, none unknown.
        let described = (onFrames + late.flatMap(\.fds))
        #expect(Set(described.map(\.inode)) == Set(inodes))
        #expect(described.count == rounds)
        #expect(described.allSatisfy { $0.kind == .pipe })
        #expect(late.allSatisfy { $0.frameIndex % 2 == 0 }, "late fds belong to the frames that claimed them")
        #expect(!records.contains { if case .violation = $0 { true } else { false } })
    }
}

/// Every payload frame stays identifiable (issue 10, finding 2): its envelope is kept whatever the snap length.
@Suite(.serialized) struct EnvelopeCaptureTests {
    @Test(arguments: [0, 3, 8, 20] as [UInt32])
    func theEnvelopeIsKeptAtAnySnapLength(snapLength: UInt32) throws {
        let pair = try RecordedPair(snapLength: snapLength)
        func envelope(_ magic: UInt32, _ id: Int32) -> [UInt8] {
            var bytes: [UInt8] = []
            MessageEnvelope(magic: magic, messageID: id).append(to: &bytes)
            return bytes
        }
        let payloads: [[UInt8]] = [
            envelope(0x1234_5678, 7) + [UInt8](repeating: 0xAB, count: 100),
            envelope(0x9ABC_DEF0, 1),
            [1, 2, 3],  // shorter than an envelope: kept whole
        ]
        for payload in payloads {
            try pair.endpointA.send(payload: payload)
            #expect(receiveMessage(pair.endpointB)?.payload == payload)
        }
        pair.endpointA.close()
        pair.endpointB.close()
        pair.session.finishWhenChannelsEnd()
        let frames = try pair.records().compactMap { if case .payloadFrame(let f) = $0 { f } else { nil } }
        let kept = max(Int(snapLength), MessageEnvelope.size)
        #expect(frames.map(\.capturedPayload) == payloads.map { Array($0.prefix(kept)) })
        #expect(frames.map(\.header.payloadSize) == payloads.map { UInt32($0.count) })
    }
}
