import IPCWire
import TraceFormat

/// Who one side of a channel is, from some file offset on.
public struct SideIdentity: Sendable, Equatable {
    public var offset: Int
    /// -1 when unknown.
    public var pid: Int32
    public var endpoint: [UInt8]
    public var process: [UInt8]
}

/// A side's identities in file order (the endpoint table over time, for one side). A field a record leaves
/// unknown keeps its previous value (the process name only while the pid is the same); before the first
/// record that knows a field, the first known value counts, so a frame sent before its endpoint record
/// (written once the recorder learnt the name) has it. Filled as records arrive: an append fills the new
/// entry forwards and the unknown fields of the entries before it backwards, each field at most once, so
/// appending is amortised O(1).
public struct SideTimeline: Sendable {
    public private(set) var entries: [SideIdentity] = []

    public func identity(at offset: Int) -> SideIdentity? {
        guard let slot = entryIndex(at: offset) else { return nil }
        return entries[slot]
    }

    /// The entry an event at `offset` sees; nil before any entry exists. Entries come in file order, so once
    /// a later entry exists the answer for an earlier offset never changes.
    func entryIndex(at offset: Int) -> Int? {
        guard !entries.isEmpty else { return nil }
        var low = 0, high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].offset <= offset { low = middle + 1 } else { high = middle }
        }
        return max(low - 1, 0)
    }

    mutating func append(_ identity: SideIdentity) {
        var new = identity
        if let previous = entries.last { Self.inherit(&new, from: previous) }
        entries.append(new)
        var index = entries.count - 2
        while index >= 0 {
            var entry = entries[index]
            let before = entry
            Self.inherit(&entry, from: entries[index + 1])
            if entry == before { break }
            entries[index] = entry
            index -= 1
        }
    }

    static func inherit(_ entry: inout SideIdentity, from other: SideIdentity) {
        if entry.pid < 0 {
            entry.pid = other.pid
            if entry.process.isEmpty { entry.process = other.process }
        } else if entry.process.isEmpty, entry.pid == other.pid {
            entry.process = other.process
        }
        if entry.endpoint.isEmpty { entry.endpoint = other.endpoint }
    }
}

struct ChannelSides: Sendable {
    var a = SideTimeline()
    var b = SideTimeline()

    subscript(side: Int) -> SideTimeline { side == 0 ? a : b }
}

/// Side identities from channel-opened, endpoint-resolved (1.0), process and endpoint (1.1) records.
struct IdentityTables {
    var sides: [UInt32: ChannelSides] = [:]
    /// The latest process name seen for each pid (a reused pid gets the new process's).
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
            processNames[process.pid] = ProcessNames.name(of: process)
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
        // In place: `a` and `b` are stored properties, so the timeline is not copied out and back.
        if side == 0 { sides[channel, default: ChannelSides()].a.append(identity) } else { sides[channel, default: ChannelSides()].b.append(identity) }
    }

    func processName(_ endpoint: ChannelEndpoint) -> [UInt8] {
        if !endpoint.command.isEmpty { return ProcessNames.baseName(of: endpoint.command) }
        return endpoint.pid >= 0 ? processNames[endpoint.pid] ?? [] : []
    }

    func identity(channel: UInt32, side: Int, at offset: Int) -> SideIdentity? {
        sides[channel]?[side].identity(at: offset)
    }

    /// Which entry of a side's timeline an event at `offset` sees (-1: none yet).
    func entryIndex(channel: UInt32, side: Int, at offset: Int) -> Int32 {
        sides[channel]?[side].entryIndex(at: offset).map(Int32.init) ?? -1
    }
}

/// How a process is named in lines and filters.
public enum ProcessNames {
    /// The executable's base name (`/usr/bin/WebContent` → `WebContent`), else the first argument's.
    public static func name(of process: ProcessRecord) -> [UInt8] {
        withName(of: process) { Array($0) }
    }

    /// Lends the process name's bytes in place (no copy: a filter over process records stays allocation-free).
    public static func withName<R>(of process: ProcessRecord, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
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
}
