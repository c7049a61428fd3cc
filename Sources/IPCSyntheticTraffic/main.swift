import Foundation
import Glibc
import IPCTransport
import IPCWire
import TraceFormat

// Synthetic-traffic check (docs/schemas.md, "Checking a type pack against real endpoint files"):
//
//     IPCSyntheticTraffic check --ipcscope PATH [--seed N] [--rounds N] FILE.ipc|DIR…
//
// encodes random values (IPCValueGenerator) for every message whose types all resolve, sends them through
// `ipcscope record -- IPCSyntheticTraffic send …` over a real socketpair (fds are real: /dev/null), then
// decodes the recorded trace with the same schemas and expects every frame complete and equal, value for
// value, to what was encoded. Exit 0 only when there are 0 undecoded or different messages.

struct Options {
    var mode = ""
    var ipcscope = ""
    var seed: UInt64 = 14
    var rounds = 2
    var paths: [String] = []
    var trace = ""

    init(_ arguments: [String]) throws {
        var rest = arguments.dropFirst()
        guard let mode = rest.popFirst(), ["check", "send"].contains(mode) else { throw Failure("usage: IPCSyntheticTraffic check|send [--ipcscope PATH] [--seed N] [--rounds N] [--trace FILE] FILE.ipc|DIR…") }
        self.mode = mode
        while let argument = rest.popFirst() {
            switch argument {
            case "--ipcscope": ipcscope = try value(&rest, argument)
            case "--seed": seed = try UInt64(value(&rest, argument)).orThrow("--seed needs a number")
            case "--rounds": rounds = try Int(value(&rest, argument)).orThrow("--rounds needs a number")
            case "--trace": trace = try value(&rest, argument)
            default: paths.append(argument)
            }
        }
        if paths.isEmpty { throw Failure("give at least one .ipc file or directory") }
    }

    private func value(_ rest: inout ArraySlice<String>, _ name: String) throws -> String {
        guard let value = rest.popFirst() else { throw Failure("\(name) needs a value") }
        return value
    }

    var forwarded: [String] { ["--seed", String(seed), "--rounds", String(rounds)] + paths }
}

struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension Optional {
    func orThrow(_ message: String) throws -> Wrapped {
        guard let self else { throw Failure(message) }
        return self
    }
}

/// One message to send, with the values it must decode to.
struct PlannedMessage {
    var descriptor: MessageDescriptor
    var arguments: [IPCValue]
    var payload: [UInt8]
    var attachmentCount: Int
}

/// The same plan in both processes: files in path order, descriptors in endpoint and id order, one seed.
struct Plan {
    var set: SchemaSet
    var messages: [PlannedMessage] = []
    var skipped: [String] = []
    var fullyResolvedDescriptors = 0

    init(_ options: Options) throws {
        var files: [SchemaFile] = []
        for path in options.paths {
            for file in try Plan.ipcFiles(under: path) {
                let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
                files.append(try SchemaParser.parse(bytes: Array(bytes), path: file))
            }
        }
        set = SchemaSet(files: files)
        var generator = IPCValueGenerator(types: set.types, random: SplitMix64(seed: options.seed))
        let endpoints = set.endpointsByMagic.values.sorted { ($0.file, $0.endpoint.name) < ($1.file, $1.endpoint.name) }
        for indexed in endpoints {
            for descriptor in indexed.descriptors {
                if descriptor.parameters.contains(where: { !set.types.unresolvedTypes(in: $0.type).isEmpty }) {
                    skipped.append("\(descriptor.endpointName).\(descriptor.name)")
                    continue
                }
                fullyResolvedDescriptors += 1
                for _ in 0..<options.rounds {
                    let arguments = try generator.arguments(for: descriptor)
                    var encoder = IPCEncoder()
                    try encoder.encode(message: descriptor, arguments: arguments, types: set.types)
                    messages.append(PlannedMessage(
                        descriptor: descriptor, arguments: arguments, payload: encoder.bytes, attachmentCount: encoder.attachments.count))
                }
            }
        }
    }

    static func ipcFiles(under path: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw Failure("\(path): no such file") }
        guard isDirectory.boolValue else { return [path] }
        let walker = try FileManager.default.enumerator(atPath: path).orThrow("\(path): cannot be listed")
        return walker.compactMap { $0 as? String }.filter { $0.hasSuffix(".ipc") }.sorted().map { path + "/" + $0 }
    }
}

/// Child of `ipcscope record`: one socketpair (the recorder relays it), every planned frame one way.
func send(_ plan: Plan) throws {
    var pair = try SocketPair.make()
    let sender = try IPCTransport(adopting: pair.first)
    let receiver = try IPCTransport(adopting: pair.second)
    for message in plan.messages {
        var fds: [Int32] = []
        for _ in 0..<message.attachmentCount {
            let fd = open("/dev/null", O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw Failure("open /dev/null: errno \(errno)") }
            fds.append(fd)
        }
        try sender.send(payload: message.payload, attachments: fds)
    }
    var received = 0
    while received < plan.messages.count {
        switch receiver.receive(timeout: .seconds(60)) {
        case .message(_, let fds):
            for fd in fds where close(fd) != 0 { throw Failure("close: errno \(errno)") }
            received += 1
        case .eof(let reason): throw Failure("receiver saw EOF after \(received) messages: \(reason)")
        case .timedOut: throw Failure("receiver timed out after \(received) of \(plan.messages.count) messages")
        case .released: throw Failure("receiver released")
        }
    }
    guard sender.flush(timeout: .seconds(60)) else { throw Failure("sender could not flush") }
    sender.close()
    receiver.close()
    print("sent \(received) messages")
}

/// Records `send` through ipcscope, then decodes the trace and compares.
func check(_ options: Options, _ plan: Plan) throws -> Bool {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ipcscope-synthetic-\(getpid())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let trace = options.trace.isEmpty ? directory.appendingPathComponent("synthetic.ipctrace").path : options.trace
    let record = Process()
    record.executableURL = URL(fileURLWithPath: options.ipcscope)
    record.arguments = ["record", "-o", trace, "--snaplen", String(16 << 20), "--lossless", "--",
                        CommandLine.arguments[0], "send"] + options.forwarded
    try record.run()
    record.waitUntilExit()
    guard record.terminationStatus == 0 else { throw Failure("ipcscope record exited with \(record.terminationStatus)") }

    let reader = try TraceReader(path: trace)
    let decoder = PayloadDecoder(schemas: plan.set)
    var frames: [PayloadFrameRecord] = []
    for (_, record) in reader.records() {
        if case .payloadFrame(let frame) = record { frames.append(frame) }
    }
    var complete = 0
    var undecoded = 0
    var different = 0
    var typesSeen: Set<String> = []
    if frames.count != plan.messages.count {
        print("error: the trace has \(frames.count) payload frames, \(plan.messages.count) were sent")
    }
    for (frame, message) in zip(frames, plan.messages) {
        let decoded = decoder.decode(
            payload: frame.capturedPayload, truePayloadLength: Int(frame.header.payloadSize), attachmentCount: Int(frame.header.fdCount))
        guard decoded.outcome == .complete(trailingBytes: 0, leftoverAttachments: 0), decoded.message == message.descriptor.name else {
            undecoded += 1
            print("undecoded: \(message.descriptor.endpointName).\(message.descriptor.name): \(decoded.outcome)")
            continue
        }
        let values = decoded.parameters.map(\.value)
        guard values == message.arguments else {
            different += 1
            print("different: \(message.descriptor.endpointName).\(message.descriptor.name)")
            continue
        }
        complete += 1
        for parameter in message.descriptor.parameters { parameter.type.forEachName { typesSeen.insert($0) } }
    }
    let declared = Set(plan.set.types.declaredNames)
    print("""
        files: \(plan.set.files.count), message ids: \(plan.fullyResolvedDescriptors) fully resolved, \(plan.skipped.count) skipped (unresolved types)
        sent \(plan.messages.count) messages through ipcscope record; trace has \(frames.count) payload frames
        decoded complete and equal: \(complete), undecoded: \(undecoded), different: \(different)
        declared type names used directly by the messages sent: \(typesSeen.intersection(declared).count) of \(declared.count) (packs: \(plan.set.loadedTypePacks.map(\.name).joined(separator: ", ")))
        """)
    if options.trace.isEmpty {
        try FileManager.default.removeItem(at: directory)
    }
    return frames.count == plan.messages.count && undecoded == 0 && different == 0 && complete == plan.messages.count
}

extension TypeReference {
    func forEachName(_ body: (String) -> Void) {
        body(baseName.hasPrefix("::") ? String(baseName.dropFirst(2)) : baseName)
        for argument in arguments { argument.forEachName(body) }
    }
}

do {
    let options = try Options(CommandLine.arguments)
    let plan = try Plan(options)
    switch options.mode {
    case "send":
        try send(plan)
    default:
        guard !options.ipcscope.isEmpty else { throw Failure("check needs --ipcscope PATH") }
        exit(try check(options, plan) ? 0 : 1)
    }
} catch {
    FileHandle.standardError.write(Data("IPCSyntheticTraffic: \(error)\n".utf8))
    exit(2)
}
