import Foundation
import IPCWire
import Testing
import TraceFormat

/// Issue 10, finding 4: every side of every channel of a recorded demo is a process the trace describes
/// (process records, kind 15) and, where the schemas know its messages, a named endpoint (kind 16) —
/// through the real `ipcscope demo`, with both recording mechanisms.
@Suite("Demo identities", .serialized)
struct DemoIdentityTests {
    @Test("every side of every channel resolves to a process with a command line, and to its endpoint where the schemas know it",
          arguments: ["preload", "takeover"])
    func everySideNamed(via: String) throws {
        let directory = try DemoScratch.make()
        let trace = directory + "/identity-\(via).ipctrace"
        let result = try DemoBinary.run(["demo", "-o", trace, "--via", via, "--messages", "60"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let records = try TraceReader(path: trace).records().map(\.record)
        let identity = try TraceIdentities(records)
        #expect(identity.channels.count == 4)
        #expect(identity.problems.isEmpty, "\(identity.problems)")
        for channel in identity.channels.sorted() {
            for side in [EndpointResolvedRecord.Side.a, .b] {
                let endpoint = try #require(identity.endpoints[channel]?[side], "channel \(channel) side \(side) has no endpoint record\n\(identity.dump(records))")
                let process = try #require(identity.process(of: endpoint), "channel \(channel) side \(side): pid \(endpoint.pid) has no process record")
                #expect(!process.commandLine.isEmpty, "channel \(channel) side \(side): empty command line")
                #expect(process.arguments.contains { $0.hasSuffix("ipcscope") } || process.executable.hasSuffix("ipcscope"),
                        "channel \(channel) side \(side) is a demo process: \(process)")
            }
        }
        // Each frame whose magic and id the schemas know names the side implementing that endpoint.
        #expect(!identity.namedBySchemas.isEmpty)
        for (key, name) in identity.namedBySchemas {
            #expect(identity.endpoints[key.channel]?[key.side]?.endpointName == name,
                    "channel \(key.channel) side \(key.side) carried \(name) messages")
        }
        // The three demo processes, each with its role on its command line, on the channels' sides.
        let commandLines = Set(identity.sideProcesses.map(\.commandLine))
        #expect(commandLines.contains { $0.contains("demo-peer webcontent") }, "\(commandLines)")
        #expect(commandLines.contains { $0.contains("demo-peer requestserver") }, "\(commandLines)")
        #expect(commandLines.contains { $0.contains("demo --no-record") }, "\(commandLines)")
        // A relayed channel whose end travelled is re-resolved: its side has a new holder, marked as such.
        var travelled = Set<UInt32>()
        var reResolved = Set<UInt32>()
        for record in records {
            if case .channelTransferred(let r) = record, r.adoption == nil { travelled.insert(r.channel) }
            if case .endpoint(let r) = record, r.afterTransfer, travelled.contains(r.channel) { reResolved.insert(r.channel) }
        }
        #expect(!travelled.isEmpty)
        #expect(reResolved == travelled, "\(identity.dump(records))")
        // The message port ends with the UI on one side and WebContent on the other (its side B travelled).
        let port = try #require(identity.channels.first { channel in
            identity.framesWithoutEnvelope.contains(channel)
        })
        let portSides = [EndpointResolvedRecord.Side.a, .b].compactMap { identity.endpoints[port]?[$0] }.compactMap(identity.process(of:))
        #expect(Set(portSides.map(\.commandLine)).count == 2, "\(portSides)\n\(identity.dump(records))")
    }
}

/// What a reader makes of a trace's identity records: the last endpoint record of each side, the process
/// records, and the sides the schemas name.
struct TraceIdentities {
    struct SideKey: Hashable {
        var channel: UInt32
        var side: EndpointResolvedRecord.Side
    }

    var channels: [UInt32] = []
    var endpoints: [UInt32: [EndpointResolvedRecord.Side: EndpointRecord]] = [:]
    var processes: [String: ProcessRecord] = [:]
    var namedBySchemas: [SideKey: String] = [:]
    var framesWithoutEnvelope = Set<UInt32>()
    var problems: [String] = []

    init(_ records: [TraceRecord]) throws {
        var schemas: SchemaSet?
        for record in records {
            switch record {
            case .header(let header):
                let files = try header.schemas.map { try SchemaParser.parse(bytes: Array($0.text.utf8), path: $0.path) }
                schemas = SchemaSet(files: files)
            case .channelOpened(let r):
                channels.append(r.channel)
            case .process(let r):
                processes[Self.key(r.pid, r.startTime)] = r
            case .endpoint(let r):
                if r.pid > 0, processes[Self.key(r.pid, r.processStartTime)] == nil {
                    problems.append("endpoint of channel \(r.channel) names pid \(r.pid) before its process record")
                }
                endpoints[r.channel, default: [:]][r.side] = r
            case .payloadFrame(let r):
                guard let envelope = MessageEnvelope(payload: r.capturedPayload),
                      let message = schemas?.message(magic: envelope.magic, id: envelope.messageID) else {
                    framesWithoutEnvelope.insert(r.channel)
                    continue
                }
                // A request or async message is for the receiver's endpoint; a response comes from it.
                let senderIsA = r.direction == .aToB
                let named: EndpointResolvedRecord.Side = (message.kind == .response) == senderIsA ? .a : .b
                namedBySchemas[SideKey(channel: r.channel, side: named)] = message.endpointName
            default:
                break
            }
        }
    }

    /// The identity records, one a line, for failure messages.
    func dump(_ records: [TraceRecord]) -> String {
        records.compactMap { record -> String? in
            switch record {
            case .channelOpened(let r): "\(r.time) opened \(r.channel) A=\(r.endpointA) B=\(r.endpointB) \(r.discovery) \(String(describing: r.transferredBy))"
            case .channelTransferred(let r): "\(r.time) transferred \(r.channel) by \(r.carriedBy)"
            case .process(let r): "\(r.time) process \(r.pid)@\(r.startTime) ppid \(r.parentPID) \(r.commandLine)"
            case .endpoint(let r): "\(r.time) endpoint \(r.channel)/\(r.side) pid \(r.pid)@\(r.processStartTime) \(r.basis) after transfer \(r.afterTransfer) '\(r.endpointName)'"
            default: nil
            }
        }.joined(separator: "\n")
    }

    private static func key(_ pid: Int32, _ start: UInt64) -> String { "\(pid)@\(start)" }

    func process(of endpoint: EndpointRecord) -> ProcessRecord? {
        processes[Self.key(endpoint.pid, endpoint.processStartTime)]
    }

    var sideProcesses: [ProcessRecord] {
        endpoints.values.flatMap(\.values).compactMap(process(of:))
    }
}
