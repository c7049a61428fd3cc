/// Decodes values of compiled types from a payload, consuming fds in order as it meets them (depth-first,
/// docs/protocol.md §4). One instance per message. Every read is bounds-checked and every loop is bounded by
/// the bytes left or by ``DecodingLimits/maxValues``; nothing is allocated from a count before the bytes
/// for it are known to exist.
struct ValueDecoder {
    typealias Edge = DecodePlan.Edge
    typealias Content = DecodedValue.Content

    let plan: DecodePlan
    let builtins: BuiltinEdges
    let limits: DecodingLimits
    let attachmentCount: Int
    var reader: PayloadReader
    private(set) var attachmentsConsumed = 0
    private var valueCount = 0

    init(plan: DecodePlan, builtins: BuiltinEdges, limits: DecodingLimits, attachmentCount: Int, reader: PayloadReader) {
        self.plan = plan
        self.builtins = builtins
        self.limits = limits
        self.attachmentCount = attachmentCount
        self.reader = reader
    }

    /// `[UTF8]` on a ByteString parameter makes it validated like a String.
    mutating func decodeParameter(_ parameter: Parameter, edge: Edge) throws(DecodeStop) -> DecodedValue {
        try decode(edge, name: parameter.name, depth: 0, requireUTF8: parameter.attributes.contains("UTF8"))
    }

    mutating func decode(_ edge: Edge, name: String, depth: Int, requireUTF8: Bool = false) throws(DecodeStop) -> DecodedValue {
        guard depth <= limits.maxDepth else {
            throw .undecoded(offset: reader.offset, reason: "values nested deeper than \(limits.maxDepth)")
        }
        valueCount += 1
        guard valueCount <= limits.maxValues else {
            throw .undecoded(offset: reader.offset, reason: "too many values (more than \(limits.maxValues) in one message)")
        }
        let start = reader.offset
        let content = try decodeContent(plan[edge], spelling: edge.spelling, depth: depth, requireUTF8: requireUTF8)
        return DecodedValue(name: name, type: edge.spelling, byteRange: start..<reader.offset, content: content)
    }

    private mutating func decodeContent(
        _ shape: TypeShape<Edge>, spelling: String, depth: Int, requireUTF8: Bool
    ) throws(DecodeStop) -> Content {
        switch shape {
        case .bool:
            return .leaf(.bool(try reader.read(UInt8.self, for: spelling)))
        case .integer(let kind):
            return .leaf(try readInteger(kind, for: spelling))
        case .float32:
            return .leaf(.float(Float(bitPattern: try reader.read(UInt32.self, for: spelling))))
        case .float64:
            return .leaf(.double(Double(bitPattern: try reader.read(UInt64.self, for: spelling))))
        case .byteString:
            return .leaf(requireUTF8 ? try readUTF8String(spelling) : try readByteString(spelling))
        case .utf8String:
            return .leaf(try readUTF8String(spelling))
        case .utf16String:
            return .leaf(try readUTF16String(spelling))
        case .byteBuffer:
            let count = try reader.readSize(for: "length of \(spelling)")
            return .leaf(bytesValue(try reader.take(count, for: spelling)))
        case .vector(let element):
            let count = try reader.readSize(for: "count of \(spelling)")
            return try readElements(element, count: count, of: spelling, depth: depth)
        case .array(let element, let expected):
            let countOffset = reader.offset
            let count = try reader.readSize(for: "count of \(spelling)")
            guard count == expected else {
                throw .decodeError(offset: countOffset, reason: "\(spelling) has count \(count), expected \(expected)")
            }
            return try readElements(element, count: count, of: spelling, depth: depth)
        case .map(let key, let value):
            return try readMap(key: key, value: value, of: spelling, depth: depth)
        case .optional(let wrapped):
            // Mainline LibIPC reads the flag as a raw bool: any non-zero byte means present.
            let present = try reader.read(UInt8.self, for: "presence flag of \(spelling)")
            return .optional(present == 0 ? nil : try decode(wrapped, name: "value", depth: depth + 1))
        case .variant(let alternatives):
            return try readVariant(alternatives, of: spelling, depth: depth)
        case .taggedUnion(let tag, let cases):
            let tagOffset = reader.offset
            let raw = try readRawInteger(tag, for: "tag of \(spelling)")
            guard let selected = cases.first(where: { $0.tag == raw }) else {
                // The declaration may be incomplete: that is ipcscope's limit, not proof of a bad message.
                throw .undecoded(offset: tagOffset, reason: "tag \(raw) is not a declared case of \(spelling)")
            }
            return .variant(index: Int(raw), try decode(selected.type, name: selected.name, depth: depth + 1))
        case .empty:
            return .leaf(.empty)
        case .fields(let fields):
            var values: [DecodedValue] = []
            values.reserveCapacity(fields.count)
            for field in fields {
                values.append(try decode(field.type, name: field.name, depth: depth + 1))
            }
            return .structure(values)
        case .urlOrigin:
            return try readOrigin(depth: depth)
        case .url:
            return try readURL(depth: depth)
        case .attachment(let kind):
            return .leaf(.attachment(try takeAttachment(kind, for: spelling)))
        case .anonymousBuffer:
            let valid = try reader.read(UInt8.self, for: "valid flag of \(spelling)")
            guard valid != 0 else { return .leaf(.absent) }
            let size = try reader.read(UInt64.self, for: "size of \(spelling)")
            return .leaf(.attachment(try takeAttachment(.anonymousBuffer, for: spelling, bufferSize: size)))
        case .enumeration(let declaration):
            let raw = try readRawInteger(declaration.underlying, for: spelling)
            return .leaf(.enumCase(name: declaration.caseName(for: raw), raw: raw))
        case .unknown(let reason):
            throw .undecoded(offset: reader.offset, reason: reason)
        }
    }

    // MARK: - Numbers

    private mutating func readInteger(_ kind: IntegerKind, for what: String) throws(DecodeStop) -> IPCValue {
        let raw = try readRawInteger(kind, for: what)
        return kind.isSigned ? .signed(raw) : .unsigned(UInt64(bitPattern: raw))
    }

    /// Signed kinds sign-extend; unsigned ones zero-extend (a u64 comes back as its bit pattern).
    private mutating func readRawInteger(_ kind: IntegerKind, for what: String) throws(DecodeStop) -> Int64 {
        switch kind {
        case .u8: Int64(try reader.read(UInt8.self, for: what))
        case .i8: Int64(try reader.read(Int8.self, for: what))
        case .u16: Int64(try reader.read(UInt16.self, for: what))
        case .i16: Int64(try reader.read(Int16.self, for: what))
        case .u32: Int64(try reader.read(UInt32.self, for: what))
        case .i32: Int64(try reader.read(Int32.self, for: what))
        case .u64: Int64(bitPattern: try reader.read(UInt64.self, for: what))
        case .i64: try reader.read(Int64.self, for: what)
        }
    }

    // MARK: - Strings and bytes

    private mutating func readByteString(_ spelling: String) throws(DecodeStop) -> IPCValue {
        let count = try reader.readSize(for: "length of \(spelling)")
        let raw = try reader.take(count, for: spelling)
        return UTF8Text.firstInvalidOffset(in: raw) == nil ? stringValue(raw) : bytesValue(raw)
    }

    private mutating func readUTF8String(_ spelling: String) throws(DecodeStop) -> IPCValue {
        let count = try reader.readSize(for: "length of \(spelling)")
        let start = reader.offset
        let raw = try reader.take(count, for: spelling)
        if let bad = UTF8Text.firstInvalidOffset(in: raw) {
            throw .decodeError(offset: start + bad, reason: "invalid UTF-8 in \(spelling) at byte \(bad)")
        }
        return stringValue(raw)
    }

    private mutating func readUTF16String(_ spelling: String) throws(DecodeStop) -> IPCValue {
        let isASCII = try reader.read(UInt8.self, for: "ASCII flag of \(spelling)") != 0
        let units = try reader.readSize(for: "length of \(spelling)")
        let kept = min(units, limits.stringPrefix)
        let text: String
        if isASCII {
            let start = reader.offset
            let raw = try reader.take(units, for: spelling)
            if let bad = raw.firstIndex(where: { $0 >= 0x80 }) {
                throw .decodeError(
                    offset: start + bad, reason: "\(spelling) flagged ASCII has byte 0x\(String(raw[bad], radix: 16))")
            }
            text = String(decoding: UnsafeRawBufferPointer(rebasing: raw[0..<kept]), as: UTF8.self)
        } else {
            let raw = try reader.take(units * 2, for: spelling) // units ≤ 64 Mi, so no overflow
            var codeUnits: [UInt16] = []
            codeUnits.reserveCapacity(kept)
            for index in 0..<kept {
                codeUnits.append(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self)))
            }
            // Do not cut a surrogate pair in half.
            if kept < units, let last = codeUnits.last, (0xD800...0xDBFF).contains(last) { codeUnits.removeLast() }
            // Surrogates are not validated by LibIPC; lone ones show as U+FFFD.
            text = String(decoding: codeUnits, as: UTF16.self)
        }
        return kept < units ? .elided(.string(text), totalCount: units) : .string(text)
    }

    /// Valid UTF-8 bytes as text, keeping at most ``DecodingLimits/stringPrefix`` bytes (cut at a scalar boundary).
    private func stringValue(_ raw: UnsafeRawBufferPointer) -> IPCValue {
        guard raw.count > limits.stringPrefix else { return .string(String(decoding: raw, as: UTF8.self)) }
        var cut = limits.stringPrefix
        while cut > 0, raw[cut] & 0xC0 == 0x80 { cut -= 1 }
        let prefix = String(decoding: UnsafeRawBufferPointer(rebasing: raw[0..<cut]), as: UTF8.self)
        return .elided(.string(prefix), totalCount: raw.count)
    }

    private func bytesValue(_ raw: UnsafeRawBufferPointer) -> IPCValue {
        guard raw.count > limits.bytesPrefix else { return .bytes(Array(raw)) }
        return .elided(.bytes(Array(raw[0..<limits.bytesPrefix])), totalCount: raw.count)
    }

    // MARK: - Containers

    private mutating func readElements(_ element: Edge, count: Int, of spelling: String, depth: Int) throws(DecodeStop) -> Content {
        let elementShape = plan[element]
        if case .integer(.u8) = elementShape {
            return .leaf(bytesValue(try reader.take(count, for: spelling)))
        }
        if let width = elementShape.arithmeticWidth {
            // One raw block on the wire: check it whole, decode a prefix, skip the rest.
            try reader.require(count * width, for: spelling)
            let kept = min(count, limits.numericListPrefix)
            var elements: [DecodedValue] = []
            elements.reserveCapacity(kept)
            for index in 0..<kept {
                elements.append(try decode(element, name: "[\(index)]", depth: depth + 1))
            }
            try reader.skip((count - kept) * width, for: spelling)
            return .list(elements, totalCount: count)
        }
        var elements: [DecodedValue] = []
        // Each element costs at least one value of the budget, so this loop is bounded even for Empty.
        elements.reserveCapacity(min(count, reader.remaining, 1024))
        for index in 0..<count {
            elements.append(try decode(element, name: "[\(index)]", depth: depth + 1))
        }
        return .list(elements, totalCount: count)
    }

    private mutating func readMap(key: Edge, value: Edge, of spelling: String, depth: Int) throws(DecodeStop) -> Content {
        let count = try reader.readSize(for: "count of \(spelling)")
        let entryType = "(\(key.spelling), \(value.spelling))"
        var entries: [DecodedValue] = []
        entries.reserveCapacity(min(count, reader.remaining, 1024))
        for index in 0..<count {
            let start = reader.offset
            try countValue()
            let keyValue = try decode(key, name: "key", depth: depth + 2)
            let valueValue = try decode(value, name: "value", depth: depth + 2)
            entries.append(DecodedValue(
                name: "[\(index)]", type: entryType, byteRange: start..<reader.offset,
                content: .structure([keyValue, valueValue])))
        }
        return .map(entries)
    }

    private mutating func readVariant(_ alternatives: [Edge], of spelling: String, depth: Int) throws(DecodeStop) -> Content {
        let indexOffset = reader.offset
        // AK::Variant's index is a u8 below 255 alternatives, size_t otherwise.
        let index: UInt64 = alternatives.count < 255
            ? UInt64(try reader.read(UInt8.self, for: "index of \(spelling)"))
            : try reader.read(UInt64.self, for: "index of \(spelling)")
        guard index < UInt64(alternatives.count) else {
            throw .decodeError(
                offset: indexOffset,
                reason: "variant index \(index) out of range for \(spelling) (\(alternatives.count) alternatives)")
        }
        let position = Int(index)
        return .variant(index: position, try decode(alternatives[position], name: "value", depth: depth + 1))
    }

    // MARK: - URL types

    private mutating func readOrigin(depth: Int) throws(DecodeStop) -> Content {
        let opaque = try decode(builtins.bool, name: "opaque", depth: depth + 1)
        var fields = [opaque]
        if case .leaf(.bool(let flag)) = opaque.content, flag != 0 {
            fields.append(try decode(builtins.nonce, name: "nonce", depth: depth + 1))
            fields.append(try decode(builtins.originType, name: "type", depth: depth + 1))
        } else {
            fields.append(try decode(builtins.optionalString, name: "scheme", depth: depth + 1))
            fields.append(try decode(builtins.host, name: "host", depth: depth + 1))
            fields.append(try decode(builtins.optionalPort, name: "port", depth: depth + 1))
            fields.append(try decode(builtins.optionalHost, name: "domain", depth: depth + 1))
        }
        return .structure(fields)
    }

    private mutating func readURL(depth: Int) throws(DecodeStop) -> Content {
        let serialized = try decode(builtins.string, name: "serialized", depth: depth + 1)
        let hasBlob = try decode(builtins.bool, name: "has_blob", depth: depth + 1)
        if case .leaf(.bool(let flag)) = hasBlob.content, flag != 0 {
            throw .undecoded(offset: reader.offset, reason: "URL blob entries are not decoded")
        }
        return .structure([serialized, hasBlob])
    }

    // MARK: - Attachments and budget

    private mutating func takeAttachment(
        _ kind: AttachmentKind, for spelling: String, bufferSize: UInt64? = nil
    ) throws(DecodeStop) -> IPCAttachment {
        guard attachmentsConsumed < attachmentCount else {
            throw .decodeError(
                offset: reader.offset,
                reason: "missing attachment for \(spelling): the frame carries \(attachmentCount) fd(s)")
        }
        defer { attachmentsConsumed += 1 }
        return IPCAttachment(index: attachmentsConsumed, kind: kind, bufferSize: bufferSize)
    }

    private mutating func countValue() throws(DecodeStop) {
        valueCount += 1
        guard valueCount <= limits.maxValues else {
            throw .undecoded(offset: reader.offset, reason: "too many values (more than \(limits.maxValues) in one message)")
        }
    }
}
