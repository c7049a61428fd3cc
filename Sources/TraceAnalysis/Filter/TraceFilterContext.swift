import IPCWire
import TraceFormat

/// What a record alone does not say but a filter asks about, gathered in one pass over a trace's records:
/// who each side of a channel is (endpoint and process names, pids, as they change over the trace),
/// message names and kinds from the schemas embedded in the header, and sync latencies (requests paired with
/// responses by IPCWire's ``SyncPairing``, the recorder's own ledger). The analysis layer will replace it.
public final class TraceFilterContext: Sendable {
    /// The header's monotonic anchor: `time` counts from here.
    public let startTime: UInt64
    /// Embedded schemas that did not parse (a message of theirs has no name).
    public let schemaErrors: [String]
    let decoder: PayloadDecoder?
    private let messages: [UInt64: (name: [UInt8], kind: MessageKind)]
    private let sides: [UInt32: ChannelSides]
    private let latencies: [Int: Int64]

    /// - Parameters:
    ///   - records: the trace's records in file order, with their file offsets.
    ///   - schemas: schema files to use besides (before) those embedded in the header.
    public init(records: some Sequence<(offset: Int, record: TraceRecord)>, schemas extra: [SchemaFile] = []) {
        var builder = Builder()
        var files = extra
        var errors: [String] = []
        var anchor: UInt64 = 0
        var pairing = SyncPairingPass()
        var decoder: PayloadDecoder?
        var messages: [UInt64: (name: [UInt8], kind: MessageKind)] = [:]

        for (offset, record) in records {
            switch record {
            case .header(let header):
                anchor = header.monotonicAnchorNanoseconds
                for schema in header.schemas {
                    do { files.append(try SchemaParser.parse(schema.text, path: schema.path)) } catch { errors.append("\(schema.path): \(error)") }
                }
                let set = SchemaSet(files: files)
                decoder = PayloadDecoder(schemas: set)
                for (_, endpoint) in set.endpointsByMagic {
                    for descriptor in endpoint.descriptors {
                        messages[Self.key(descriptor.magic, descriptor.id)] =
                            (Array("\(descriptor.endpointName)::\(descriptor.name)".utf8), descriptor.kind)
                    }
                }
            case .payloadFrame(let frame):
                if let envelope = MessageEnvelope(payload: frame.capturedPayload) {
                    pairing.record(messages[Self.key(envelope.magic, envelope.messageID)]?.kind, frame: frame, offset: offset)
                }
            default:
                builder.observe(record, offset: offset)
            }
        }
        startTime = anchor
        schemaErrors = errors
        self.decoder = decoder
        self.messages = messages
        sides = builder.finish()
        latencies = pairing.latencies
    }

    /// Reads every record of `reader` once.
    public convenience init(reader: TraceReader, schemas: [SchemaFile] = []) {
        self.init(records: reader.records().lazy.map { (offset: $0.offset, record: $0.record) }, schemas: schemas)
    }

    static func key(_ magic: UInt32, _ id: Int32) -> UInt64 { UInt64(magic) << 32 | UInt64(UInt32(bitPattern: id)) }

    public func message(magic: UInt32, id: Int32) -> (name: [UInt8], kind: MessageKind)? { messages[Self.key(magic, id)] }

    public func latency(at offset: Int) -> Int64? { latencies[offset] }

    /// Side A (`side == 0`) or B of `channel` as known at the record at `offset`.
    public func identity(channel: UInt32, side: Int, at offset: Int) -> SideIdentity? {
        guard let sides = sides[channel] else { return nil }
        return (side == 0 ? sides.a : sides.b).identity(at: offset)
    }
}

/// Who one side of a channel is, from some file offset on.
public struct SideIdentity: Sendable {
    public var offset: Int
    /// -1 when unknown.
    public var pid: Int32
    public var endpoint: [UInt8]
    public var process: [UInt8]
}

/// A side's identities in file order. A field a record leaves unknown keeps its previous value (the process
/// name only while the pid is the same); before the first record that knows a field, the first known value
/// counts, so a frame sent before its endpoint record (written once the recorder learnt the name) has it.
struct SideTimeline: Sendable {
    var entries: [SideIdentity] = []

    func identity(at offset: Int) -> SideIdentity? {
        guard !entries.isEmpty else { return nil }
        var low = 0, high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].offset <= offset { low = middle + 1 } else { high = middle }
        }
        return entries[max(low - 1, 0)]
    }

    mutating func fill() {
        guard !entries.isEmpty else { return }
        for index in entries.indices.dropFirst() {
            let previous = entries[index - 1]
            if entries[index].pid < 0 {
                entries[index].pid = previous.pid
                if entries[index].process.isEmpty { entries[index].process = previous.process }
            } else if entries[index].process.isEmpty, entries[index].pid == previous.pid {
                entries[index].process = previous.process
            }
            if entries[index].endpoint.isEmpty { entries[index].endpoint = previous.endpoint }
        }
        for index in entries.indices.reversed().dropFirst() {
            let next = entries[index + 1]
            if entries[index].pid < 0 {
                entries[index].pid = next.pid
                if entries[index].process.isEmpty { entries[index].process = next.process }
            } else if entries[index].process.isEmpty, entries[index].pid == next.pid {
                entries[index].process = next.process
            }
            if entries[index].endpoint.isEmpty { entries[index].endpoint = next.endpoint }
        }
    }
}

struct ChannelSides: Sendable {
    var a = SideTimeline()
    var b = SideTimeline()
}

extension TraceFilterContext {
    /// Collects side identities from channel-opened, endpoint-resolved (1.0), process and endpoint (1.1) records.
    struct Builder {
        var sides: [UInt32: ChannelSides] = [:]
        var processNames: [Int32: [UInt8]] = [:]

        mutating func observe(_ record: TraceRecord, offset: Int) {
            switch record {
            case .channelOpened(let opened):
                add(opened.channel, side: 0, SideIdentity(offset: offset, pid: opened.endpointA.pid,
                    endpoint: Self.endpointName(opened.endpointA.name), process: processName(opened.endpointA)))
                add(opened.channel, side: 1, SideIdentity(offset: offset, pid: opened.endpointB.pid,
                    endpoint: Self.endpointName(opened.endpointB.name), process: processName(opened.endpointB)))
            case .endpointResolved(let resolved):
                add(resolved.channel, side: Int(resolved.side.rawValue), SideIdentity(offset: offset, pid: resolved.endpoint.pid,
                    endpoint: Self.endpointName(resolved.endpoint.name), process: processName(resolved.endpoint)))
            case .process(let process):
                processNames[process.pid] = Self.processName(of: process)
            case .endpoint(let endpoint):
                add(endpoint.channel, side: Int(endpoint.side.rawValue), SideIdentity(offset: offset, pid: endpoint.pid,
                    endpoint: Array(endpoint.endpointName.utf8), process: endpoint.pid >= 0 ? processNames[endpoint.pid] ?? [] : []))
            default:
                break
            }
        }

        /// A LibIPC endpoint name is an identifier; 1.0 recorders wrote placeholders such as `pid 21875` for
        /// sides they could not name, which are not endpoints.
        static func endpointName(_ name: String) -> [UInt8] {
            name.utf8.contains(UInt8(ascii: " ")) ? [] : Array(name.utf8)
        }

        mutating func add(_ channel: UInt32, side: Int, _ identity: SideIdentity) {
            if side == 0 { sides[channel, default: ChannelSides()].a.entries.append(identity) } else { sides[channel, default: ChannelSides()].b.entries.append(identity) }
        }

        func processName(_ endpoint: ChannelEndpoint) -> [UInt8] {
            if !endpoint.command.isEmpty { return Self.baseName(of: endpoint.command) }
            return endpoint.pid >= 0 ? processNames[endpoint.pid] ?? [] : []
        }

        /// The executable's base name (`/usr/bin/WebContent` → `WebContent`), else the first argument's.
        static func processName(of process: ProcessRecord) -> [UInt8] {
            withProcessName(of: process) { Array($0) }
        }

        /// Lends the process name's bytes in place (no copy: a filter over process records stays allocation-free).
        static func withProcessName<R>(of process: ProcessRecord, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
            let source = process.executable.isEmpty ? process.arguments.first ?? "" : process.executable
            return TraceRecordSubject.withUTF8(source) { body(baseName(of: $0, firstWord: false)) }
        }

        /// A 1.0 command is a process name or a whole command line: its first word's base name.
        static func baseName(of command: String) -> [UInt8] {
            TraceRecordSubject.withUTF8(command) { Array(baseName(of: $0, firstWord: true)) }
        }

        /// The last path component (of the first word when `firstWord`): `/usr/bin/WebContent` → `WebContent`.
        static func baseName(of command: UnsafeBufferPointer<UInt8>, firstWord: Bool) -> UnsafeBufferPointer<UInt8> {
            let end = firstWord ? command.firstIndex(of: UInt8(ascii: " ")) ?? command.count : command.count
            var start = end
            while start > 0, command[start - 1] != UInt8(ascii: "/") { start -= 1 }
            return UnsafeBufferPointer(rebasing: command[start..<end])
        }

        func finish() -> [UInt32: ChannelSides] {
            sides.mapValues { channel in
                var channel = channel
                channel.a.fill()
                channel.b.fill()
                return channel
            }
        }
    }

    /// Pairs sync requests with responses per channel, by order (the n-th response a direction receives
    /// answers the n-th request it sent), with ``SyncPairing``; both frames get the latency.
    struct SyncPairingPass {
        var pairings: [UInt32: SyncPairing] = [:]
        /// Requests per channel and direction (the direction that sent them), in order: file offset and time.
        var requests: [UInt32: [[(offset: Int, time: UInt64)]]] = [:]
        var latencies: [Int: Int64] = [:]

        mutating func record(_ kind: MessageKind?, frame: PayloadFrameRecord, offset: Int) {
            let outcome = pairings[frame.channel, default: SyncPairing()].record(kind, direction: frame.direction)
            switch outcome {
            case .requestPending:
                requests[frame.channel, default: [[], []]][Int(frame.direction.rawValue)].append((offset, frame.time))
            case .answered(let ordinal):
                let asked = Int(frame.direction.reversed.rawValue)
                guard let list = requests[frame.channel]?[asked], ordinal < UInt64(list.count) else { return }
                let request = list[Int(ordinal)]
                let latency = Int64(bitPattern: frame.time &- request.time)
                latencies[request.offset] = latency
                latencies[offset] = latency
            case .none, .unsolicitedResponse:
                break
            }
        }
    }
}
