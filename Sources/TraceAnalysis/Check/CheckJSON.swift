import SystemSupport
import TraceFormat

/// What `ipcscope check --json` prints: an array with one report per file (docs/trace-format.md, "Checking
/// a trace"). Field names and their meaning are the contract; absent facts are absent members.
public enum CheckJSON {
    /// One file's report, or the error that kept it from being read.
    public enum Entry: Sendable {
        case report(CheckReport)
        case unreadable(path: String, error: String)
    }

    /// The whole output, without the final newline.
    public static func render(_ entries: [Entry]) -> String {
        PrettyJSON.array(entries.map { entry in
            switch entry {
            case .report(let report): value(of: report)
            case .unreadable(let path, let error): .object([("path", .string(path)), ("ok", .bool(false)), ("error", .string(error))])
            }
        }).rendered()
    }

    public static func value(of r: CheckReport) -> PrettyJSON {
        var members: [(String, PrettyJSON)] = [
            ("path", .string(r.path)),
            ("ok", .bool(r.isIntact)),
            ("fileSize", int(r.fileSize)),
            ("formatVersion", .string(r.version.description)),
        ]
        if let h = r.header {
            // Repeated limit names: the last one counts.
            var limits: [String: UInt64] = [:]
            for limit in h.limits { limits[limit.name] = limit.value }
            members.append(("header", .object([
                ("created", .string(CheckText.utcTimestamp(Int64(truncatingIfNeeded: h.createdWallClockNanoseconds)))),
                ("createdWallClockNanoseconds", .uint(h.createdWallClockNanoseconds)),
                ("monotonicAnchorNanoseconds", .uint(h.monotonicAnchorNanoseconds)),
                ("hostName", .string(h.hostName)),
                ("ipcscopeVersion", .string(h.ipcscopeVersion)),
                ("commandLine", .array(h.commandLine.map(PrettyJSON.string))),
                ("snapLength", .uint(UInt64(h.snapLength))),
                ("limits", .object(limits.map { ($0.key, .uint($0.value)) })),
                ("schemas", .array(h.schemas.map { .string($0.path) })),
            ])))
        }
        members += [
            ("records", int(r.recordCount)),
            ("recordsByKind", .object(r.countsByKind.map { ("\($0.key)", int($0.value)) })),
            ("unknownKinds", .array(r.unknownKinds.map {
                .object([("offset", int($0.offset)), ("kind", .uint(UInt64($0.kind)))])
            })),
            ("channels", int(r.channelCount)),
            ("notLibIPCChannels", int(r.notLibIPCChannelCount)),
            ("notLibIPCBytes", .uint(r.notLibIPCBytes)),
            ("notLibIPCFDs", .uint(r.notLibIPCFDs)),
            ("undeterminedChannels", int(r.undeterminedChannelCount)),
            ("frames", int(r.frameCount)),
            ("acknowledgementFrames", int(r.acknowledgementCount)),
            ("unknownTypeFrames", int(r.unknownFrameCount)),
            ("payloadBytes", .uint(r.payloadBytes)),
            ("capturedPayloadBytes", .uint(r.capturedPayloadBytes)),
            ("fds", .uint(r.fdCount)),
            ("fdsClaimed", .uint(r.fdsClaimed)),
            ("violations", int(r.violationCount)),
            ("warnings", int(r.warningCount)),
            ("captureLosses", int(r.captureLossCount)),
            ("transfers", int(r.transferCount)),
            ("processes", int(r.processCount)),
            ("identityProblems", int(r.identityProblemCount)),
        ]
        if let first = r.firstTime { members.append(("firstTime", .uint(first))) }
        if let last = r.lastTime { members.append(("lastTime", .uint(last))) }
        if let duration = r.durationNanoseconds { members.append(("durationNanoseconds", .uint(duration))) }
        if let end = r.end { members.append(("end", value(of: end))) }
        members.append(("recording", .string(r.ending.rawValue)))
        if let tail = r.truncatedTail {
            members.append(("truncatedTail", .object([("offset", int(tail.offset)), ("length", int(tail.length))])))
        }
        members.append(("corruptions", .array(r.corruptions.map { damage in
            var fields: [(String, PrettyJSON)] = [
                ("offset", int(damage.offset)), ("reason", .string(damage.reason.description)),
                ("recordsRecovered", int(damage.recordsRecovered)),
            ]
            if let resumed = damage.resumedAt { fields.append(("resumedAt", int(resumed))) }
            return .object(fields)
        })))
        if r.shrankWhileReading { members.append(("shrankWhileReading", .bool(true))) }
        return .object(members)
    }

    /// The end record's totals (docs/trace-format.md §5.9): payload frames, their bytes with headers, fds
    /// that arrived, violations of severity `violation`; the 1.1 counts are absent before 1.1. For a write
    /// error, what failed, its errno and name, and the offset where writing stopped.
    static func value(of end: EndRecord) -> PrettyJSON {
        let summary = end.summary
        var members: [(String, PrettyJSON)] = [
            ("cleanStop", .bool(end.cleanStop)),
            ("channels", .uint(summary.channels)), ("frames", .uint(summary.frames)), ("bytes", .uint(summary.bytes)),
            ("fds", .uint(summary.fds)), ("violations", .uint(summary.violations)),
            ("stopReason", .string(end.stopReason.description)),
        ]
        if let count = summary.acknowledgementFrames { members.append(("acknowledgementFrames", .uint(count))) }
        if let count = summary.unknownTypeFrames { members.append(("unknownTypeFrames", .uint(count))) }
        if let count = summary.warnings { members.append(("warnings", .uint(count))) }
        if end.stopReason == .writeError {
            members += [
                ("failedOperation", .string(end.failedOperation)),
                ("errno", .int(Int64(end.errorNumber))),
                ("errnoName", .string(ErrnoText.name(end.errorNumber))),
                ("stopOffset", .uint(end.stopOffset)),
            ]
        }
        return .object(members)
    }

    private static func int(_ value: Int) -> PrettyJSON { .int(Int64(value)) }
}
