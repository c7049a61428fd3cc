import IPCTransport
import IPCWire

/// A received message, decoded against the schemas, with its fds. Fds nobody took are closed when the
/// message is dropped, so a handler that returns early (or throws) cannot leak them.
final class DemoIncoming {
    let connection: DemoConnection
    let decoded: DecodedMessage
    /// The payload as received, for byte-exact comparisons with what the sender must have encoded.
    let payload: [UInt8]
    private var fds: [Int32?]

    init(connection: DemoConnection, decoded: DecodedMessage, payload: [UInt8], fds: [Int32]) {
        self.connection = connection
        self.decoded = decoded
        self.payload = payload
        self.fds = fds
    }

    deinit {
        for case let fd? in fds { Descriptor.close(fd) }
    }

    var messageName: String { decoded.message ?? "?" }
    var step: String { "handle \(messageName) from \(connection.name)" }

    /// The message as one of the demo's names for `Name`'s endpoint, if it is one.
    func name<Name: DemoMessageName>(as type: Name.Type, in demoProtocol: DemoProtocol) -> (name: Name, isResponse: Bool)? {
        let table = Name.table(in: demoProtocol)
        guard decoded.magic == table.magic, let id = decoded.id else { return nil }
        return table.identify(id: id)
    }

    // MARK: Parameters

    func value(_ parameter: String) throws(DemoFailure) -> IPCValue {
        guard let found = decoded.parameters.first(where: { $0.name == parameter }) else {
            throw DemoFailure(step: step, "no parameter '\(parameter)'")
        }
        return found.value
    }

    func unsigned(_ parameter: String) throws(DemoFailure) -> UInt64 {
        try typed(parameter, "an unsigned integer") { $0.unsignedValue }
    }

    func signed(_ parameter: String) throws(DemoFailure) -> Int64 {
        try typed(parameter, "an integer") { $0.signedValue }
    }

    func string(_ parameter: String) throws(DemoFailure) -> String {
        try typed(parameter, "a string") { $0.stringValue }
    }

    func bytes(_ parameter: String) throws(DemoFailure) -> [UInt8] {
        try typed(parameter, "bytes") { $0.bytesValue }
    }

    func bool(_ parameter: String) throws(DemoFailure) -> Bool {
        try typed(parameter, "a bool (0 or 1)") { $0.boolValue }
    }

    func enumCase(_ parameter: String) throws(DemoFailure) -> String {
        try typed(parameter, "a known enum case") { $0.enumCaseName }
    }

    func typed<T>(_ parameter: String, _ what: String, _ view: (IPCValue) -> T?) throws(DemoFailure) -> T {
        let raw = try value(parameter)
        guard let typed = view(raw) else { throw DemoFailure(step: step, "'\(parameter)' is \(raw), expected \(what)") }
        return typed
    }

    // MARK: Fds

    /// Takes the fd of an attachment parameter (`IPC::File`, `TransportHandle`, `AnonymousBuffer`…).
    func takeFD(_ parameter: String) throws(DemoFailure) -> Int32 {
        guard case .attachment(let attachment) = try value(parameter) else {
            throw DemoFailure(step: step, "'\(parameter)' carries no fd")
        }
        return try takeFD(attachment)
    }

    func takeFD(_ attachment: IPCAttachment) throws(DemoFailure) -> Int32 {
        guard fds.indices.contains(attachment.index), let fd = fds[attachment.index] else {
            throw DemoFailure(step: step, "attachment #\(attachment.index) is missing or was already taken")
        }
        fds[attachment.index] = nil
        return fd
    }

    /// The raw payload's record bytes of a MessagePort frame.
    func serializationRecord() throws(DemoFailure) -> [UInt8] {
        try bytes("serialization_record")
    }
}
