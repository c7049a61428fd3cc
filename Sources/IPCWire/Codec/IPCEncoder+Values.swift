/// A value that does not fit the type it was to be encoded as.
public struct IPCEncodingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Where in the value: a parameter name followed by `[i]`, `.key`, `.field`…
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

extension IPCEncoder {
    /// Writes `value` as LibIPC encodes `type` (docs/protocol.md §4), the mirror of ``PayloadDecoder``.
    /// `.attachment` values append their `index` to ``attachments`` as the fd.
    public mutating func encode(_ value: IPCValue, as type: TypeReference, types: TypeTable = TypeTable()) throws(IPCEncodingError) {
        try encode(value, as: type, types: types, path: "", depth: 0)
    }

    /// The same, with the type given as text, e.g. `"HashMap<String, Vector<u8>>"`.
    public mutating func encode(_ value: IPCValue, as spelling: String, types: TypeTable = TypeTable()) throws(IPCEncodingError) {
        let type: TypeReference
        do {
            type = try TypeReference(parsing: spelling)
        } catch {
            throw IPCEncodingError(path: "", message: "bad type '\(spelling)': \(error.message)")
        }
        try encode(value, as: type, types: types)
    }

    /// A whole message: the envelope of `descriptor`, then one value per parameter.
    public mutating func encode(message descriptor: MessageDescriptor, arguments: [IPCValue], types: TypeTable = TypeTable()) throws(IPCEncodingError) {
        guard arguments.count == descriptor.parameters.count else {
            throw IPCEncodingError(
                path: descriptor.name,
                message: "\(arguments.count) arguments for \(descriptor.parameters.count) parameters")
        }
        envelope(magic: descriptor.magic, id: descriptor.id)
        for (parameter, argument) in zip(descriptor.parameters, arguments) {
            try encode(argument, as: parameter.type, types: types, path: parameter.name, depth: 0)
        }
    }

    private static let maxDepth = 64

    private mutating func encode(
        _ value: IPCValue, as type: TypeReference, types: TypeTable, path: String, depth: Int
    ) throws(IPCEncodingError) {
        guard depth <= Self.maxDepth else {
            throw IPCEncodingError(path: path, message: "values nested deeper than \(Self.maxDepth)")
        }
        func mismatch(_ expected: String) -> IPCEncodingError {
            IPCEncodingError(path: path, message: "expected \(expected) for \(type.spelling), got \(value.caseName)")
        }

        switch types.shape(of: type) {
        case .bool:
            guard case .bool(let raw) = value else { throw mismatch(".bool") }
            u8(raw)
        case .integer(let kind):
            try integer(value, kind: kind, path: path, spelling: type.spelling)
        case .float32:
            guard case .float(let number) = value else { throw mismatch(".float") }
            f32(number)
        case .float64:
            guard case .double(let number) = value else { throw mismatch(".double") }
            f64(number)
        case .byteString, .utf8String:
            switch value {
            case .string(let text): string(text)
            case .bytes(let raw): byteString(raw) // may be invalid UTF-8 on purpose
            default: throw mismatch(".string or .bytes")
            }
        case .utf16String:
            guard case .string(let text) = value else { throw mismatch(".string") }
            utf16String(text)
        case .byteBuffer:
            guard case .bytes(let raw) = value else { throw mismatch(".bytes") }
            byteBuffer(raw)
        case .vector(let element), .array(let element, _):
            switch value {
            case .bytes(let raw):
                guard case .integer(.u8) = types.shape(of: element) else { throw mismatch(".list") }
                byteBuffer(raw)
            case .list(let items):
                count(UInt32(truncatingIfNeeded: items.count))
                for (index, item) in items.enumerated() {
                    try encode(item, as: element, types: types, path: path + "[\(index)]", depth: depth + 1)
                }
            default:
                throw mismatch(".list")
            }
        case .map(let key, let valueType):
            guard case .map(let entries) = value else { throw mismatch(".map") }
            count(UInt32(truncatingIfNeeded: entries.count))
            for (index, entry) in entries.enumerated() {
                try encode(entry.key, as: key, types: types, path: path + "[\(index)].key", depth: depth + 1)
                try encode(entry.value, as: valueType, types: types, path: path + "[\(index)].value", depth: depth + 1)
            }
        case .optional(let wrapped):
            switch value {
            case .absent: bool(false)
            case .present(let inner):
                bool(true)
                try encode(inner, as: wrapped, types: types, path: path, depth: depth + 1)
            default: throw mismatch(".absent or .present")
            }
        case .variant(let alternatives):
            guard case .variant(let index, let inner) = value else { throw mismatch(".variant") }
            guard alternatives.indices.contains(index) else {
                throw IPCEncodingError(path: path, message: "variant index \(index) out of range for \(type.spelling)")
            }
            if alternatives.count < 255 { u8(UInt8(index)) } else { u64(UInt64(index)) }
            try encode(inner, as: alternatives[index], types: types, path: path, depth: depth + 1)
        case .taggedUnion(let tag, let cases):
            guard case .variant(let index, let inner) = value else { throw mismatch(".variant") }
            guard let selected = cases.first(where: { $0.tag == Int64(index) }) else {
                throw IPCEncodingError(path: path, message: "tag \(index) is not a declared case of \(type.spelling)")
            }
            writeInteger(selected.tag, kind: tag)
            try encode(inner, as: selected.type, types: types, path: path + "." + selected.name, depth: depth + 1)
        case .empty:
            guard case .empty = value else { throw mismatch(".empty") }
        case .fields(let fields):
            try structure(value, fields: fields.map { ($0.name, $0.type) }, types: types, path: path, depth: depth, spelling: type.spelling)
        case .urlOrigin:
            guard case .structure(let parts) = value, case .bool(let opaque)? = parts.first else {
                throw mismatch(".structure starting with the opaque flag")
            }
            let fields = opaque != 0 ? OriginLayout.opaqueFields : OriginLayout.tupleFields
            try structure(value, fields: fields, types: types, path: path, depth: depth, spelling: type.spelling)
        case .url:
            switch value {
            case .string(let text):
                string(text)
                bool(false)
            case .structure:
                try structure(
                    value, fields: [("serialized", URLLayout.serialized), ("has_blob", URLLayout.hasBlob)],
                    types: types, path: path, depth: depth, spelling: type.spelling)
            default:
                throw mismatch(".string or .structure")
            }
        case .attachment:
            guard case .attachment(let attachment) = value else { throw mismatch(".attachment") }
            file(fd: Int32(truncatingIfNeeded: attachment.index))
        case .anonymousBuffer:
            switch value {
            case .absent: invalidAnonymousBuffer()
            case .attachment(let attachment):
                anonymousBuffer(fd: Int32(truncatingIfNeeded: attachment.index), size: attachment.bufferSize ?? 0)
            default: throw mismatch(".absent or .attachment")
            }
        case .enumeration(let declaration):
            try enumeration(value, declaration: declaration, path: path, spelling: type.spelling)
        case .unknown(let reason):
            throw IPCEncodingError(path: path, message: "cannot encode: \(reason)")
        }
    }

    private mutating func structure(
        _ value: IPCValue, fields: [(String, TypeReference)], types: TypeTable, path: String, depth: Int, spelling: String
    ) throws(IPCEncodingError) {
        guard case .structure(let parts) = value, parts.count == fields.count else {
            throw IPCEncodingError(
                path: path, message: "expected .structure with \(fields.count) fields for \(spelling), got \(value.caseName)")
        }
        for ((name, fieldType), part) in zip(fields, parts) {
            try encode(part, as: fieldType, types: types, path: path + "." + name, depth: depth + 1)
        }
    }

    private mutating func integer(_ value: IPCValue, kind: IntegerKind, path: String, spelling: String) throws(IPCEncodingError) {
        let bits: Int64
        switch value {
        case .signed(let number) where kind.contains(number):
            bits = number
        case .unsigned(let number) where kind == .u64:
            bits = Int64(bitPattern: number)
        case .unsigned(let number) where number <= UInt64(Int64.max) && kind.contains(Int64(number)):
            bits = Int64(number)
        case .signed, .unsigned:
            throw IPCEncodingError(path: path, message: "\(value) does not fit \(spelling)")
        default:
            throw IPCEncodingError(path: path, message: "expected .signed or .unsigned for \(spelling), got \(value.caseName)")
        }
        writeInteger(bits, kind: kind)
    }

    private mutating func enumeration(
        _ value: IPCValue, declaration: EnumDeclaration, path: String, spelling: String
    ) throws(IPCEncodingError) {
        switch value {
        case .enumCase(let name?, _) where declaration.cases.contains(where: { $0.name == name }):
            writeInteger(declaration.cases.first(where: { $0.name == name })?.value ?? 0, kind: declaration.underlying)
        case .enumCase(nil, let raw) where declaration.underlying.contains(raw) || declaration.underlying == .u64:
            writeInteger(raw, kind: declaration.underlying)
        case .signed, .unsigned:
            try integer(value, kind: declaration.underlying, path: path, spelling: spelling)
        default:
            throw IPCEncodingError(path: path, message: "expected a case of \(declaration.name), got \(value)")
        }
    }

    /// Writes the low `kind.byteWidth` bytes of the bit pattern.
    private mutating func writeInteger(_ bits: Int64, kind: IntegerKind) {
        switch kind.byteWidth {
        case 1: u8(UInt8(truncatingIfNeeded: bits))
        case 2: u16(UInt16(truncatingIfNeeded: bits))
        case 4: u32(UInt32(truncatingIfNeeded: bits))
        default: i64(bits)
        }
    }
}

extension IPCValue {
    /// The case name, for messages.
    var caseName: String {
        switch self {
        case .bool: ".bool"
        case .signed: ".signed"
        case .unsigned: ".unsigned"
        case .float: ".float"
        case .double: ".double"
        case .string: ".string"
        case .bytes: ".bytes"
        case .elided: ".elided (a shortened value cannot be encoded)"
        case .attachment: ".attachment"
        case .enumCase: ".enumCase"
        case .absent: ".absent"
        case .present: ".present"
        case .empty: ".empty"
        case .list: ".list"
        case .map: ".map"
        case .structure: ".structure"
        case .variant: ".variant"
        }
    }
}
