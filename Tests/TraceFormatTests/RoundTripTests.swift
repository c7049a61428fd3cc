import TestSupport
import IPCWire
import Testing
@testable import TraceFormat

@Suite struct RoundTripTests {
    /// 600 attached fds with every kind code up to 6 and extreme sizes.
    static let manyFDs: [AttachedFD] = (0..<600).map { (i: Int) -> AttachedFD in
        let kind = FDKind(rawValue: UInt8(i % 7))
        let inode: UInt64 = UInt64(i) &* 0x1_0000_0001
        let size: UInt64 = i == 0 ? .max : UInt64(i)
        return AttachedFD(kind: kind, inode: inode, size: size, interposed: i % 2 == 0)
    }

    /// Records with extreme values for every field: empty strings, maximal integers, 0 and many fds.
    static let edgeRecords: [TraceRecord] = [
        .channelOpened(ChannelOpenedRecord(
            time: .max, channel: .max, endpointA: ChannelEndpoint(name: "", pid: .min, command: ""),
            endpointB: ChannelEndpoint(name: "Ωmega \u{1F680}", pid: .max, command: String(repeating: "x", count: 10_000)),
            discovery: .transfer, transferredBy: TransferOrigin(parentChannel: .max, direction: .bToA, frameIndex: .max))),
        .channelOpened(ChannelOpenedRecord(
            time: 0, channel: 0, endpointA: ChannelEndpoint(name: "A"), endpointB: ChannelEndpoint(name: "B"),
            discovery: ChannelDiscovery(rawValue: 250))),
        .payloadFrame(PayloadFrameRecord(
            time: 0, channel: 0, direction: .aToB, frameIndex: 0, streamOffset: 0,
            header: FrameHeader(rawType: 0, payloadSize: 0, fdCount: 0), capturedPayload: [])),
        .payloadFrame(PayloadFrameRecord(
            time: .max, channel: .max, direction: .bToA, frameIndex: .max, streamOffset: .max,
            header: FrameHeader(rawType: 0xFF, payloadSize: .max, fdCount: .max), capturedPayload: [0, 0xFF, 0x7F],
            fds: manyFDs)),
        .acknowledgement(AcknowledgementRecord(time: .max, channel: .max, direction: .bToA, frameIndex: .max, streamOffset: .max, count: .max)),
        .acknowledgement(AcknowledgementRecord(time: 0, channel: 0, direction: .aToB, frameIndex: 0, streamOffset: 0, count: 0)),
        .acknowledgement(AcknowledgementRecord(time: 1, channel: 1, direction: .aToB, frameIndex: 1, streamOffset: 1, count: 1,
                                               payloadSize: .max)),
        .acknowledgement(AcknowledgementRecord(time: 1, channel: 1, direction: .aToB, frameIndex: 1, streamOffset: 1, count: 1,
                                               payloadSize: nil)),
        .eof(EOFRecord(time: 0, channel: 0, direction: .aToB, kind: .error, errorNumber: .min)),
        .eof(EOFRecord(time: .max, channel: .max, direction: .bToA, kind: .handoffAfterTransfer, errorNumber: .max,
                       likelyCause: "", likelyCauseFrameIndex: .max)),
        .eof(EOFRecord(time: 1, channel: 1, direction: .bToA, kind: EOFKind(rawValue: 99), likelyCause: "future-kind")),
        .queueSample(QueueSampleRecord(
            time: .max, channel: .max, direction: .bToA, proxyBufferedBytes: .max, receiverUnreadBytes: .max,
            receiverUnreadIsExact: true, unacknowledgedFDs: .max, pendingSyncRequests: .max,
            receiverUnprocessedBytes: .max, receiverUnmatchedFDs: .max)),
        .queueSample(QueueSampleRecord(time: 0, channel: 0, direction: .aToB, receiverUnreadIsExact: false)),
        .queueSample(QueueSampleRecord(time: 1, channel: 1, direction: .aToB, receiverUnreadIsExact: false, notMeasured: .all)),
        .queueSample(QueueSampleRecord(time: 2, channel: 2, direction: .bToA, receiverUnreadBytes: 5,
                                       notMeasured: [.pendingSyncRequests, .receiverUnmatchedFDs])),
        .framesDelivered(FramesDeliveredRecord(time: 0, channel: 0, direction: .aToB, firstFrameIndex: 0, lastFrameIndex: 0)),
        .framesDelivered(FramesDeliveredRecord(
            time: .max, channel: .max, direction: .bToA, firstFrameIndex: 3, lastFrameIndex: .max)),
        .violation(ViolationRecord(time: .max, channel: .max, direction: .bToA, violation: Violation(
            kind: .overAcknowledgement, severity: .warning, limit: .max, observed: .max, streamOffset: .max,
            frameIndex: .max, continuation: .continues))),
        .violation(ViolationRecord(
            time: 0, channel: 0, direction: .aToB, kindName: "some-future-kind", severity: .violation, limit: 0,
            observed: 0, streamOffset: 0, frameIndex: nil, continuation: .resyncAssumed)),
        .captureLoss(CaptureLossRecord(time: 0, channel: 0, direction: .aToB, framesAffected: 0, bytesNotCaptured: 0, reason: "")),
        .captureLoss(CaptureLossRecord(time: .max, channel: .max, direction: .bToA, framesAffected: .max, bytesNotCaptured: .max,
                                       reason: CaptureLossRecord.Reason.snapLength)),
        .captureLoss(CaptureLossRecord(time: 1, channel: 2, direction: .bToA, framesAffected: 7, bytesNotCaptured: 9,
                                       reason: CaptureLossRecord.Reason.recordsDropped, frameRange: 3...(.max),
                                       acknowledgementFrames: 2, unknownTypeFrames: 1,
                                       otherRecords: .init(queueSamples: .max, lateFDs: 4, framesDelivered: 5))),
        .captureLoss(CaptureLossRecord(time: 1, channel: 2, direction: .aToB, framesAffected: 1, bytesNotCaptured: 0,
                                       reason: CaptureLossRecord.Reason.writerBehind, frameRange: 0...0)),
        .end(EndRecord(time: .max, summary: TraceSummary(channels: .max, frames: .max, bytes: .max, fds: .max, violations: .max), cleanStop: false)),
        .end(EndRecord(time: 0, summary: TraceSummary(), cleanStop: true)),
        .end(EndRecord(time: 0, summary: TraceSummary(frames: 3, violations: 1, acknowledgementFrames: .max,
                                                      unknownTypeFrames: 0, warnings: 300), cleanStop: true)),
        .end(EndRecord(time: 7, summary: TraceSummary(frames: 9), cleanStop: true, stopReason: .writeError,
                       errorNumber: 28, stopOffset: .max, failedOperation: "fallocate")),
        .end(EndRecord(time: 7, summary: TraceSummary(), cleanStop: false, stopReason: StopReason(rawValue: 200),
                       errorNumber: -1, stopOffset: 0, failedOperation: "ü")),
        .channelClosed(ChannelClosedRecord(time: .max, channel: .max)),
        .channelClosed(ChannelClosedRecord(time: 0, channel: 0)),
        .channelClosed(ChannelClosedRecord(time: 3, channel: 4, traffic: ChannelTraffic(
            aToB: DirectionTraffic(bytes: .max, reads: 1, fds: 2), bToA: DirectionTraffic(bytes: 0, reads: .max, fds: .max)))),
        .endpointResolved(EndpointResolvedRecord(
            time: .max, channel: .max, side: .b, endpoint: ChannelEndpoint(name: "DemoRequestServer", pid: .max, command: "ü x"))),
        .endpointResolved(EndpointResolvedRecord(time: 0, channel: 0, side: .a, endpoint: ChannelEndpoint(name: "", pid: -1))),
        .channelTransferred(ChannelTransferredRecord(
            time: .max, channel: .max, carriedBy: TransferOrigin(parentChannel: .max, direction: .bToA, frameIndex: .max))),
        .channelTransferred(ChannelTransferredRecord(
            time: 0, channel: 0, carriedBy: TransferOrigin(parentChannel: 0, direction: .aToB, frameIndex: 0))),
        .channelTransferred(ChannelTransferredRecord(
            time: 1, channel: 2, carriedBy: TransferOrigin(parentChannel: 1, direction: .bToA, frameIndex: 7),
            adoption: .init(recoveredFrames: .max, recoveredDirection: .bToA))),
        .channelTransferred(ChannelTransferredRecord(
            time: 1, channel: 2, carriedBy: TransferOrigin(parentChannel: 1, direction: .aToB, frameIndex: 7),
            adoption: .init())),
        .lateFDs(LateFDsRecord(time: .max, channel: .max, direction: .bToA, frameIndex: .max, fds: [
            AttachedFD(kind: .pipe, inode: .max, size: 0), AttachedFD(kind: .socket, inode: 1, size: 0, interposed: true),
        ])),
        .lateFDs(LateFDsRecord(time: 0, channel: 0, direction: .aToB, frameIndex: 0, fds: [])),
        .channelClassified(ChannelClassifiedRecord(
            time: .max, channel: .max, channelProtocol: .notLibIPC, decidedBy: .bToA,
            reason: "first byte 0x80 is no frame type (0 or 1)", evidence: [0x80, 4, 0x95])),
        .channelClassified(ChannelClassifiedRecord(time: 0, channel: 0, channelProtocol: .libIPC, reason: "")),
        .channelClassified(ChannelClassifiedRecord(
            time: 1, channel: 2, channelProtocol: ChannelProtocol(rawValue: 200), decidedBy: .aToB, reason: "ü")),
        .unknownFrame(UnknownFrameRecord(time: .max, channel: .max, direction: .bToA, frameIndex: .max, streamOffset: .max,
                                         header: FrameHeader(rawType: 0xFF, payloadSize: .max, fdCount: .max))),
        .unknownFrame(UnknownFrameRecord(time: 0, channel: 0, direction: .aToB, frameIndex: 0, streamOffset: 0,
                                         header: FrameHeader(rawType: 2, payloadSize: 0, fdCount: 0))),
        .process(ProcessRecord(
            time: .max, pid: .max, parentPID: .min, startTime: .max, bootClockAtTime: .max,
            flags: [.commandLineTruncated, .detailsMissing], executable: "/usr/bin/ü x",
            arguments: ["", "a b", String(repeating: "z", count: 5000)])),
        .process(ProcessRecord(time: 0, pid: 0)),
        .endpoint(EndpointRecord(
            time: .max, channel: .max, side: .b, pid: .max, processStartTime: .max,
            basis: EndpointRecord.Basis(rawValue: 200), afterTransfer: true, endpointName: "DemoRequestServer")),
        .endpoint(EndpointRecord(time: 0, channel: 0, side: .a)),
    ]

    static let edgeHeaders: [TraceHeader] = [
        TraceHeader(createdWallClockNanoseconds: 0, monotonicAnchorNanoseconds: 0, hostName: "", ipcscopeVersion: "",
                    commandLine: [], limits: [], snapLength: 0, schemas: []),
        TraceHeader(formatVersion: TraceFormatVersion(major: 1, minor: .max), createdWallClockNanoseconds: .max,
                    monotonicAnchorNanoseconds: .max, hostName: "h\u{0}st", ipcscopeVersion: "9.9.9-dev",
                    commandLine: ["", "a b", "ü", String(repeating: "z", count: 70_000)],
                    limits: TraceHeader.libIPCLimits + [.init(name: "", value: .max)], snapLength: .max,
                    schemas: [.init(path: "", text: ""), .init(path: "a.ipc", text: "endpoint A {}")]),
        Samples.header(),
    ]

    @Test func everyRecordKindDecodesToWhatWasEncoded() throws {
        let records = Self.edgeRecords + Samples.everyKind() + Self.edgeHeaders.map(TraceRecord.header)
        #expect(Set(records.map(\.kind)) == Set(TraceRecordKind.allCases))
        for record in records {
            let bytes = try #require(record.encoded())
            let decoded = bytes.withUnsafeBytes { raw -> TraceRecord? in
                guard case .valid(let frame) = RecordScanner.checkFrame(in: raw, at: 0) else { return nil }
                #expect(frame.endOffset == raw.count)
                return try? RecordBodyDecoder.decode(kind: frame.kind, body: TraceReader.body(of: frame, in: raw))
            }
            #expect(decoded == record)
        }
    }

    @Test func everyRecordKindSurvivesTheWriterAndReader() throws {
        let directory = TemporaryDirectory()
        for header in Self.edgeHeaders {
            let path = directory.file("edge.ipctrace")
            // Snap length 0 would cut every payload: give the writer a big one and compare the header apart.
            var writerHeader = header
            writerHeader.snapLength = .max
            try Samples.writeTrace(Self.edgeRecords + Samples.everyKind(), header: writerHeader, to: path)
            let reader = try TraceReader(path: path)
            #expect(reader.header == writerHeader)
            #expect(reader.allRecords == [.header(writerHeader)] + Self.edgeRecords + Samples.everyKind())
            let report = reader.validate()
            #expect(report.isIntact)
            #expect(report.truncatedTail == nil)
        }
    }

    @Test func hugePayloadUpToTheSnapLengthRoundTrips() throws {
        let snap = 8 << 20
        let directory = TemporaryDirectory()
        let path = directory.file("huge.ipctrace")
        let writer = try TraceWriter(path: path, header: Samples.header(snapLength: UInt32(snap)))
        var generator = SplitMix64(seed: 7)
        let payload = (0..<(snap + 1000)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let exact = Array(payload[..<snap])
        #expect(writer.submit(.payloadFrame(PayloadFrameRecord(
            time: 1, channel: 1, direction: .aToB, frameIndex: 0, streamOffset: 0,
            header: .payload(size: snap, fdCount: 0), capturedPayload: exact))))
        // Longer than the snap length: the writer keeps the first `snap` bytes.
        payload.withUnsafeBytes { raw in
            #expect(writer.submitPayloadFrame(
                time: 2, channel: 1, direction: .aToB, frameIndex: 1, streamOffset: UInt64(snap + 12),
                header: .payload(size: payload.count, fdCount: 0), payload: raw))
        }
        try writer.close()

        let records = try TraceReader(path: path).allRecords
        #expect(records.count == 3)
        guard records.count == 3, case .payloadFrame(let first) = records[1], case .payloadFrame(let second) = records[2] else {
            Issue.record("expected two payload frames")
            return
        }
        #expect(first.capturedPayload == exact)
        #expect(first.isPayloadComplete)
        #expect(second.capturedPayload == exact)
        #expect(second.header.payloadSize == UInt32(payload.count))
        #expect(!second.isPayloadComplete)
    }

    @Test func payloadSplitAcrossTwoBuffersIsJoinedAndCut() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("split.ipctrace")
        let writer = try TraceWriter(path: path, header: Samples.header(snapLength: 10))
        let head: [UInt8] = [1, 2, 3, 4, 5, 6]
        let tail: [UInt8] = [7, 8, 9, 10, 11, 12]
        head.withUnsafeBytes { h in
            tail.withUnsafeBytes { t in
                #expect(writer.submitPayloadFrame(
                    time: 9, channel: 2, direction: .bToA, frameIndex: 3, streamOffset: 4,
                    header: .payload(size: 12, fdCount: 1), payload: h, payloadTail: t,
                    fds: [AttachedFD(kind: .socket, inode: 5, interposed: true)]))
            }
        }
        try writer.close()
        let records = try TraceReader(path: path).allRecords
        #expect(records.last == .payloadFrame(PayloadFrameRecord(
            time: 9, channel: 2, direction: .bToA, frameIndex: 3, streamOffset: 4, header: .payload(size: 12, fdCount: 1),
            capturedPayload: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], fds: [AttachedFD(kind: .socket, inode: 5, interposed: true)])))
    }

    @Test func violationRecordKeepsUnknownKindsAndConvertsKnownOnes() {
        let known = ViolationRecord(time: 1, channel: 1, direction: .aToB, violation: Violation(
            kind: .tooManyFDsInFrame, limit: 128, observed: 129, streamOffset: 0))
        #expect(known.violation?.kind == .tooManyFDsInFrame)
        let unknown = ViolationRecord(
            time: 1, channel: 1, direction: .aToB, kindName: "later", severity: .warning, limit: 0, observed: 0,
            streamOffset: 0, frameIndex: nil, continuation: .continues)
        #expect(unknown.kind == nil)
        #expect(unknown.violation == nil)
    }

    @Test func headerConvertsMonotonicTimesToWallClock() {
        let header = Samples.header()
        #expect(header.wallClockNanoseconds(ofMonotonic: header.monotonicAnchorNanoseconds)
            == Int64(header.createdWallClockNanoseconds))
        #expect(header.wallClockNanoseconds(ofMonotonic: header.monotonicAnchorNanoseconds + 1500)
            == Int64(header.createdWallClockNanoseconds) + 1500)
        #expect(header.wallClockNanoseconds(ofMonotonic: header.monotonicAnchorNanoseconds - 1500)
            == Int64(header.createdWallClockNanoseconds) - 1500)
    }

    @Test func startingNowFillsClocksHostAndLimits() {
        let header = TraceHeader.startingNow(ipcscopeVersion: "0.1.0", commandLine: ["ipcscope"], snapLength: 100)
        #expect(header.createdWallClockNanoseconds > 1_600_000_000 * 1_000_000_000)
        #expect(header.monotonicAnchorNanoseconds <= TraceClock.monotonicNanoseconds())
        #expect(header.limits.contains(.init(name: "MAX_MESSAGE_FD_COUNT", value: 128)))
        #expect(header.formatVersion == TraceFileLayout.currentVersion)
    }
}

@Suite struct GoldenBytesTests {
    /// The worked example of docs/trace-format.md §4: the byte layout must never change.
    @Test func channelClosedRecordMatchesTheSpecExample() {
        let record = TraceRecord.channelClosed(ChannelClosedRecord(time: 1, channel: 2))
        #expect(record.encoded() == [
            0xE9, 0x1F, 0xC3, 0xA7, 0x0C, 0, 0, 0, 0x46, 0x97, 0x94, 0xD0, 0x0A,
            1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0,
        ])
    }

    @Test func fileHeaderIsMagicAndVersion() {
        #expect(TraceFileLayout.fileHeaderBytes() == Array("IPCTRACE".utf8) + [1, 0, 1, 0])
    }

    @Test func acknowledgementFieldOffsetsMatchTheSpec() throws {
        let bytes = try #require(TraceRecord.acknowledgement(AcknowledgementRecord(
            time: 0x0102_0304_0506_0708, channel: 0x1112_1314, direction: .bToA, frameIndex: 0x2122_2324_2526_2728,
            streamOffset: 0x3132_3334_3536_3738, count: 0x4142_4344)).encoded())
        let body = Array(bytes[13...])
        #expect(body.count == 37)  // 33 in 1.0; 1.1 appended the payload size
        #expect(body[0] == 0x08 && body[7] == 0x01)
        #expect(body[8] == 0x14 && body[11] == 0x11)
        #expect(body[12] == 1)
        #expect(body[13] == 0x28 && body[21] == 0x38 && body[29] == 0x44)
        #expect(Array(body[33...]) == [0, 0, 0, 0])
    }

    /// Queue-sample flags (1.1): bit 0 exact, bits 1–6 the fields not measured, at body offset 29 (§5.6).
    @Test func queueSampleFlagsSayWhatWasNotMeasured() throws {
        let record = QueueSampleRecord(time: 1, channel: 2, direction: .aToB, receiverUnreadIsExact: false,
                                       notMeasured: [.receiverUnreadBytes, .pendingSyncRequests])
        let bytes = try #require(TraceRecord.queueSample(record).encoded())
        let body = Array(bytes[13...])
        #expect(body.count == 62)
        #expect(body[29] == 0b0001_0100)
        // A 1.0 writer set bit 0 at most: every field reads as measured. Bit 7 is not defined: ignored.
        for (flags, exact, notMeasured) in [(UInt8(1), true, QueueSampleRecord.Fields()), (0, false, []),
                                            (0b1000_0001, true, []), (0xFF, true, .all)] {
            var changed = body
            changed[29] = flags
            let decoded = try changed.withUnsafeBytes { raw in
                try RecordBodyDecoder.decode(kind: TraceRecordKind.queueSample.rawValue, body: raw)
            }
            guard case .queueSample(let sample) = decoded else {
                Issue.record("not a queue sample: \(String(describing: decoded))")
                continue
            }
            #expect(sample.receiverUnreadIsExact == exact)
            #expect(sample.notMeasured == notMeasured)
        }
    }

    /// Frames-delivered (1.1, §5.15): 29 bytes, and a range whose first index is after its last is refused.
    @Test func framesDeliveredLayoutMatchesTheSpec() throws {
        let bytes = try #require(TraceRecord.framesDelivered(FramesDeliveredRecord(
            time: 0x0102_0304_0506_0708, channel: 0x1112_1314, direction: .bToA, firstFrameIndex: 0x2122_2324_2526_2728,
            lastFrameIndex: 0x3132_3334_3536_3738)).encoded())
        #expect(bytes[12] == 18)
        var body = Array(bytes[13...])
        #expect(body.count == 29)
        #expect(body[0] == 0x08 && body[8] == 0x14 && body[12] == 1)
        #expect(body[13] == 0x28 && body[20] == 0x21 && body[21] == 0x38 && body[28] == 0x31)
        body[28] = 0x20  // last < first
        #expect(throws: BodyDecodingError.self) {
            try body.withUnsafeBytes { try RecordBodyDecoder.decode(kind: 18, body: $0) }
        }
    }
}
