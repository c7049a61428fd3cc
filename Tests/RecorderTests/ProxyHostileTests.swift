import Glibc
import IPCTransport
import IPCWire
import TestSupport
import Testing
import TraceFormat

/// Hostile and unusual peers through the real `ipcscope record -- IPCTestPeer MODE` (preload mode: the
/// peer's own socketpair is relayed). IPCTestPeer checks on its side that every byte and fd arrived as
/// sent and that the other direction kept flowing (it exits 3 otherwise); these tests check that the
/// recorder survived (`record` exits 0 with a clean end record), that the trace says what happened, and
/// the figures the peer measured from /proc. The issue 13 list and where each case is covered:
/// docs/recording.md, "Hostile peers".
@Suite(.serialized, .timeLimit(.minutes(10))) struct ProxyHostileTests {
    @Test func fdsThatNoFrameClaimsAreForwardedAndCounted() throws {
        let run = try HostileRun(["fds-without-frame"])
        #expect(run.figures["fds-without-frame fds"] == 3, "\(run.line)")
        let trace = try RecordedTrace(path: run.trace)
        trace.expectIntact()
        #expect(trace.frames(1, .aToB).count == 3)
        #expect(trace.frames(1, .aToB).allSatisfy { $0.fds.isEmpty }, "no frame claims them")
        #expect(trace.frames(1, .bToA).count == 1, "the other direction")
        // Not in the end record's fds (those that arrived *for payload frames*, trace-format §5.9), but in
        // the channel's relayed totals, and in the receiver model the last queue sample shows.
        #expect(trace.ends.first?.summary.fds == 0)
        let extra = try ChannelRecords(path: run.trace)
        #expect(extra.closed.first?.traffic?.aToB.fds == 3)
        #expect(extra.lastSample(1, .aToB)?.receiverUnmatchedFDs == 3)
        #expect(trace.violations.filter { $0.severity == .violation }.isEmpty, "\(trace.violations)")
    }

    @Test func aFrameClaimingFDsThatNeverComeIsAMissingFDsViolation() throws {
        let run = try HostileRun(["hostile-pair", Violation.Kind.missingFDs.rawValue])
        let trace = try RecordedTrace(path: run.trace)
        trace.expectIntact()
        let missing = try #require(trace.violations.first { $0.kindName == "missing-fds" }, "\(trace.violations)")
        #expect(missing.limit == 3 && missing.observed == 1, "\(missing)")
        #expect(trace.frames(1, .aToB).last?.fds.count == 1, "recorded with the fd that came")
        #expect(trace.eofs.first { $0.direction == .aToB }?.likelyCause == "missing-fds")
    }

    /// 4 × 253 fds in flight at once (the kernel's most per sendmsg), none claimed by a frame: all reach
    /// the receiver, the reply comes back meanwhile, and the recorder holds none of them afterwards.
    @Test func moreThan253FDsInFlightAllArriveAndNoneStaysInTheRecorder() throws {
        let run = try HostileRun(["fd-burst", "4"])
        #expect(run.figures["fd-burst fds"] == 1012, "\(run.line)")
        #expect(run.figures["recorder-fds settled"] == 1, "\(run.line)")
        #expect(run.figures["recorder-fds before"] == run.figures["recorder-fds after"], "\(run.line)")
        let trace = try RecordedTrace(path: run.trace)
        trace.expectIntact()
        let extra = try ChannelRecords(path: run.trace)
        #expect(extra.closed.first?.traffic?.aToB.fds == 1012)
        let kinds = Set(trace.violations.filter { $0.severity == .violation }.map(\.kindName))
        #expect(kinds.contains(Violation.Kind.tooManyFDsInOneSend.rawValue), "\(kinds)")
        #expect(kinds.contains(Violation.Kind.unprocessedFDsOverflow.rawValue), "\(kinds)")
    }

    /// The receiver stops reading: its sender is held back (the proxy keeps at most one read), the
    /// recorder's memory does not grow, and the other direction carries 1 000 frames meanwhile.
    @Test func aReceiverThatStopsReadingHoldsBackOnlyItsSenderAndMemoryStaysBounded() throws {
        let run = try HostileRun(["stop-reading"])
        let written = try #require(run.figures["stop-reading written"])
        #expect(written < 8 << 20, "the proxy let the sender write \(written) bytes to a receiver that reads nothing")
        #expect(run.figures["stop-reading other-way"] == 1000)
        let before = try #require(run.figures["recorder-rss-kib before"])
        for moment in ["stalled", "after-other-way"] {
            let rss = try #require(run.figures["recorder-rss-kib \(moment)"])
            #expect(rss - before <= 8 * 1024, "\(moment): the recorder grew by \(rss - before) KiB: \(run.line)")
        }
        let trace = try RecordedTrace(path: run.trace)
        trace.expectIntact()
        #expect(trace.frames(1, .bToA).count == 1000)
        #expect(trace.frames(1, .aToB).count == run.figures["stop-reading frames"])
    }

    /// A sender writing as fast as it can: every frame arrives (the peer checks each), the recorder's
    /// memory stays under its writer budget (64 MiB) whatever the volume, and every frame is accounted
    /// for: recorded, or named by a `records dropped` capture-loss range — never silently missing.
    @Test(arguments: [FloodCase(frames: 16_384, payload: 16_384, lossless: false),
                      FloodCase(frames: 200_000, payload: 100, lossless: false),
                      FloodCase(frames: 200_000, payload: 100, lossless: true)])
    func aFloodingSenderNeverGrowsTheRecorderAndEveryFrameIsAccountedFor(_ flood: FloodCase) throws {
        let run = try HostileRun(["flood", String(flood.frames), String(flood.payload)],
                                 recordOptions: flood.lossless ? ["--lossless"] : [])
        let before = try #require(run.figures["recorder-rss-kib before"])
        let peak = try #require(run.figures["recorder-rss-kib max"])
        #expect(peak - before <= 80 * 1024, "the recorder grew by \(peak - before) KiB: \(run.line)")
        let trace = try RecordedTrace(path: run.trace)
        trace.expectIntact()
        let recorded = trace.frames(1, .aToB)
        let dropped = trace.captureLosses.filter { $0.direction == .aToB && $0.reason == CaptureLossRecord.Reason.recordsDropped }
        var indexes = Set(recorded.map(\.frameIndex))
        #expect(indexes.count == recorded.count, "each frame recorded once")
        for loss in dropped {
            guard let range = loss.frameRange else { continue }
            indexes.formUnion(range)
        }
        #expect(indexes == Set(0..<UInt64(flood.frames)), "frames neither recorded nor named as dropped")
        #expect(UInt64(recorded.count) + dropped.reduce(0) { $0 + $1.framesAffected } == UInt64(flood.frames))
        #expect(trace.ends.first?.summary.frames == UInt64(flood.frames), "the end record counts every frame that crossed")
        // The envelope (magic, the frame's number as id) survives however capture degrades.
        #expect(recorded.allSatisfy { $0.capturedPayload.count >= 8 && Array($0.capturedPayload[4..<8]) == Self.littleEndian(UInt32(truncatingIfNeeded: $0.frameIndex)) })
        if flood.lossless {
            #expect(dropped.isEmpty && recorded.count == flood.frames)
            #expect(trace.captureLosses.allSatisfy { $0.reason == CaptureLossRecord.Reason.snapLength }, "\(trace.captureLosses)")
        }
        print("flood \(flood): \(run.line); capture losses: \(trace.captureLosses.count), records dropped: \(dropped.count)")
    }

    /// Each frame written one byte per write, its fd with byte k, for every k: the peer checks the fd never
    /// arrives before the frame's first byte nor after byte k; the trace lists it with its frame.
    @Test func oneByteWritesWithTheFDAtEveryPosition() throws {
        let run = try HostileRun(["byte-writes"])
        #expect(run.figures["byte-writes frames"] == 28, "\(run.line)")
        let trace = try RecordedTrace(path: run.trace)
        trace.expectIntact()
        let frames = trace.frames(1, .aToB)
        #expect(frames.count == 28)
        #expect(frames.allSatisfy { $0.fds.count == 1 && $0.fds.first?.kind == .pipe }, "the fd is listed with its frame")
        #expect(Set(frames.compactMap { $0.fds.first?.inode }).count == 1)
        #expect(trace.acknowledged(1, .bToA) == 28)
        #expect(trace.report.countsByKind[.lateFDs] == nil, "an fd sent inside its frame is never late")
        #expect(trace.violations.isEmpty, "\(trace.violations)")
    }

    @Test func aPeerThatHalfClosesKeepsReading() throws {
        let run = try HostileRun(["half-close"])
        #expect(run.figures["half-close frames-after"] == 100, "\(run.line)")
        let trace = try RecordedTrace(path: run.trace)
        trace.expectIntact()
        #expect(trace.frames(1, .aToB).count == 1)
        #expect(trace.frames(1, .bToA).count == 100)
        let aEOF = try #require(trace.eofs.first { $0.direction == .aToB })
        let lastReply = try #require(trace.frames(1, .bToA).last)
        #expect(aEOF.time <= lastReply.time, "A's half-close came before B's replies, which still crossed")
        trace.expectCleanEOFs(1)
    }

    struct FloodCase: Sendable, CustomTestStringConvertible {
        var frames: Int
        var payload: Int
        var lossless: Bool
        var testDescription: String { "\(frames) × \(payload) B\(lossless ? ", --lossless" : "")" }
    }

    static func littleEndian(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }
}

/// The records RecordedTrace leaves out: channel-closed (what each direction relayed) and queue samples.
struct ChannelRecords {
    var closed: [ChannelClosedRecord] = []
    var samples: [QueueSampleRecord] = []

    init(path: String) throws {
        for (_, record) in try TraceReader(path: path).records() {
            switch record {
            case .channelClosed(let r): closed.append(r)
            case .queueSample(let r): samples.append(r)
            default: break
            }
        }
    }

    func lastSample(_ channel: UInt32, _ direction: Direction) -> QueueSampleRecord? {
        samples.last { $0.channel == channel && $0.direction == direction }
    }
}

/// `ipcscope record -o TRACE [OPTIONS] -- IPCTestPeer ARGS`, which must exit 0, and the figures of the
/// peer's last line (`group name=value …`: `recorder-fds before=9` gives "recorder-fds before").
struct HostileRun {
    let trace: String
    let line: String
    let figures: [String: Int]

    init(_ peerArguments: [String], recordOptions: [String] = [],
         sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        trace = makeScratchDirectory() + "/hostile.ipctrace"
        let peer = try #require(BuiltProducts.executable("IPCTestPeer"))
        let run = try ProgramRun.run(try ipcscopeExecutable(), ["record", "-o", trace] + recordOptions + ["--", peer] + peerArguments)
        #expect(run.status == .exited(0), "\(run.summary)", sourceLocation: sourceLocation)
        line = run.standardOutput.split(separator: "\n").last.map(String.init) ?? ""
        figures = PeerFigures.parse(line)
    }
}
