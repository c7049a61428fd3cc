/// Random values of schema types, shaped as ``DecodedValue/value`` gives them back, so that
/// `decode(encode(random)) == random`: round-trip tests and the synthetic-traffic check
/// (`IPCSyntheticTraffic`) use it. Attachments are numbered in encoding order (their `index` is the position
/// the decoder will report; a sender swaps in real fds).
public struct IPCValueGenerator<Random: RandomNumberGenerator> {
    public var random: Random
    let types: TypeTable
    /// Deeper than this, lists and maps are empty and optionals absent, so recursive types end.
    let maxDepth = 6
    private var nextAttachment = 0

    public init(types: TypeTable, random: Random) {
        self.types = types
        self.random = random
    }

    public struct Unsupported: Error, CustomStringConvertible {
        public var description: String
    }

    /// Values for a whole message, attachments numbered from 0.
    public mutating func arguments(for descriptor: MessageDescriptor) throws(Unsupported) -> [IPCValue] {
        nextAttachment = 0
        var values: [IPCValue] = []
        for parameter in descriptor.parameters {
            values.append(try value(of: parameter.type, depth: 0))
        }
        return values
    }

    public mutating func value(of type: TypeReference) throws(Unsupported) -> IPCValue {
        try value(of: type, depth: 0)
    }

    private mutating func count(_ depth: Int) -> Int {
        depth >= maxDepth ? 0 : Int.random(in: 0...3, using: &random)
    }

    private mutating func value(of type: TypeReference, depth: Int) throws(Unsupported) -> IPCValue {
        guard depth < 64 else { throw Unsupported(description: "\(type.spelling) nests too deeply") }
        switch types.shape(of: type) {
        case .bool:
            return .bool(Bool.random(using: &random) ? 1 : 0)
        case .integer(let kind):
            return integer(kind)
        case .float32:
            return .float(Float(Int16.random(in: .min ... .max, using: &random)) / 8)
        case .float64:
            return .double(Double(Int32.random(in: .min ... .max, using: &random)) / 16)
        case .byteString, .utf8String:
            return .string(text())
        case .utf16String:
            return .string(Bool.random(using: &random) ? text() : text() + " ünï ✓ 𝄞")
        case .byteBuffer:
            return .bytes(bytes(count(depth) * 5))
        case .vector(let element):
            if case .integer(.u8) = types.shape(of: element) { return .bytes(bytes(count(depth) * 3)) }
            var items: [IPCValue] = []
            for _ in 0..<count(depth) { items.append(try value(of: element, depth: depth + 1)) }
            return .list(items)
        case .array(let element, let size):
            if case .integer(.u8) = types.shape(of: element) { return .bytes(bytes(size)) }
            guard size <= 256 else { throw Unsupported(description: "\(type.spelling) is too long to generate") }
            var items: [IPCValue] = []
            for _ in 0..<size { items.append(try value(of: element, depth: depth + 1)) }
            return .list(items)
        case .map(let key, let mapped):
            var entries: [IPCMapEntry] = []
            for _ in 0..<count(depth) {
                entries.append(IPCMapEntry(key: try value(of: key, depth: depth + 1), value: try value(of: mapped, depth: depth + 1)))
            }
            return .map(entries)
        case .optional(let wrapped):
            guard depth < maxDepth, Bool.random(using: &random) else { return .absent }
            return .present(try value(of: wrapped, depth: depth + 1))
        case .variant(let alternatives):
            let index = Int.random(in: 0..<alternatives.count, using: &random)
            return .variant(index: index, try value(of: alternatives[index], depth: depth + 1))
        case .taggedUnion(_, let cases):
            let selected = cases[Int.random(in: 0..<cases.count, using: &random)]
            return .variant(index: Int(selected.tag), try value(of: selected.type, depth: depth + 1))
        case .empty:
            return .empty
        case .fields(let fields):
            var values: [IPCValue] = []
            for field in fields { values.append(try value(of: field.type, depth: depth + 1)) }
            return .structure(values)
        case .urlOrigin:
            var values: [IPCValue] = [.bool(0)]
            for (_, fieldType) in OriginLayout.tupleFields.dropFirst() { values.append(try value(of: fieldType, depth: depth + 1)) }
            return .structure(values)
        case .url:
            return .structure([.string("https://example.com/" + text()), .bool(0)])
        case .attachment(let kind):
            return .attachment(takeAttachment(kind))
        case .anonymousBuffer:
            guard Bool.random(using: &random) else { return .absent }
            return .attachment(takeAttachment(.anonymousBuffer, size: UInt64.random(in: 0...65536, using: &random)))
        case .enumeration(let declaration):
            guard !declaration.cases.isEmpty else { return .enumCase(name: nil, raw: 0) }
            let raw = declaration.cases[Int.random(in: 0..<declaration.cases.count, using: &random)].value
            return .enumCase(name: declaration.caseName(for: raw), raw: raw)
        case .unknown(let reason):
            throw Unsupported(description: reason)
        }
    }

    private mutating func takeAttachment(_ kind: AttachmentKind, size: UInt64? = nil) -> IPCAttachment {
        defer { nextAttachment += 1 }
        return IPCAttachment(index: nextAttachment, kind: kind, bufferSize: size)
    }

    private mutating func integer(_ kind: IntegerKind) -> IPCValue {
        let bits = Int64(bitPattern: random.next())
        switch kind {
        case .u8: return .unsigned(UInt64(UInt8(truncatingIfNeeded: bits)))
        case .u16: return .unsigned(UInt64(UInt16(truncatingIfNeeded: bits)))
        case .u32: return .unsigned(UInt64(UInt32(truncatingIfNeeded: bits)))
        case .u64: return .unsigned(UInt64(bitPattern: bits))
        case .i8: return .signed(Int64(Int8(truncatingIfNeeded: bits)))
        case .i16: return .signed(Int64(Int16(truncatingIfNeeded: bits)))
        case .i32: return .signed(Int64(Int32(truncatingIfNeeded: bits)))
        case .i64: return .signed(bits)
        }
    }

    private mutating func text() -> String {
        let letters = Array("abcdefghijklmnopqrstuvwxyz0123456789-_/.")
        return String((0..<Int.random(in: 0...12, using: &random)).map { _ in letters.randomElement(using: &random)! })
    }

    private mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
    }
}
