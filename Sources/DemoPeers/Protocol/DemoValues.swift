import IPCTransport
import IPCWire

/// Short builders for the argument values the peers send (the typed encoder checks them against the schema).
extension IPCValue {
    static func u(_ value: some BinaryInteger) -> IPCValue { .unsigned(UInt64(truncatingIfNeeded: value)) }
    static func s(_ value: some BinaryInteger) -> IPCValue { .signed(Int64(truncatingIfNeeded: value)) }
    static func flag(_ value: Bool) -> IPCValue { .boolean(value) }
    /// An `@ipcscope enum` case by name (the encoder writes its value).
    static func enumeration(_ caseName: String) -> IPCValue { .enumCase(name: caseName, raw: 0) }
    static func optional(_ value: IPCValue?) -> IPCValue { value.map { .present($0) } ?? .absent }

    /// `IPC::File`: the fd travels as an attachment (encoding: `index` is the fd).
    static func file(_ fd: Int32) -> IPCValue { .attachment(IPCAttachment(index: Int(fd), kind: .file)) }
    static func transportHandle(_ fd: Int32) -> IPCValue { .attachment(IPCAttachment(index: Int(fd), kind: .transportHandle)) }
    static func queue(_ fd: Int32) -> IPCValue { .attachment(IPCAttachment(index: Int(fd), kind: .queue)) }
    static func anonymousBuffer(_ fd: Int32, size: Int) -> IPCValue {
        .attachment(IPCAttachment(index: Int(fd), kind: .anonymousBuffer, bufferSize: UInt64(size)))
    }

    static func intSize(width: Int32, height: Int32) -> IPCValue { .structure([.s(width), .s(height)]) }
    static func intPoint(x: Int32, y: Int32) -> IPCValue { .structure([.s(x), .s(y)]) }
    static func intRect(x: Int32, y: Int32, width: Int32, height: Int32) -> IPCValue {
        .structure([.s(x), .s(y), .s(width), .s(height)])
    }
    static func stringMap(_ entries: [(String, String)]) -> IPCValue {
        .map(entries.map { IPCMapEntry(key: .string($0.0), value: .string($0.1)) })
    }
    /// `URL::URL` without a blob entry.
    static func url(_ text: String) -> IPCValue { .string(text) }
    /// `Core::ProxyData`: type, IPv4 (first octet in the low byte), port.
    static func proxy(socks5 host: (UInt8, UInt8, UInt8, UInt8), port: UInt16) -> IPCValue {
        .structure([.enumeration("SOCKS5"), .u(ipv4(host)), .u(port)])
    }

    /// `IPv4Address::to_u32()`: a.b.c.d with `a` in the low byte, so the wire bytes read a, b, c, d.
    static func ipv4(_ octets: (UInt8, UInt8, UInt8, UInt8)) -> UInt32 {
        UInt32(octets.0) | UInt32(octets.1) << 8 | UInt32(octets.2) << 16 | UInt32(octets.3) << 24
    }

    /// Closes the fds of attachments inside this value (for values that were never sent).
    func closeAttachedFDs() {
        switch self {
        case .attachment(let attachment): Descriptor.close(Int32(truncatingIfNeeded: attachment.index))
        case .present(let inner), .variant(_, let inner), .elided(let inner, _): inner.closeAttachedFDs()
        case .list(let items), .structure(let items): for item in items { item.closeAttachedFDs() }
        case .map(let entries): for entry in entries { entry.key.closeAttachedFDs(); entry.value.closeAttachedFDs() }
        default: break
        }
    }
}

/// Typed views of decoded values; nil when the value is of another kind.
extension IPCValue {
    var unsignedValue: UInt64? {
        switch self {
        case .unsigned(let value): value
        case .signed(let value) where value >= 0: UInt64(value)
        default: nil
        }
    }

    var signedValue: Int64? {
        switch self {
        case .signed(let value): value
        case .unsigned(let value) where value <= UInt64(Int64.max): Int64(value)
        default: nil
        }
    }

    var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    var bytesValue: [UInt8]? {
        switch self {
        case .bytes(let raw): raw
        case .string(let text): Array(text.utf8)
        default: nil
        }
    }

    /// Strictly 0 or 1 (what the newer LibIPC decoder accepts).
    var boolValue: Bool? {
        if case .bool(let raw) = self, raw <= 1 { return raw == 1 }
        return nil
    }

    var enumCaseName: String? {
        if case .enumCase(let name, _) = self { return name }
        return nil
    }

    var listValue: [IPCValue]? {
        if case .list(let items) = self { return items }
        return nil
    }

    var structureValue: [IPCValue]? {
        if case .structure(let items) = self { return items }
        return nil
    }

    var mapValue: [IPCMapEntry]? {
        if case .map(let entries) = self { return entries }
        return nil
    }

    /// `.some(nil)` for an absent Optional, `.some(value)` for a present one, nil for anything else.
    var optionalValue: IPCValue?? {
        switch self {
        case .absent: .some(nil)
        case .present(let inner): .some(inner)
        default: nil
        }
    }

    var floatValue: Float? {
        if case .float(let value) = self { return value }
        return nil
    }

    var doubleValue: Double? {
        if case .double(let value) = self { return value }
        return nil
    }
}
