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
        if case .violation(var violation) = decoded.outcome {
            // The decoder counts offsets within the payload; the trace counts them in the stream.
            violation.streamOffset = frame.streamOffset &+ UInt64(FrameHeader.size) &+ violation.streamOffset
            violation.frameIndex = frame.frameIndex
            inspection.violation = violation
        }
        return inspection
    }
}
