import IPCWire
import TraceFormat

/// A decoded trace record as a filter sees it (docs/filters.md lists which field each record kind has).
/// Integer and text fields read the record and the context's tables without allocating; `param.…` decodes
/// the payload with the context's ``PayloadDecoder`` (that allocates: it builds the parameter tree).
public struct TraceRecordSubject: FilterSubject {
    public var record: TraceRecord
    /// The record's file offset: which identity a channel side had then, and its latency.
    public var offset: Int
    public var context: TraceAnalyzer

    public init(record: TraceRecord, offset: Int, context: TraceAnalyzer) {
        self.record = record
        self.offset = offset
        self.context = context
    }

    var direction: Direction? { record.direction }

    var envelope: MessageEnvelope? {
        guard case .payloadFrame(let frame) = record else { return nil }
        return frame.capturedPayload.withUnsafeBytes { MessageEnvelope(payload: $0) }
    }

    func side(_ side: Int) -> SideIdentity? {
        guard let channel = record.channel else { return nil }
        return context.identity(channel: channel, side: side, at: offset)
    }

    public func integer(_ field: FilterIntegerField) -> Int64? {
        switch field {
        case .channel: return record.channel.map(Int64.init)
        case .kind: return Int64(record.kind.rawValue)
        case .direction: return direction.map { Int64($0.rawValue) }
        case .pidA, .pidB:
            if case .process(let process) = record { return field == .pidA ? Int64(process.pid) : nil }
            guard let pid = side(field == .pidA ? 0 : 1)?.pid, pid >= 0 else { return nil }
            return Int64(pid)
        case .messageID: return envelope.map { Int64($0.messageID) }
        case .magic: return envelope.map { Int64($0.magic) }
        case .size:
            switch record {
            case .payloadFrame(let r): return Int64(r.header.payloadSize)
            case .unknownFrame(let r): return Int64(r.header.payloadSize)
            case .acknowledgement(let r): return r.payloadSize.map(Int64.init)
            default: return nil
            }
        case .fds:
            switch record {
            case .payloadFrame(let r): return Int64(r.header.fdCount)
            case .unknownFrame(let r): return Int64(r.header.fdCount)
            case .acknowledgement(let r): return Int64(r.count)
            case .lateFDs(let r): return Int64(r.fds.count)
            default: return nil
            }
        case .time: return Int64(bitPattern: record.time &- context.startTime)
        case .latency: return context.latency(at: offset)
        }
    }

    public func withText<R>(_ field: FilterTextField, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R? {
        switch field {
        case .endpointA, .endpointB:
            guard let identity = side(field == .endpointA ? 0 : 1), !identity.endpoint.isEmpty else { return nil }
            return identity.endpoint.withUnsafeBufferPointer(body)
        case .processA, .processB:
            if case .process(let process) = record {
                guard field == .processA else { return nil }
                return ProcessNames.withName(of: process, body)
            }
            guard let identity = side(field == .processA ? 0 : 1), !identity.process.isEmpty else { return nil }
            return identity.process.withUnsafeBufferPointer(body)
        case .message:
            guard let envelope, let message = context.message(magic: envelope.magic, id: envelope.messageID) else { return nil }
            return message.name.withUnsafeBufferPointer(body)
        case .violation:
            guard case .violation(let violation) = record else { return nil }
            return Self.withUTF8(violation.kindName, body)
        case .severity:
            guard case .violation(let violation) = record else { return nil }
            return Self.withUTF8(violation.severity.rawValue, body)
        }
    }

    /// A native string's bytes in place (decoded and literal strings are native: no copy).
    static func withUTF8<R>(_ text: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let result = text.utf8.withContiguousStorageIfAvailable(body) { return result }
        return Array(text.utf8).withUnsafeBufferPointer(body)
    }

    public func parameter(_ path: FilterParameterPath) -> FilterParameterValue? {
        guard case .payloadFrame(let frame) = record, let decoder = context.decoder else { return nil }
        let decoded = decoder.decode(
            payload: frame.capturedPayload, truePayloadLength: Int(frame.header.payloadSize),
            attachmentCount: Int(frame.header.fdCount))
        return ParameterLookup.value(at: path, in: decoded.parameters)
    }
}

/// Finds `headers.0.name` in a decoded parameter tree and converts what it finds for comparison.
enum ParameterLookup {
    static func value(at path: FilterParameterPath, in parameters: [DecodedValue]) -> FilterParameterValue? {
        guard let first = path.components.first else { return nil }
        var current: DecodedValue
        switch first {
        case .name(let name):
            guard let match = parameters.first(where: { $0.name == name }) else { return nil }
            current = match
        case .index(let index):
            guard parameters.indices.contains(index) else { return nil }
            current = parameters[index]
        }
        for component in path.components.dropFirst() {
            guard let next = child(of: unwrapped(current), component) else { return nil }
            current = next
        }
        return convert(current)
    }

    /// Present optionals and variants stand for their value.
    static func unwrapped(_ value: DecodedValue) -> DecodedValue {
        var value = value
        while true {
            switch value.content {
            case .optional(let inner?): value = inner
            case .variant(_, let inner): value = inner
            default: return value
            }
        }
    }

    static func child(of value: DecodedValue, _ component: FilterParameterPath.Component) -> DecodedValue? {
        let children = value.children
        switch component {
        case .index(let index):
            return children.indices.contains(index) ? children[index] : nil
        case .name(let name):
            if case .map(let entries) = value.content {
                // A map entry by its key's text: `param.headers.Host`.
                for entry in entries {
                    let parts = entry.children
                    if let key = parts.first, case .leaf(.string(let text)) = key.content, text == name, parts.count > 1 { return parts[1] }
                }
                return nil
            }
            return children.first { $0.name == name }
        }
    }

    static func convert(_ value: DecodedValue) -> FilterParameterValue {
        switch value.content {
        case .leaf(let leaf): return convert(leaf)
        case .optional(let inner): return inner.map(convert) ?? .absent
        case .list(_, let total): return .composite(count: total)
        case .map(let entries): return .composite(count: entries.count)
        case .structure(let fields): return .composite(count: fields.count)
        case .variant(_, let inner): return convert(inner)
        }
    }

    static func convert(_ value: IPCValue) -> FilterParameterValue {
        switch value {
        case .bool(let raw): .boolean(raw != 0)
        case .signed(let v): .integer(v)
        case .unsigned(let v): .unsigned(v)
        case .float(let v): .real(Double(v))
        case .double(let v): .real(v)
        case .string(let text): .text(text)
        case .bytes(let bytes): .bytes(bytes)
        case .elided(let inner, _): convert(inner)
        case .attachment: .composite(count: 1)
        case .enumCase(let name, let raw): name.map { .text($0) } ?? .integer(raw)
        case .absent: .absent
        case .present(let inner): convert(inner)
        case .empty: .composite(count: 0)
        case .list(let items): .composite(count: items.count)
        case .map(let entries): .composite(count: entries.count)
        case .structure(let fields): .composite(count: fields.count)
        case .variant(_, let inner): convert(inner)
        }
    }
}
