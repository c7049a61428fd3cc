/// An incomplete record at the end of a file.
public struct TruncatedTail: Sendable, Equatable {
    public var offset: Int
    public var length: Int
}

/// A damaged region found by ``TraceReader/validate()``.
public struct TraceCorruption: Sendable, Equatable {
    public var offset: Int
    public var reason: CorruptionReason
    /// Where reading went on (after a resync, or after a bad record whose frame was intact); nil when
    /// nothing usable followed.
    public var resumedAt: Int?
    /// Good records read after this damage, up to the next damage or the end.
    public var recordsRecovered: Int
}

/// A record of a kind this version does not know, skipped.
public struct UnknownKindRecord: Sendable, Equatable {
    public var offset: Int
    public var kind: UInt8
}

/// The result of checking a whole trace file.
public struct CheckReport: Sendable {
    public var path: String
    public var fileSize: Int
    public var version: TraceFormatVersion
    /// The header record, when the first record is one.
    public var header: TraceHeader?
    /// Good records of known kinds, decoded.
    public var recordCount = 0
    public var countsByKind: [TraceRecordKind: Int] = [:]
    public var unknownKinds: [UnknownKindRecord] = []
    /// Smallest and largest record time (header excluded).
    public var firstTime: UInt64?
    public var lastTime: UInt64?
    /// Distinct channel ids of channel-opened records.
    public var channelCount = 0
    /// Payload-frame records (kind 3), acknowledgement records (4) and unknown-frame records (17).
    public var frameCount = 0
    public var acknowledgementCount = 0
    public var unknownFrameCount = 0
    /// Sum of the payload frames' true payload sizes, and of the bytes captured of them.
    public var payloadBytes: UInt64 = 0
    public var capturedPayloadBytes: UInt64 = 0
    /// Fds listed as attached in payload-frame and late-fds records: those that arrived (as the end
    /// record's `fds` counts them).
    public var fdCount: UInt64 = 0
    /// Fds the payload frames' headers claimed (`fd_count`); more than ``fdCount`` when some never came.
    public var fdsClaimed: UInt64 = 0
    /// Violation records of severity `violation` (a rule broken) and `warning` (a value near its limit).
    public var violationCount = 0
    public var warningCount = 0
    public var captureLossCount = 0
    /// (1.1) Distinct processes (pid and start time) of process records.
    public var processCount = 0
    /// Transports handed over: distinct (channel, carrying frame) of channel-transferred records and of
    /// channel-opened records with a transfer origin.
    public var transferCount = 0
    /// Endpoint records whose channel or process the trace does not describe before them (the first 100),
    /// and how many there were in all.
    public var identityProblems: [IdentityProblem] = []
    public var identityProblemCount = 0
    /// Channels classified as not LibIPC (relayed, not parsed), and as undetermined (1.1 traces).
    public var notLibIPCChannelCount = 0
    public var undeterminedChannelCount = 0
    /// Bytes and fds the not-LibIPC channels relayed, from their channel-closed records.
    public var notLibIPCBytes: UInt64 = 0
    public var notLibIPCFDs: UInt64 = 0
    /// The end record, when the recorder stopped (rather than being killed).
    public var end: EndRecord?
    public var truncatedTail: TruncatedTail?
    public var corruptions: [TraceCorruption] = []
    /// Another process truncated or rewrote the file while it was checked: pages past its new end read as
    /// zeros, so the report describes a file that no longer exists. Check again.
    public var shrankWhileReading = false

    /// No damage found, and the file stayed put while it was read. A truncated tail does not count as damage.
    public var isIntact: Bool { corruptions.isEmpty && !shrankWhileReading }

    /// How the recording ended, as far as the file tells.
    public var ending: RecordingEnding {
        guard let end else { return .noEndRecord }
        switch end.stopReason {
        case .complete: return .complete
        case .writeError: return .stoppedByWriteError
        default: return .stoppedEarly
        }
    }

    public var durationNanoseconds: UInt64? {
        guard let firstTime, let lastTime else { return nil }
        return lastTime - firstTime
    }

    public func count(of kind: TraceRecordKind) -> Int { countsByKind[kind] ?? 0 }
}

/// How a recording ended, from its end record.
public enum RecordingEnding: String, Sendable {
    /// An end record, and every record was written.
    case complete
    /// The recorder stopped writing because of an error (a full disk, an I/O error, the file size limit);
    /// its end record says where and why. What crossed after that is not in the trace.
    case stoppedByWriteError = "stopped-by-write-error"
    /// A stop reason of a later version: the trace is intact but ended early for a reason this build does not know.
    case stoppedEarly = "stopped-early"
    /// No end record: the recorder was killed (or crashed), or is still recording.
    case noEndRecord = "no-end-record"
}

enum TraceValidator {
    static func validate(_ data: UnsafeRawBufferPointer, path: String, version: TraceFormatVersion) -> CheckReport {
        var report = CheckReport(path: path, fileSize: data.count, version: version)
        var channels = Set<UInt32>()
        var classification = ClassificationTally()
        var identities = IdentityTally()
        var scanner = RecordScanner(data: data)
        var sawGoodRecord = false

        func damage(_ offset: Int, _ reason: CorruptionReason, resumedAt: Int?) {
            report.corruptions.append(TraceCorruption(offset: offset, reason: reason, resumedAt: resumedAt, recordsRecovered: 0))
        }

        while let event = scanner.next() {
            switch event {
            case .corruption(let offset, let reason, let resumeAt):
                damage(offset, reason, resumedAt: resumeAt)
            case .truncatedTail(let offset, let length):
                report.truncatedTail = TruncatedTail(offset: offset, length: length)
            case .record(let frame):
                guard let kind = TraceRecordKind(rawValue: frame.kind) else {
                    report.unknownKinds.append(UnknownKindRecord(offset: frame.offset, kind: frame.kind))
                    continue
                }
                let record: TraceRecord
                do {
                    guard let decoded = try RecordBodyDecoder.decode(kind: frame.kind, body: TraceReader.body(of: frame, in: data))
                    else { continue }
                    record = decoded
                } catch {
                    damage(frame.offset, .undecodableBody(kind: kind, detail: error.message), resumedAt: frame.endOffset)
                    continue
                }
                if !sawGoodRecord {
                    sawGoodRecord = true
                    if case .header(let header) = record {
                        report.header = header
                    } else {
                        damage(frame.offset, .missingHeader(firstKind: frame.kind), resumedAt: frame.offset)
                    }
                } else if record.kind == .header {
                    damage(frame.offset, .misplacedHeader, resumedAt: frame.endOffset)
                    continue
                }
                if !report.corruptions.isEmpty { report.corruptions[report.corruptions.count - 1].recordsRecovered += 1 }
                tally(record, into: &report, channels: &channels)
                classification.add(record)
                identities.add(record, offset: frame.offset)
            }
        }
        report.channelCount = channels.count
        classification.finish(into: &report)
        identities.finish(into: &report)
        return report
    }

    /// Channels by protocol and what the not-LibIPC ones relayed (their closed record may come first in a
    /// damaged file, so both are kept until the end).
    private struct ClassificationTally {
        var protocols: [UInt32: ChannelProtocol] = [:]
        var traffic: [UInt32: ChannelTraffic] = [:]

        mutating func add(_ record: TraceRecord) {
            switch record {
            case .channelClassified(let r): protocols[r.channel] = r.channelProtocol
            case .channelClosed(let r): if let relayed = r.traffic { traffic[r.channel] = relayed }
            default: break
            }
        }

        func finish(into report: inout CheckReport) {
            for (channel, channelProtocol) in protocols {
                if channelProtocol == .undetermined { report.undeterminedChannelCount += 1 }
                guard channelProtocol == .notLibIPC else { continue }
                report.notLibIPCChannelCount += 1
                report.notLibIPCBytes &+= traffic[channel]?.bytes ?? 0
                report.notLibIPCFDs &+= traffic[channel]?.fds ?? 0
            }
        }
    }

    private static func tally(_ record: TraceRecord, into report: inout CheckReport, channels: inout Set<UInt32>) {
        report.recordCount += 1
        report.countsByKind[record.kind, default: 0] += 1
        if record.kind != .header {
            report.firstTime = min(report.firstTime ?? .max, record.time)
            report.lastTime = max(report.lastTime ?? 0, record.time)
        }
        switch record {
        case .channelOpened(let r): channels.insert(r.channel)
        case .payloadFrame(let r):
            report.frameCount += 1
            report.payloadBytes &+= UInt64(r.header.payloadSize)
            report.capturedPayloadBytes &+= UInt64(r.capturedPayload.count)
            report.fdCount &+= UInt64(r.fds.count)
            report.fdsClaimed &+= UInt64(r.header.fdCount)
        case .lateFDs(let r): report.fdCount &+= UInt64(r.fds.count)
        case .acknowledgement: report.acknowledgementCount += 1
        case .unknownFrame: report.unknownFrameCount += 1
        case .violation(let r):
            if r.severity == .warning { report.warningCount += 1 } else { report.violationCount += 1 }
        case .captureLoss: report.captureLossCount += 1
        case .end(let r): report.end = r
        default: break
        }
    }
}
