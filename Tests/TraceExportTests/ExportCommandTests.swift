import Foundation
import Glibc
import TestSupport
import Testing
import TraceFormat

/// `ipcscope export` run as a user runs it, on the demo traces in Traces/: counts against a hand count over
/// TraceReader records and against `ipcscope check --json`, every output validated against
/// docs/export.schema.json (python3's jsonschema, Draft 2020-12), Chrome flows paired, and -o never leaving
/// a partial or clobbered file.
@Suite struct ExportCommandTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardizedFileURL
    static let traces = ["demo.ipctrace", "demo-misbehave.ipctrace"].map { root.appendingPathComponent("Traces/\($0)").path }
    static let schema = root.appendingPathComponent("docs/export.schema.json").path

    func ipcscope() throws -> String {
        guard let path = BuiltProducts.executable("ipcscope") else { throw BuiltProducts.Missing(what: "ipcscope") }
        return path
    }

    func export(_ trace: String, _ arguments: [String]) throws -> CommandResult {
        try CommandRunner.run(try ipcscope(), ["export", trace] + arguments)
    }

    /// Records of the trace other than the header, by kind, read with TraceReader (not the index).
    func handCount(_ trace: String) throws -> [TraceRecordKind: Int] {
        var counts: [TraceRecordKind: Int] = [:]
        for entry in try TraceReader(path: trace).records() where entry.record.kind != .header {
            counts[entry.record.kind, default: 0] += 1
        }
        return counts
    }

    func checkJSON(_ trace: String) throws -> [String: Any] {
        let run = try CommandRunner.run(try ipcscope(), ["check", "--json", trace])
        let array = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]]
        return try #require(array?.first)
    }

    /// The first python3 that can import jsonschema: the one on PATH (which may be a pyenv build with the
    /// module from pip) or the system's (where the Debian package puts it).
    static func pythonWithJSONSchema() throws -> String? {
        for candidate in ["/usr/bin/env", "/usr/bin/python3"] where FileManager.default.isExecutableFile(atPath: candidate) {
            let arguments = (candidate == "/usr/bin/env" ? ["python3"] : []) + ["-c", "import jsonschema"]
            if try CommandRunner.run(candidate, arguments).status == 0 {
                return candidate == "/usr/bin/env" ? try pathPython() : candidate
            }
        }
        return nil
    }

    /// python3 as PATH finds it.
    private static func pathPython() throws -> String? {
        let found = try CommandRunner.run("/usr/bin/env", ["sh", "-c", "command -v python3"])
        let path = found.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return found.status == 0 && !path.isEmpty ? path : nil
    }

    /// Validates `text` (a JSON document, or JSON Lines when `lines`) against the schema's root or its event.
    func validate(_ text: String, lines: Bool) throws {
        let file = NSTemporaryDirectory() + "ipcscope-export-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).json"
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        defer { unlink(file) }
        let script = """
            import json, sys, jsonschema
            root = json.load(open(sys.argv[1]))
            schema = root if sys.argv[3] == "document" else {"$schema": root["$schema"], "$defs": root["$defs"], "$ref": "#/$defs/event"}
            validator = jsonschema.Draft202012Validator(schema)
            text = open(sys.argv[2], encoding="utf-8").read()
            values = [json.loads(l) for l in text.splitlines()] if sys.argv[3] == "event" else [json.loads(text)]
            for number, value in enumerate(values):
                for error in validator.iter_errors(value):
                    print(f"value {number}: {error.json_path}: {error.message}"); sys.exit(1)
            print(f"{len(values)} valid")
            """
        let python = try #require(try Self.pythonWithJSONSchema(),
                                  "no python3 with the jsonschema module (CI installs python3-jsonschema, .ci/apt-packages)")
        let run = try CommandRunner.run(python, ["-c", script, Self.schema, file, lines ? "event" : "document"])
        #expect(run.status == 0, "schema validation: \(run.stdout)\(run.stderr)")
    }

    @Test(arguments: traces) func jsonLinesHaveOneValidLinePerEvent(trace: String) throws {
        let run = try export(trace, ["--format", "jsonl", "--payload"])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(run.stdout.hasSuffix("\n"))
        let counts = try handCount(trace)
        #expect(lines.count == counts.values.reduce(0, +))
        var previous = -1.0
        var kinds: [String: Int] = [:]
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            let event = try #require(object)
            let t = try #require(event["t"] as? Double)
            #expect(t >= previous, "events in time order")
            previous = t
            kinds[event["kind"] as? String ?? "?", default: 0] += 1
        }
        for (kind, count) in counts { #expect(kinds[kind.description] == count, "\(kind)") }
        try validate(run.stdout, lines: true)

        let check = try checkJSON(trace)
        #expect(kinds["payload-frame"] ?? 0 == check["frames"] as? Int)
        #expect(kinds["violation"] ?? 0 == (check["violations"] as? Int ?? -1) + (check["warnings"] as? Int ?? -1))
    }

    @Test(arguments: traces) func filterSelectsWhatAHandCountSelects(trace: String) throws {
        let counts = try handCount(trace)
        for (filter, kinds) in [("kind == frame", [TraceRecordKind.payloadFrame]), ("kind in {violation, eof}", [.violation, .eof])] {
            let run = try export(trace, ["--format", "jsonl", "-f", filter])
            #expect(run.status == 0, "\(run.stderr)")
            let expected = kinds.map { counts[$0] ?? 0 }.reduce(0, +)
            #expect(run.stdout.split(separator: "\n").count == expected, "\(filter)")
        }
        let bad = try export(trace, ["--format", "jsonl", "-f", "kind == frme"])
        #expect(bad.status == 64, "a filter that does not compile is a usage error, as in show")
        #expect(bad.stdout.isEmpty)
        #expect(bad.stderr.hasPrefix("ipcscope export: "), "\(bad.stderr)")
        #expect(bad.stderr.contains("column 9"), "\(bad.stderr)")
    }

    @Test(arguments: traces) func jsonDocumentParsesAndValidates(trace: String) throws {
        let run = try export(trace, ["--format", "json"])
        #expect(run.status == 0, "\(run.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let events = try #require(document["events"] as? [[String: Any]])
        #expect(events.count == (try handCount(trace)).values.reduce(0, +))
        let metadata = try #require(document["metadata"] as? [String: Any])
        let check = try checkJSON(trace)
        let header = try #require(check["header"] as? [String: Any])
        #expect(metadata["host"] as? String == header["hostName"] as? String)
        #expect(metadata["snap_length"] as? Int == header["snapLength"] as? Int)
        #expect((metadata["limits"] as? [String: Int])?.count == (header["limits"] as? [String: Any])?.count)
        try validate(run.stdout, lines: false)
    }

    @Test(arguments: traces) func chromeTraceFlowsAndSlicesAreWellFormed(trace: String) throws {
        let run = try export(trace, ["--format", "chrome"])
        #expect(run.status == 0, "\(run.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let events = try #require(document["traceEvents"] as? [[String: Any]])
        var starts: [Int: Double] = [:], ends: [Int: Double] = [:]
        var slices = 0, violations = 0, processNames = 0
        for event in events {
            let phase = event["ph"] as? String
            #expect(event["pid"] is Int)
            switch phase {
            case "s": starts[try #require(event["id"] as? Int)] = event["ts"] as? Double
            case "f": ends[try #require(event["id"] as? Int)] = event["ts"] as? Double
            case "X":
                slices += 1
                #expect((event["dur"] as? Double ?? -1) >= 0)
            case "i": if event["cat"] as? String == "violation" {
                violations += 1
                #expect((event["args"] as? [String: Any])?["limit"] is Int)
            }
            case "M": if event["name"] as? String == "process_name" { processNames += 1 }
            default: break
            }
        }
        #expect(Set(starts.keys) == Set(ends.keys))
        for (id, start) in starts { #expect(ends[id]! >= start, "flow \(id) ends before it starts") }
        let check = try checkJSON(trace)
        #expect(starts.count == check["frames"] as? Int)
        #expect(violations == (check["violations"] as? Int ?? -1) + (check["warnings"] as? Int ?? -1))
        #expect(processNames > 0)
        #expect(slices > 0, "the demo makes sync calls")
    }

    @Test func outputFileIsWholeOrAbsent() throws {
        let trace = Self.traces[0]
        let directory = NSTemporaryDirectory() + "ipcscope-export-out-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        #expect(mkdir(directory, 0o700) == 0)
        defer { _ = try? FileManager.default.removeItem(atPath: directory) }

        // Into a directory that does not exist: an error, nothing created.
        let missing = directory + "/no/such/dir/out.jsonl"
        let failed = try export(trace, ["--format", "jsonl", "-o", missing])
        #expect(failed.status != 0)
        #expect(failed.stderr.hasPrefix("ipcscope export: "), "\(failed.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)

        // A good export: the file, mode 0600, and no temporary file beside it.
        let out = directory + "/out.jsonl"
        let good = try export(trace, ["--format", "jsonl", "-o", out])
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.stdout.isEmpty)
        var info = stat()
        #expect(stat(out, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["out.jsonl"])
        let stdoutRun = try export(trace, ["--format", "jsonl", "-o", "-"])
        #expect(try String(contentsOfFile: out, encoding: .utf8) == stdoutRun.stdout)

        // Not a regular file: written directly, not replaced.
        let device = try export(trace, ["--format", "jsonl", "-o", "/dev/null"])
        #expect(device.status == 0, "\(device.stderr)")
        #expect(stat("/dev/null", &info) == 0 && info.st_mode & S_IFMT == S_IFCHR)

        // A failing export (bad filter) leaves an existing OUT as it was.
        try Data("keep me\n".utf8).write(to: URL(fileURLWithPath: out))
        let bad = try export(trace, ["--format", "json", "-o", out, "-f", "size >"])
        #expect(bad.status != 0)
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "keep me\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["out.jsonl"])
        // An unreadable trace too.
        let unreadable = try export(directory + "/absent.ipctrace", ["--format", "json", "-o", out])
        #expect(unreadable.status != 0)
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "keep me\n")
    }

    /// A flipped byte mid-trace: what is readable is exported (every line still parses), the damage is
    /// reported and the exit status is 65 (EX_DATAERR); garbage is refused without a crash.
    @Test func damagedTraceIsReportedAndTheRestExported() throws {
        let original = try Data(contentsOf: URL(fileURLWithPath: Self.traces[0]))
        var damaged = original
        damaged[damaged.count / 2] ^= 0xFF
        let directory = NSTemporaryDirectory() + "ipcscope-export-damage-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        #expect(mkdir(directory, 0o700) == 0)
        defer { _ = try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/damaged.ipctrace"
        try damaged.write(to: URL(fileURLWithPath: path))
        let run = try export(path, ["--format", "jsonl"])
        #expect(run.status == 65)  // EX_DATAERR
        #expect(run.stderr.hasPrefix("ipcscope export: ") && run.stderr.contains("damaged"), "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n")
        let total = try handCount(Self.traces[0]).values.reduce(0, +)
        #expect(lines.count > 0 && lines.count < total)
        for line in lines { #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil) }

        let garbage = directory + "/garbage.ipctrace"
        try Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }).write(to: URL(fileURLWithPath: garbage))
        let refused = try export(garbage, ["--format", "chrome"])
        #expect(refused.status == 65)
        #expect(refused.stderr.hasPrefix("ipcscope export: "), "\(refused.stderr)")
    }

    /// `--payload` carries each frame's captured bytes exactly (base64), keyed by channel, direction and
    /// frame index against TraceReader; named messages and paired latencies come through.
    @Test func payloadsRoundTripAndMessagesAreNamed() throws {
        let trace = Self.traces[0]
        var expected: [String: [UInt8]] = [:]
        for entry in try TraceReader(path: trace).records() {
            guard case .payloadFrame(let frame) = entry.record else { continue }
            expected["\(frame.channel) \(frame.direction == .aToB ? "a>b" : "b>a") \(frame.frameIndex)"] = frame.capturedPayload
        }
        let run = try export(trace, ["--format", "jsonl", "--payload", "-f", "kind == frame"])
        #expect(run.status == 0, "\(run.stderr)")
        var seen = 0, paired = 0
        var namedMagics = Set<Int>(), unnamedMagics = Set<Int>()
        for line in run.stdout.split(separator: "\n") {
            let event = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let key = "\(event["channel"] as? Int ?? -1) \(event["dir"] as? String ?? "?") \(event["frame_index"] as? Int ?? -1)"
            let payload = try #require(Data(base64Encoded: event["payload"] as? String ?? "!"))
            #expect(expected[key] == [UInt8](payload), "\(key)")
            seen += 1
            if event["message"] is String { namedMagics.insert(event["magic"] as? Int ?? -1) } else { unnamedMagics.insert(event["magic"] as? Int ?? -1) }
            if event["latency_ns"] is Int { paired += 1 }
        }
        #expect(seen == expected.count)
        // The demo's schemas are embedded: their endpoints' frames are all named (channel 4's frames, magic
        // 22, belong to no schema and are not).
        #expect(namedMagics.count >= 4)
        #expect(namedMagics.isDisjoint(with: unnamedMagics), "\(namedMagics) \(unnamedMagics)")
        #expect(paired > 0 && paired % 2 == 0, "request and response both carry the latency")
    }
}
