/// What `ipcscope redact` replaces in a trace (docs/security.md, "Redacting a trace"). Pure: one record in,
/// one record out. Every replacement keeps the byte length of what it replaces, so the redacted trace has
/// the same records, of the same sizes, at the same offsets: only bytes that could be secret change.
public struct TraceRedaction: Sendable {
    /// Payload bytes kept at the start of each captured payload: the LibIPC envelope (endpoint magic,
    /// message id), which names the message and so keeps `show`, `stats` and filters' counts.
    public static let keptPayloadPrefix = 8
    /// What a redacted payload byte becomes.
    public static let payloadFill: UInt8 = 0
    /// What a redacted character of a command line or host name becomes (one per UTF-8 byte).
    public static let textFill = UInt8(ascii: "*")

    /// Keep command lines, executables' arguments and the host name (payloads are redacted regardless).
    public var keepCommands: Bool

    public init(keepCommands: Bool = false) {
        self.keepCommands = keepCommands
    }

    public func redact(_ record: TraceRecord) -> TraceRecord {
        switch record {
        case .payloadFrame(var frame):
            frame.capturedPayload = Self.redactPayload(frame.capturedPayload)
            return .payloadFrame(frame)
        case .channelClassified(var classified) where classified.channelProtocol != .libIPC:
            // The first bytes of a channel that is not LibIPC are its data, not a frame header.
            classified.evidence = [UInt8](repeating: Self.payloadFill, count: classified.evidence.count)
            return .channelClassified(classified)
        case .header(var header) where !keepCommands:
            header.hostName = Self.mask(header.hostName)
            header.commandLine = Self.maskArguments(header.commandLine)
            return .header(header)
        case .process(var process) where !keepCommands:
            process.arguments = Self.maskArguments(process.arguments)
            return .process(process)
        case .channelOpened(var opened) where !keepCommands:
            opened.endpointA.command = Self.maskCommandLine(opened.endpointA.command)
            opened.endpointB.command = Self.maskCommandLine(opened.endpointB.command)
            return .channelOpened(opened)
        case .endpointResolved(var resolved) where !keepCommands:
            resolved.endpoint.command = Self.maskCommandLine(resolved.endpoint.command)
            return .endpointResolved(resolved)
        default:
            return record
        }
    }

    /// The envelope kept, every later byte replaced; the length (so the captured length) unchanged.
    public static func redactPayload(_ payload: [UInt8]) -> [UInt8] {
        guard payload.count > keptPayloadPrefix else { return payload }
        var redacted = payload
        for index in keptPayloadPrefix..<redacted.count { redacted[index] = payloadFill }
        return redacted
    }

    /// Every UTF-8 byte replaced by `*`.
    static func mask(_ text: String) -> String {
        String(decoding: [UInt8](repeating: textFill, count: text.utf8.count), as: UTF8.self)
    }

    /// argv[0] kept (which program it was), every later argument masked byte for byte.
    static func maskArguments(_ arguments: [String]) -> [String] {
        arguments.enumerated().map { $0.offset == 0 ? $0.element : mask($0.element) }
    }

    /// A command line joined with spaces (channel-opened's command): the first word kept, every later
    /// byte but the spaces masked.
    static func maskCommandLine(_ command: String) -> String {
        let bytes = Array(command.utf8)
        guard let firstSpace = bytes.firstIndex(of: UInt8(ascii: " ")) else { return command }
        let masked = bytes[..<firstSpace] + bytes[firstSpace...].map { $0 == UInt8(ascii: " ") ? $0 : textFill }
        return String(decoding: masked, as: UTF8.self)
    }
}
