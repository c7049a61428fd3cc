import IPCWire

/// Feeds arbitrary bytes to the `.ipc` parser and, when they parse, decodes a payload built from the
/// same bytes against the schema: either step must report a schema, an error or an outcome, never trap.
enum SchemaFuzzing {
    static func run(_ data: UnsafeRawBufferPointer) {
        guard let file = try? SchemaParser.parse(bytes: Array(data), path: "fuzz.ipc") else { return }
        let decoder = PayloadDecoder(files: [file])
        for descriptor in file.messageDescriptors.prefix(8) {
            var payload: [UInt8] = []
            MessageEnvelope(magic: descriptor.magic, messageID: descriptor.id).append(to: &payload)
            payload.append(contentsOf: data.prefix(256))
            _ = decoder.decode(payload: payload, attachmentCount: 2)
        }
    }
}
