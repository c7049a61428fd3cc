import Foundation
import IPCWire
import TestSupport
import Testing
import TraceAnalysis
import TraceFormat

/// Filters over real traces, end to end: the demo traces shipped in Traces/ and a demo recorded now by
/// the real `ipcscope` binary (format 1.1). Every count is checked against a count made by hand over the
/// decoded records.
@Suite struct TraceFilterTests {
    static let traces = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Traces").standardizedFileURL

    struct LoadedTrace {
        var records: [(offset: Int, record: TraceRecord)]
        var context: TraceFilterContext
        var header: TraceHeader

        init(path: String) throws {
            let reader = try TraceReader(path: path)
            records = reader.records().map { ($0.offset, $0.record) }
            context = TraceFilterContext(records: records)
            header = try #require(reader.header)
        }

        func count(_ filter: String) throws -> Int {
            let compiled = try CompiledFilter(filter)
            return records.count { compiled.matches(TraceRecordSubject(record: $0.record, offset: $0.offset, context: context)) }
        }

        func subjects(_ filter: String) throws -> [TraceRecordSubject] {
            let compiled = try CompiledFilter(filter)
            return records.map { TraceRecordSubject(record: $0.record, offset: $0.offset, context: context) }.filter(compiled.matches)
        }

        var frames: [(offset: Int, frame: PayloadFrameRecord)] {
            records.compactMap { if case .payloadFrame(let frame) = $0.record { ($0.offset, frame) } else { nil } }
        }

        var schemas: SchemaSet {
            SchemaSet(files: header.schemas.compactMap { try? SchemaParser.parse($0.text, path: $0.path) })
        }

        func descriptor(of frame: PayloadFrameRecord) -> MessageDescriptor? {
            guard let envelope = MessageEnvelope(payload: frame.capturedPayload) else { return nil }
            return schemas.message(magic: envelope.magic, id: envelope.messageID)
        }
    }

    static func demo(_ name: String) throws -> LoadedTrace {
        try LoadedTrace(path: traces.appendingPathComponent(name).path)
    }

    /// Records `ipcscope demo` with the real binary into a temporary trace.
    static func recordDemo() throws -> LoadedTrace {
        guard let ipcscope = BuiltProducts.executable("ipcscope") else { throw BuiltProducts.Missing(what: "ipcscope") }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("filter-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let trace = directory.appendingPathComponent("demo.ipctrace").path
        let run = try CommandRunner.run(ipcscope, ["demo", "-o", trace, "--messages", "60"])
        #expect(run.status == 0, "\(run.stderr)")
        return try LoadedTrace(path: trace)
    }

    // MARK: checks shared by every trace

    func checkFramesAndAcks(_ trace: LoadedTrace) throws {
        let aToB = trace.frames.count { $0.frame.direction == .aToB }
        #expect(aToB > 0)
        #expect(try trace.count("kind == frame and dir == a>b") == aToB)
        #expect(try trace.count("kind == frame and dir == b>a") == trace.frames.count - aToB)
        #expect(try trace.count("kind == frame and not dir == a>b") == trace.frames.count - aToB)
        let acks = trace.records.count { $0.record.kind == .acknowledgement }
        #expect(try trace.count("kind == ack") == acks)
        #expect(try trace.count("kind in {frame, ack}") == trace.frames.count + acks)
        #expect(try trace.count("kind == frame and size > 1KiB") == trace.frames.count { $0.frame.header.payloadSize > 1024 })
        #expect(try trace.count("fds and kind == frame") == trace.frames.count { $0.frame.header.fdCount > 0 })
        #expect(try trace.count("") == trace.records.count)
        // Every record kind name selects exactly the records of its kind.
        for kind in TraceRecordKind.allCases {
            guard let name = FilterField.kindName(rawKind: kind.rawValue), kind != .endpointResolved, kind != .endpoint else { continue }
            #expect(try trace.count("kind == \(name)") == trace.records.count { $0.record.kind == kind }, "kind \(name)")
        }
        #expect(try trace.count("kind == endpoint") == trace.records.count { $0.record.kind == .endpoint || $0.record.kind == .endpointResolved })
    }

    func checkMessageNames(_ trace: LoadedTrace) throws {
        let loadURL = trace.frames.count { trace.descriptor(of: $0.frame).map { $0.endpointName == "DemoWebContentServer" && $0.name == "load_url" } ?? false }
        #expect(loadURL > 0)
        #expect(try trace.count("message == \"DemoWebContentServer::load_url\"") == loadURL)
        #expect(try trace.count("message == \"*WebContent*::load_url\"") == loadURL)
        let named = trace.frames.count { trace.descriptor(of: $0.frame) != nil }
        #expect(try trace.count("message") == named)
        let requestServer = trace.frames.count { trace.descriptor(of: $0.frame)?.endpointName.contains("RequestServer") ?? false }
        #expect(try trace.count("message ~ \"requestserver::\"") == requestServer)
    }

    /// Latency by an independent pairing: per channel, each response answers the oldest unanswered request
    /// the other direction sent.
    func checkLatencies(_ trace: LoadedTrace) throws {
        var pending: [UInt32: [[UInt64]]] = [:]
        var expected: [Int: Int64] = [:]
        var requestOffsets: [UInt32: [[Int]]] = [:]
        for (offset, frame) in trace.frames {
            guard let kind = trace.descriptor(of: frame)?.kind else { continue }
            let d = Int(frame.direction.rawValue)
            if kind == .request {
                pending[frame.channel, default: [[], []]][d].append(frame.time)
                requestOffsets[frame.channel, default: [[], []]][d].append(offset)
            } else if kind == .response, let asked = pending[frame.channel]?[1 - d].first {
                pending[frame.channel]![1 - d].removeFirst()
                let requestOffset = requestOffsets[frame.channel]![1 - d].removeFirst()
                expected[offset] = Int64(frame.time - asked)
                expected[requestOffset] = Int64(frame.time - asked)
            }
        }
        #expect(!expected.isEmpty)
        let withLatency = try trace.subjects("latency")
        #expect(Dictionary(uniqueKeysWithValues: withLatency.map { ($0.offset, $0.integer(.latency)!) }) == expected.filter { $0.value > 0 })
        let slowest = try #require(expected.values.max())
        #expect(try trace.count("latency >= \(slowest)ns") == expected.values.count { $0 == slowest })
    }

    func checkParameters(_ trace: LoadedTrace) throws {
        let decoder = PayloadDecoder(schemas: trace.schemas)
        let withExample = trace.frames.count { item in
            let decoded = decoder.decode(payload: item.frame.capturedPayload, truePayloadLength: Int(item.frame.header.payloadSize),
                                         attachmentCount: Int(item.frame.header.fdCount))
            return decoded.parameters.contains { $0.name == "url" && ($0.value.stringValue ?? "").lowercased().contains("example") }
        }
        #expect(withExample > 0)
        #expect(try trace.count("param.url ~ \"example\"") == withExample)
        #expect(try trace.count("kind == ack and param.url ~ \"example\"") == 0)
    }

    /// Frames on channels one of whose sides an endpoint record names `name`.
    func checkEndpoints(_ trace: LoadedTrace, name: String) throws {
        var channels: Set<UInt32> = []
        for (_, record) in trace.records {
            if case .endpointResolved(let r) = record, r.endpoint.name == name { channels.insert(r.channel) }
            if case .endpoint(let r) = record, r.endpointName == name { channels.insert(r.channel) }
        }
        #expect(!channels.isEmpty)
        #expect(try trace.count("kind == frame and endpoint == \(name)") == trace.frames.count { channels.contains($0.frame.channel) })
        #expect(try trace.count("kind == frame and endpoint != \(name)") == trace.frames.count { !channels.contains($0.frame.channel) })
    }

    @Test func shippedDemoTrace() throws {
        let trace = try Self.demo("demo.ipctrace")
        try checkFramesAndAcks(trace)
        try checkMessageNames(trace)
        try checkLatencies(trace)
        try checkParameters(trace)
        try checkEndpoints(trace, name: "DemoRequestServer")
        // Frames from the side the endpoint records call DemoWebContentClient to the side they call
        // DemoWebContentServer (UI to WebContent: its requests and async messages, and its responses).
        // (Endpoint names are fixed per side in the demo: the last one a side gets is the one it had.)
        var names: [UInt32: [String]] = [:]
        for (_, record) in trace.records {
            if case .endpointResolved(let r) = record, !r.endpoint.name.isEmpty, !r.endpoint.name.contains(" ") {
                names[r.channel, default: ["", ""]][Int(r.side.rawValue)] = r.endpoint.name
            }
            if case .endpoint(let r) = record, !r.endpointName.isEmpty {
                names[r.channel, default: ["", ""]][Int(r.side.rawValue)] = r.endpointName
            }
        }
        let client = "DemoWebContentClient", server = "DemoWebContentServer"
        let toWebContent = trace.frames.count { item in
            guard let sides = names[item.frame.channel] else { return false }
            return item.frame.direction == .aToB ? sides == [client, server] : sides == [server, client]
        }
        #expect(toWebContent > 0)
        #expect(try trace.count("kind == frame and dir == \(client)>\(server)") == toWebContent)
        #expect(try trace.count("kind == frame and sender.endpoint == \(client) and receiver.endpoint == \(server)") == toWebContent)
        #expect(try trace.count("time < 0s") == 0)
        #expect(try trace.count("time > 0s and kind == header") == 0)
    }

    @Test func misbehavingDemoTrace() throws {
        let trace = try Self.demo("demo-misbehave.ipctrace")
        let violations = trace.records.compactMap { if case .violation(let v) = $0.record { v } else { nil } }
        #expect(!violations.isEmpty)
        var end: EndRecord?
        for item in trace.records { if case .end(let e) = item.record { end = e } }
        #expect(try trace.count("kind == violation and severity == violation") == Int(try #require(end).summary.violations))
        #expect(try trace.count("violation") == violations.count)
        #expect(try trace.count("severity == warning") == violations.count { $0.severity == .warning })
        for kind in Set(violations.map(\.kindName)) {
            #expect(try trace.count("violation == \"\(kind)\"") == violations.count { $0.kindName == kind }, "\(kind)")
        }
    }

    @Test func freshlyRecordedDemo() throws {
        let trace = try Self.recordDemo()
        #expect(trace.header.formatVersion == TraceFileLayout.currentVersion)
        try checkFramesAndAcks(trace)
        try checkMessageNames(trace)
        try checkLatencies(trace)
        try checkParameters(trace)
        try checkEndpoints(trace, name: "DemoRequestServer")
        let processes = trace.records.compactMap { if case .process(let p) = $0.record { p } else { nil } }
        #expect(!processes.isEmpty)
        #expect(try trace.count("kind == process and pid == \(processes[0].pid)") == processes.count { $0.pid == processes[0].pid })
        // Every frame's sides are processes the trace describes (1.1 endpoint records name them).
        let pids = Set(processes.map { Int64($0.pid) })
        for subject in try trace.subjects("kind == frame") {
            if let a = subject.integer(.pidA) { #expect(pids.contains(a)) }
            if let b = subject.integer(.pidB) { #expect(pids.contains(b)) }
        }
        #expect(try trace.count("kind == frame and pid") == trace.frames.count)
        #expect(try trace.count("kind == frame and process == \"*\"") == trace.frames.count)
    }

    /// The fuzzer's seeds (Tests/TraceAnalysisTests/Fixtures/filter-seeds) compile or fail with a located
    /// error, and those that compile print canonical text that compiles to the same program.
    @Test func fuzzSeedsBehave() throws {
        let directory = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil)).appendingPathComponent("filter-seeds")
        let seeds = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(seeds.count >= 8)
        var compiled = 0
        for seed in seeds {
            let text = try String(contentsOf: directory.appendingPathComponent(seed), encoding: .utf8)
            do {
                let filter = try CompiledFilter(text)
                let again = try CompiledFilter(filter.canonicalText)
                #expect(again.canonicalText == filter.canonicalText, "\(seed)")
                #expect(again.instructionCount == filter.instructionCount, "\(seed)")
                compiled += 1
            } catch {
                #expect(error.column >= 1 && error.column <= text.unicodeScalars.count + 1, "\(seed)")
            }
        }
        #expect(compiled == seeds.count - 2, "07 and 08 are errors on purpose")
    }
}

extension IPCValue {
    var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }
}
