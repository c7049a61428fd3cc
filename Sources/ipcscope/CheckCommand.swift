import ArgumentParser
import Foundation
import TraceFormat

/// `ipcscope check FILE…`: verifies checksums and structure of trace files and summarises them.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Verify trace files: checksums, record structure, header; print a short summary.",
        discussion: """
            Exit status 0 when every file is intact (a truncated tail, left when a recorder is killed, \
            is reported but is not damage; so is a trace whose recorder stopped writing because of a write \
            error — its end record says where and why); 1 when a file is damaged, unreadable or not a trace.

            Totals are worded as `record`'s closing line words them (docs/trace-format.md §5.9): payload \
            frames and acks apart, bytes with their 12-byte headers, the fds that arrived, violations \
            (rules broken) apart from near-limit warnings (a value over 80 % of its limit, not over it).
            """
    )

    @Argument(help: "Trace files to check.")
    var files: [String]

    @Flag(help: "Print a machine-readable JSON array with one report per file.")
    var json = false

    func run() throws {
        var allGood = true
        var jsonReports: [CheckJSON] = []
        for (number, path) in files.enumerated() {
            do {
                let report = try TraceReader(path: path).validate()
                allGood = allGood && report.isIntact
                if json {
                    jsonReports.append(CheckJSON(report))
                } else {
                    if number > 0 { print("") }
                    print(CheckText.render(report), terminator: "")
                }
            } catch {
                allGood = false
                if json {
                    jsonReports.append(CheckJSON(path: path, error: "\(error)"))
                } else {
                    printToStandardError("ipcscope check: \(error)")
                }
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let data = try encoder.encode(jsonReports)
            print(String(decoding: data, as: UTF8.self))
        }
        if !allGood { throw ExitCode(1) }
    }
}

private func printToStandardError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

// MARK: - text report

enum CheckText {
    static func render(_ r: CheckReport) -> String {
        var out = "\(r.path)\n"
        func line(_ label: String, _ value: String) {
            out += "  " + label.padding(toLength: 13, withPad: " ", startingAt: 0) + value + "\n"
        }
        line("format", "\(r.version) (\(r.fileSize) bytes)")
        if let h = r.header {
            var created = utcTimestamp(Int64(truncatingIfNeeded: h.createdWallClockNanoseconds))
            if !h.hostName.isEmpty { created += " on \(h.hostName)" }
            if !h.ipcscopeVersion.isEmpty { created += ", ipcscope \(h.ipcscopeVersion)" }
            line("created", created)
            line("command line", h.commandLine.map(shellQuoted).joined(separator: " "))
            line("snap length", "\(h.snapLength) bytes per frame")
            if !h.schemas.isEmpty { line("schemas", "\(h.schemas.count) embedded") }
        } else {
            line("header", "none (no complete header record)")
        }
        let kinds = TraceRecordKind.allCases.compactMap { kind in
            r.count(of: kind) > 0 ? "\(kind) \(r.count(of: kind))" : nil
        }
        var records = "\(r.recordCount)"
        if !kinds.isEmpty { records += ": " + kinds.joined(separator: ", ") }
        line("records", records)
        if !r.unknownKinds.isEmpty {
            let kindsSeen = Set(r.unknownKinds.map(\.kind)).sorted().map(String.init).joined(separator: ", ")
            line("unknown", "\(r.unknownKinds.count) records of unknown kinds (\(kindsSeen)) skipped")
        }
        var channels = "\(r.channelCount)"
        var protocols: [String] = []
        if r.notLibIPCChannelCount > 0 {
            protocols.append("\(r.notLibIPCChannelCount) not LibIPC: \(r.notLibIPCBytes) bytes, \(r.notLibIPCFDs) fds relayed unparsed")
        }
        if r.undeterminedChannelCount > 0 { protocols.append("\(r.undeterminedChannelCount) undetermined") }
        if !protocols.isEmpty { channels += " (" + protocols.joined(separator: "; ") + ")" }
        line("channels", channels)
        line("frames", TotalsWording.frames(
                payload: UInt64(r.frameCount), acknowledgements: UInt64(r.acknowledgementCount),
                unknownType: UInt64(r.unknownFrameCount))
             + " (\(r.payloadBytes) payload bytes, \(r.capturedPayloadBytes) captured, \(r.fdCount) fds)")
        if r.violationCount > 0 || r.warningCount > 0 {
            line("findings", TotalsWording.findings(violations: UInt64(r.violationCount), warnings: UInt64(r.warningCount)))
        }
        if r.transferCount > 0 { line("transfers", "\(r.transferCount) transports handed over") }
        if r.processCount > 0 { line("processes", "\(r.processCount), \(r.count(of: .endpoint)) endpoint records") }
        if r.identityProblemCount > 0 {
            line("identity", "\(r.identityProblemCount) endpoint records name what the trace does not describe before them")
            for problem in r.identityProblems.prefix(5) { line("", "offset \(problem.offset): \(problem.description)") }
        }
        if r.captureLossCount > 0 { line("capture loss", "\(r.captureLossCount) records") }
        if let duration = r.durationNanoseconds { line("duration", seconds(duration)) }
        if let end = r.end {
            if end.stopReason == .writeError {
                let failure = TraceWriteFailure(
                    path: r.path, operation: end.failedOperation, errno: end.errorNumber, offset: end.stopOffset)
                line("end", "STOPPED BY A WRITE ERROR at offset \(end.stopOffset): \(failure.reason)")
                line("", "the recorder saw \(end.summary.frames) frames in all; what crossed after the error is not in the trace")
            } else if end.stopReason == .complete {
                line("end", end.cleanStop ? "clean stop" : "stopped (not clean)")
                line("", "the recorder counted " + TotalsWording.recorded(end.summary))
            } else {
                line("end", "stopped (\(end.stopReason))")
            }
        } else {
            line("end", "no end record (the recording did not stop cleanly, or is still going)")
        }
        for damage in r.corruptions {
            out += "  corrupt record at offset \(damage.offset): \(damage.reason)"
            if let resumed = damage.resumedAt {
                out += " — resumed at offset \(resumed), \(damage.recordsRecovered) records recovered\n"
            } else {
                out += " — nothing readable after it\n"
            }
        }
        if let tail = r.truncatedTail {
            out += "  truncated tail at offset \(tail.offset): \(tail.length) bytes of an incomplete record"
                + " — the recorder was probably killed"
                + (r.isIntact ? "; all earlier records are intact\n" : "\n")
        }
        if r.shrankWhileReading {
            out += "  FILE SHRANK while being read: another process truncated or rewrote it, and what was past"
                + " its new end read as zeros; check it again\n"
        } else if r.isIntact {
            switch r.ending {
            case .stoppedByWriteError: out += "  ok, but INCOMPLETE: the recorder stopped writing because of an error\n"
            case .stoppedEarly: out += "  ok, but INCOMPLETE: the recorder stopped writing early\n"
            case .complete, .noEndRecord: out += "  ok\n"
            }
        } else {
            let recovered = r.corruptions.reduce(0) { $0 + $1.recordsRecovered }
            out += "  CORRUPT: \(r.corruptions.count) damaged region(s); \(recovered) records recovered after them\n"
        }
        return out
    }

    static func seconds(_ nanoseconds: UInt64) -> String {
        let milliseconds = nanoseconds / 1_000_000
        let fraction = String(milliseconds % 1000)
        return "\(milliseconds / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction) s"
    }

    static func utcTimestamp(_ nanoseconds: Int64) -> String {
        var seconds = time_t(nanoseconds / 1_000_000_000)
        var parts = tm()
        guard gmtime_r(&seconds, &parts) != nil else { return "\(nanoseconds) ns" }
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let millis = Int((nanoseconds % 1_000_000_000) / 1_000_000)
        let millisText = String(repeating: "0", count: 3 - String(millis).count) + String(millis)
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday)) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(millisText) UTC"
    }

    static func shellQuoted(_ argument: String) -> String {
        let plain = argument.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:,+@%".contains($0) }
        if plain && !argument.isEmpty { return argument }
        return "'" + argument.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

// MARK: - JSON report

struct CheckJSON: Encodable {
    struct Header: Encodable {
        var created: String
        var createdWallClockNanoseconds: UInt64
        var monotonicAnchorNanoseconds: UInt64
        var hostName: String
        var ipcscopeVersion: String
        var commandLine: [String]
        var snapLength: UInt32
        var limits: [String: UInt64]
        var schemas: [String]
    }

    struct Offset: Encodable {
        var offset: Int
        var length: Int
    }

    struct Corruption: Encodable {
        var offset: Int
        var reason: String
        var resumedAt: Int?
        var recordsRecovered: Int
    }

    struct Unknown: Encodable {
        var offset: Int
        var kind: UInt8
    }

    struct End: Encodable {
        var cleanStop: Bool
        /// As the end record says (docs/trace-format.md §5.9): payload frames, their bytes with headers,
        /// fds that arrived, violations of severity `violation`; the (1.1) counts are absent before 1.1.
        var channels, frames, bytes, fds, violations: UInt64
        var acknowledgementFrames, unknownTypeFrames, warnings: UInt64?
        /// "complete" or "write-error" (1.1; "complete" for older traces).
        var stopReason: String
        /// For a write error: what failed, its errno and name, and the offset where writing stopped.
        var failedOperation: String?
        var errno: Int32?
        var errnoName: String?
        var stopOffset: UInt64?
    }

    var path: String
    var ok: Bool
    var error: String?
    var fileSize: Int?
    var formatVersion: String?
    var header: Header?
    var records: Int?
    var recordsByKind: [String: Int]?
    var unknownKinds: [Unknown]?
    var channels: Int?
    /// Channels relayed but not parsed because they are not LibIPC, and what they carried.
    var notLibIPCChannels: Int?
    var notLibIPCBytes: UInt64?
    var notLibIPCFDs: UInt64?
    /// Channels that ended before their traffic showed what they carry.
    var undeterminedChannels: Int?
    /// Payload-frame records; acknowledgement and unknown-frame records.
    var frames: Int?
    var acknowledgementFrames: Int?
    var unknownTypeFrames: Int?
    var payloadBytes: UInt64?
    var capturedPayloadBytes: UInt64?
    /// Fds listed as attached (payload-frame and late-fds records), and fds the headers claimed.
    var fds: UInt64?
    var fdsClaimed: UInt64?
    /// Violation records of severity `violation`, and of severity `warning` (near a limit, not over it).
    var violations: Int?
    var warnings: Int?
    var captureLosses: Int?
    /// (1.1) Transports handed over, distinct processes, and endpoint records naming what the trace does
    /// not describe before them.
    var transfers: Int?
    var processes: Int?
    var identityProblems: Int?
    var firstTime: UInt64?
    var lastTime: UInt64?
    var durationNanoseconds: UInt64?
    var end: End?
    /// "complete", "stopped-by-write-error", "stopped-early" (a later version's reason) or "no-end-record"
    /// (killed, or still recording).
    var recording: String?
    var truncatedTail: Offset?
    var corruptions: [Corruption]?
    /// Present (true) only when another process truncated the file while it was checked.
    var shrankWhileReading: Bool?

    init(path: String, error: String) {
        self.path = path
        ok = false
        self.error = error
    }

    init(_ r: CheckReport) {
        path = r.path
        ok = r.isIntact
        fileSize = r.fileSize
        formatVersion = r.version.description
        header = r.header.map { h in
            Header(
                created: CheckText.utcTimestamp(Int64(truncatingIfNeeded: h.createdWallClockNanoseconds)),
                createdWallClockNanoseconds: h.createdWallClockNanoseconds,
                monotonicAnchorNanoseconds: h.monotonicAnchorNanoseconds, hostName: h.hostName,
                ipcscopeVersion: h.ipcscopeVersion, commandLine: h.commandLine, snapLength: h.snapLength,
                limits: Dictionary(h.limits.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last }),
                schemas: h.schemas.map(\.path))
        }
        records = r.recordCount
        recordsByKind = Dictionary(uniqueKeysWithValues: r.countsByKind.map { ("\($0.key)", $0.value) })
        unknownKinds = r.unknownKinds.map { Unknown(offset: $0.offset, kind: $0.kind) }
        channels = r.channelCount
        notLibIPCChannels = r.notLibIPCChannelCount
        notLibIPCBytes = r.notLibIPCBytes
        notLibIPCFDs = r.notLibIPCFDs
        undeterminedChannels = r.undeterminedChannelCount
        frames = r.frameCount
        acknowledgementFrames = r.acknowledgementCount
        unknownTypeFrames = r.unknownFrameCount
        payloadBytes = r.payloadBytes
        capturedPayloadBytes = r.capturedPayloadBytes
        fds = r.fdCount
        fdsClaimed = r.fdsClaimed
        violations = r.violationCount
        warnings = r.warningCount
        captureLosses = r.captureLossCount
        transfers = r.transferCount
        processes = r.processCount
        identityProblems = r.identityProblemCount
        firstTime = r.firstTime
        lastTime = r.lastTime
        durationNanoseconds = r.durationNanoseconds
        end = r.end.map {
            let failed = $0.stopReason == .writeError
            return End(
                cleanStop: $0.cleanStop, channels: $0.summary.channels, frames: $0.summary.frames,
                bytes: $0.summary.bytes, fds: $0.summary.fds, violations: $0.summary.violations,
                acknowledgementFrames: $0.summary.acknowledgementFrames,
                unknownTypeFrames: $0.summary.unknownTypeFrames, warnings: $0.summary.warnings,
                stopReason: $0.stopReason.description, failedOperation: failed ? $0.failedOperation : nil,
                errno: failed ? $0.errorNumber : nil, errnoName: failed ? ErrnoText.name($0.errorNumber) : nil,
                stopOffset: failed ? $0.stopOffset : nil)
        }
        recording = r.ending.rawValue
        truncatedTail = r.truncatedTail.map { Offset(offset: $0.offset, length: $0.length) }
        shrankWhileReading = r.shrankWhileReading ? true : nil
        corruptions = r.corruptions.map {
            Corruption(offset: $0.offset, reason: $0.reason.description, resumedAt: $0.resumedAt,
                       recordsRecovered: $0.recordsRecovered)
        }
    }
}
