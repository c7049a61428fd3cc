/// Decodes endpoint message payloads against a set of `.ipc` schemas: identifies the message by its
/// envelope (magic, id) and decodes its parameters in declaration order (docs/protocol.md §3–4).
///
/// Built once per schema set (all types are resolved up front); `decode` is then free of lookups by name
/// and safe to call from any thread.
public struct PayloadDecoder: Sendable {
    public let schemas: SchemaSet
    public let limits: DecodingLimits

    private struct CompiledMessage: Sendable {
        var descriptor: MessageDescriptor
        var edges: [DecodePlan.Edge]
    }

    private struct CompiledEndpoint: Sendable {
        var name: String
        /// `messages[id - 1]` is message `id`.
        var messages: [CompiledMessage]
    }

    let plan: DecodePlan
    let builtins: BuiltinEdges
    let transferRecordEdges: [DecodePlan.Edge]
    private let endpointsByMagic: [UInt32: CompiledEndpoint]

    public init(schemas: SchemaSet, limits: DecodingLimits = DecodingLimits()) {
        var plan = DecodePlan(types: schemas.types)
        builtins = BuiltinEdges(plan: &plan)
        transferRecordEdges = TransferRecordLayout.parameters.map { plan.edge(for: $0.type) }
        var endpointsByMagic: [UInt32: CompiledEndpoint] = [:]
        for (magic, indexed) in schemas.endpointsByMagic {
            let messages = indexed.descriptors.map { descriptor in
                CompiledMessage(descriptor: descriptor, edges: descriptor.parameters.map { plan.edge(for: $0.type) })
            }
            endpointsByMagic[magic] = CompiledEndpoint(name: indexed.endpoint.name, messages: messages)
        }
        self.schemas = schemas
        self.limits = limits
        self.plan = plan
        self.endpointsByMagic = endpointsByMagic
    }

    public init(files: [SchemaFile], limits: DecodingLimits = DecodingLimits()) {
        self.init(schemas: SchemaSet(files: files), limits: limits)
    }

    public func decode(payload: [UInt8], truePayloadLength: Int? = nil, attachmentCount: Int) -> DecodedMessage {
        payload.withUnsafeBytes { decode(payload: $0, truePayloadLength: truePayloadLength, attachmentCount: attachmentCount) }
    }

    /// - Parameters:
    ///   - payload: the payload bytes as captured (envelope first).
    ///   - truePayloadLength: the frame's `payload_size` when the capture kept fewer bytes than that.
    ///   - attachmentCount: the frame's `fd_count`.
    public func decode(payload: UnsafeRawBufferPointer, truePayloadLength: Int? = nil, attachmentCount: Int) -> DecodedMessage {
        let trueLength = max(truePayloadLength ?? payload.count, payload.count)
        guard let envelope = MessageEnvelope(payload: payload) else {
            return DecodedMessage(outcome: trueLength >= MessageEnvelope.size
                ? .captureEnded(offset: payload.count) : .tooShortForEnvelope)
        }
        var result = DecodedMessage(magic: envelope.magic, id: envelope.messageID, outcome: .unknownMagic)
        guard let endpoint = endpointsByMagic[envelope.magic] else { return result }
        result.endpoint = endpoint.name
        let index = Int(envelope.messageID) - 1
        guard endpoint.messages.indices.contains(index) else {
            result.outcome = .unknownMessageID
            return result
        }
        let message = endpoint.messages[index]
        result.message = message.descriptor.name
        result.kind = message.descriptor.kind

        decodeParameters(
            zip(message.descriptor.parameters, message.edges), from: payload, at: MessageEnvelope.size,
            trueLength: trueLength, attachmentCount: attachmentCount, into: &result)
        return result
    }

    /// Decodes `parameters` in order from `offset`, filling the result's parameters, outcome and attachments.
    func decodeParameters(
        _ parameters: some Sequence<(Parameter, DecodePlan.Edge)>, from payload: UnsafeRawBufferPointer, at offset: Int,
        trueLength: Int, attachmentCount: Int, into result: inout DecodedMessage
    ) {
        var decoder = ValueDecoder(
            plan: plan, builtins: builtins, limits: limits, attachmentCount: max(0, attachmentCount),
            reader: PayloadReader(bytes: payload, trueLength: trueLength, offset: offset))
        do {
            for (parameter, edge) in parameters {
                result.parameters.append(try decoder.decodeParameter(parameter, edge: edge))
            }
            result.outcome = .complete(
                trailingBytes: trueLength - decoder.reader.offset,
                leftoverAttachments: max(0, attachmentCount - decoder.attachmentsConsumed))
        } catch {
            result.outcome = error.outcome
        }
        result.attachmentsConsumed = decoder.attachmentsConsumed
    }
}
