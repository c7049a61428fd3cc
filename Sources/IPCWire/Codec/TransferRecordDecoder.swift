/// The layout of a MessagePort transport frame (docs/protocol.md §6): no envelope, one `SerializedTransferRecord`
/// per payload, whose fds are the record's attachments.
enum TransferRecordLayout {
    /// A built-in name for one transfer data holder: u32 length + bytes, then `Vector<IPC::File>`
    /// (a u32 attachment count, each attachment one fd).
    static let holderName = "ipcscope::TransferDataHolder"
    static let bytes = TypeReference("Vector", arguments: [TypeReference("u8")])
    static let files = TypeReference("Vector", arguments: [TypeReference("IPC::File")])
    static let holders = TypeReference("Vector", arguments: [TypeReference(holderName)])

    /// The record's two parts, decoded as the message's parameters.
    static let parameters = [
        Parameter(name: "serialization_record", type: bytes),
        Parameter(name: "transfer_data", type: holders),
    ]
    static let messageName = "SerializedTransferRecord"
}

extension PayloadDecoder {
    /// Decodes a payload of a MessagePort transport: `serialization_record` (the structured-serialize bytes)
    /// and `transfer_data` (one `data` + `attachments` structure per transferred object). There is no envelope,
    /// so `magic`, `id`, `endpoint` and `kind` stay nil.
    public func decodeTransferRecord(payload: UnsafeRawBufferPointer, truePayloadLength: Int? = nil, attachmentCount: Int) -> DecodedMessage {
        let trueLength = max(truePayloadLength ?? payload.count, payload.count)
        var result = DecodedMessage(message: TransferRecordLayout.messageName, outcome: .tooShortForEnvelope)
        decodeParameters(
            zip(TransferRecordLayout.parameters, transferRecordEdges), from: payload, at: 0,
            trueLength: trueLength, attachmentCount: attachmentCount, into: &result)
        return result
    }

    public func decodeTransferRecord(payload: [UInt8], truePayloadLength: Int? = nil, attachmentCount: Int) -> DecodedMessage {
        payload.withUnsafeBytes {
            decodeTransferRecord(payload: $0, truePayloadLength: truePayloadLength, attachmentCount: attachmentCount)
        }
    }
}
