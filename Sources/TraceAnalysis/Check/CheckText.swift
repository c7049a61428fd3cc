import Glibc
import TraceFormat

/// What `ipcscope check` prints for one trace: a labelled summary, its damage, and a verdict (the last
/// line is "ok", "ok, but INCOMPLETE: …", "FILE SHRANK …" or "CORRUPT: …").
public enum CheckText {
    public static func render(_ r: CheckReport) -> String {
        var out = "\(r.path)\n"
        func line(_ label: String, _ value: String) {
            out += "  " + label.padded(to: 13) + value + "\n"
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

    /// "12.345 s" (milliseconds, truncated).
    public static func seconds(_ nanoseconds: UInt64) -> String {
        let milliseconds = nanoseconds / 1_000_000
        let fraction = String(milliseconds % 1000)
        return "\(milliseconds / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction) s"
    }

    /// "2026-12-03 21:48:06.123 UTC" (gmtime_r: a computation, no time zone file is read).
    public static func utcTimestamp(_ nanoseconds: Int64) -> String {
        // Floor division: a time before 1970 (only a damaged or forged header has one) is still a time.
        var whole = nanoseconds / 1_000_000_000
        var fraction = nanoseconds % 1_000_000_000
        if fraction < 0 { whole -= 1; fraction += 1_000_000_000 }
        var seconds = time_t(whole)
        var parts = tm()
        guard gmtime_r(&seconds, &parts) != nil else { return "\(nanoseconds) ns" }
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let millis = String(fraction / 1_000_000)
        let millisText = String(repeating: "0", count: 3 - millis.count) + millis
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday)) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(millisText) UTC"
    }

    /// The argument as a POSIX shell would need it: plain words as they are, anything else in single quotes.
    public static func shellQuoted(_ argument: String) -> String {
        let plain = argument.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:,+@%".contains($0) }
        if plain && !argument.isEmpty { return argument }
        var quoted = "'"
        for scalar in argument.unicodeScalars {
            if scalar == "'" { quoted += "'\\''" } else { quoted.unicodeScalars.append(scalar) }
        }
        return quoted + "'"
    }
}

extension String {
    /// Padded with spaces to `width` characters (never cut: labels are shorter).
    fileprivate func padded(to width: Int) -> String {
        let length = count
        return length >= width ? self : self + String(repeating: " ", count: width - length)
    }
}
