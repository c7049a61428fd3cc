import IPCWire

/// Hand-written encoders for the four messages the bulk traffic sends by the million (mouse_event,
/// key_event, did_invalidate, websocket_send). The schema-driven encoder looks every type up by name on
/// every call, which made it most of the cost of a million-message run. Ids, magics and enum values
/// still come from the schemas, and `verify` checks at load time that both encoders write the same bytes,
/// so a schema change cannot make them drift apart silently.
struct BulkEncoders: Sendable {
    private let mouseEvent: MessageDescriptor
    private let keyEvent: MessageDescriptor
    private let didInvalidate: MessageDescriptor
    private let websocketSend: MessageDescriptor
    /// `Demo::MouseButton` case values, from the schema's declaration.
    private let mouseButtons: [String: Int64]

    init(
        schemas: SchemaSet, webContentServer: DemoEndpointTable<WebContentServerMessage>,
        webContentClient: DemoEndpointTable<WebContentClientMessage>, requestServer: DemoEndpointTable<RequestServerMessage>
    ) throws(DemoFailure) {
        mouseEvent = webContentServer.descriptor(.mouseEvent)
        keyEvent = webContentServer.descriptor(.keyEvent)
        didInvalidate = webContentClient.descriptor(.didInvalidate)
        websocketSend = requestServer.descriptor(.websocketSend)
        guard let buttons = schemas.types.enumerations["Demo::MouseButton"] else {
            throw DemoFailure(step: "load demo schemas", "no Demo::MouseButton declaration")
        }
        mouseButtons = Dictionary(buttons.cases.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
    }

    func mouseEvent(_ input: Int, seed: UInt64) -> [UInt8] {
        let mouse = BulkTraffic.mouse(input, seed: seed)
        var encoder = start(mouseEvent)
        encoder.u64(DemoContent.pageID)
        encoder.i32(mouse.x)
        encoder.i32(mouse.y)
        encoder.u16(UInt16(truncatingIfNeeded: mouseButtons[mouse.button] ?? 0))
        encoder.u32(mouse.modifiers)
        return encoder.bytes
    }

    func keyEvent(_ input: Int, seed: UInt64) -> [UInt8] {
        let key = BulkTraffic.key(input, seed: seed)
        var encoder = start(keyEvent)
        encoder.u64(DemoContent.pageID)
        encoder.u32(key.codePoint)
        encoder.i8(key.repeatCount)
        encoder.utf16String(key.text)
        return encoder.bytes
    }

    func didInvalidate(_ input: Int) -> [UInt8] {
        let rect = BulkTraffic.invalidatedRect(input)
        var encoder = start(didInvalidate)
        encoder.u64(DemoContent.pageID)
        encoder.count(1)
        for value in [rect.x, rect.y, rect.width, rect.height] { encoder.i32(value) }
        return encoder.bytes
    }

    func websocketSend(_ frame: UInt64, seed: UInt64) -> [UInt8] {
        var encoder = start(websocketSend)
        encoder.i64(DemoContent.websocketID)
        encoder.bool(frame % 2 == 0)
        encoder.byteBuffer(DemoContent.websocketPayload(frame, seed: seed))
        return encoder.bytes
    }

    private func start(_ descriptor: MessageDescriptor) -> IPCEncoder {
        var encoder = IPCEncoder()
        encoder.bytes.reserveCapacity(64)
        encoder.envelope(magic: descriptor.magic, id: descriptor.id)
        return encoder
    }

    /// Both encoders must agree on a spread of inputs (every button, every kind of key text).
    func verify(against demoProtocol: DemoProtocol) throws(DemoFailure) {
        for seed: UInt64 in [1, 0xDEAD_BEEF] {
            for input in 0..<64 {
                try same(mouseEvent(input, seed: seed), demoProtocol.message(WebContentServerMessage.mouseEvent, BulkTraffic.mouseArguments(input, seed: seed)))
                try same(keyEvent(input, seed: seed), demoProtocol.message(WebContentServerMessage.keyEvent, BulkTraffic.keyArguments(input, seed: seed)))
                try same(didInvalidate(input), demoProtocol.message(WebContentClientMessage.didInvalidate, BulkTraffic.invalidateArguments(input)))
                try same(websocketSend(UInt64(input), seed: seed),
                         demoProtocol.message(RequestServerMessage.websocketSend, BulkTraffic.websocketSendArguments(UInt64(input), seed: seed)))
            }
        }
    }

    private func same(_ fast: [UInt8], _ typed: OutgoingMessage) throws(DemoFailure) {
        guard fast == typed.payload else {
            throw DemoFailure(step: "load demo schemas", "the fast encoder of \(typed.name) disagrees with the schema")
        }
    }

    /// A message the bulk sends, ready for `DemoConnection.post`.
    static func outgoing(_ name: String, _ payload: [UInt8]) -> OutgoingMessage {
        OutgoingMessage(name: name, payload: payload, fds: [])
    }
}
