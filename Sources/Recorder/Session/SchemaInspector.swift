import IPCWire

/// Inspects payloads with the schemas given by `--schema`: classifies requests and responses, and decodes
/// the payload to catch lengths over MAX_DECODED_SIZE, which the receiving LibIPC side would reject.
/// Decoding costs a few microseconds per message, so it only runs when schemas are loaded.
struct SchemaInspector: MessageInspector {
    let schemas: SchemaSet
    let decoder: PayloadDecoder

    init(schemas: SchemaSet) {
        self.schemas = schemas
        decoder = PayloadDecoder(schemas: schemas)
    }

    func inspect(_ frame: PayloadFrameEvent) -> MessageInspection {
        guard let envelope = MessageEnvelope(payload: frame.capturedPayload),
              let descriptor = schemas.message(magic: envelope.magic, id: envelope.messageID) else {
            return MessageInspection()
        }
        var inspection = MessageInspection(kind: descriptor.kind, endpointName: descriptor.endpointName)
        let decoded = decoder.decode(payload: frame.capturedPayload, truePayloadLength: frame.payloadLength,
                                     attachmentCount: Int(frame.header.fdCount))
        if decoded.outcome.isComplete { inspection.handedOverMessages = Self.handedOverMessages(decoded) }
        if case .violation(var violation) = decoded.outcome {
            // The decoder counts offsets within the payload; the trace counts them in the stream.
            violation.streamOffset = frame.streamOffset &+ UInt64(FrameHeader.size) &+ violation.streamOffset
            violation.frameIndex = frame.frameIndex
            inspection.violation = violation
        }
        return inspection
    }

    /// The messages a transport's previous owner had already read, sent along with its handle: a message
    /// with exactly one `IPC::TransportHandle` and a `Vector<ByteBuffer>` parameter named `pending_messages`
    /// (the demo's `take_message_port`, shaped like the pending-incoming queue of Ladybird's MessagePort
    /// transfer holder, libipc-wire §6). Nil for any other message, or when an element was not kept whole.
    static func handedOverMessages(_ decoded: DecodedMessage) -> HandedOverMessages? {
        var handle: Int?
        for value in decoded.parameters.flatMap(\.leavesInWireOrder) {
            guard case .leaf(.attachment(let attachment)) = value.content, attachment.kind == .transportHandle else { continue }
            guard handle == nil else { return nil }
            handle = attachment.index
        }
        guard let handle,
              let pending = decoded.parameters.first(where: { $0.name == "pending_messages" && $0.type == "Vector<ByteBuffer>" }),
              case .list(let elements, let total) = pending.content, elements.count == total else { return nil }
        var payloads: [[UInt8]] = []
        for element in elements {
            guard case .leaf(.bytes(let bytes)) = element.content else { return nil }
            payloads.append(bytes)
        }
        return payloads.isEmpty ? nil : HandedOverMessages(attachmentIndex: handle, payloads: payloads)
    }
}

extension DecodedValue {
    /// This value and everything inside it, in wire order.
    var leavesInWireOrder: [DecodedValue] {
        [self] + children.flatMap(\.leavesInWireOrder)
    }
}
