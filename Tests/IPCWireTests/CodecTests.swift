import TestSupport
import Foundation
import Testing
@testable import IPCWire

/// The AllTypes fixture, its decoder, and helpers to build payloads for its messages.
struct AllTypesCodec {
    let set: SchemaSet
    let decoder: PayloadDecoder

    init() throws {
        set = SchemaSet(files: [try SchemaFixtures.schema("AllTypes")])
        decoder = PayloadDecoder(schemas: set)
    }

    func descriptor(_ name: String) throws -> MessageDescriptor {
        let magic = EndpointMagic.of("AllTypes")
        return try #require(set.endpoint(magic: magic)?.descriptors.first { $0.name == name }, "no message \(name)")
    }

    func encode(_ message: String, _ arguments: [IPCValue]) throws -> IPCEncoder {
        var encoder = IPCEncoder()
        try encoder.encode(message: try descriptor(message), arguments: arguments, types: set.types)
        return encoder
    }

    /// The envelope of `message` followed by whatever `body` writes.
    func payload(_ message: String, _ body: (inout IPCEncoder) -> Void) throws -> [UInt8] {
        var encoder = IPCEncoder()
        let descriptor = try descriptor(message)
        encoder.envelope(magic: descriptor.magic, id: descriptor.id)
        body(&encoder)
        return encoder.bytes
    }
}

private func attachment(_ index: Int, _ kind: AttachmentKind = .file, size: UInt64? = nil) -> IPCValue {
    .attachment(IPCAttachment(index: index, kind: kind, bufferSize: size))
}

private func entry(_ key: IPCValue, _ value: IPCValue) -> IPCMapEntry { IPCMapEntry(key: key, value: value) }

private let sixteenBytes: [UInt8] = Array(0..<16)

/// One value per type of docs/protocol.md §4, each sent through `t_<type>(value)` of AllTypes.ipc.
let codecRoundTripCases: [(String, IPCValue)] = [
    ("t_bool", .bool(1)), ("t_bool", .bool(0)),
    ("t_u8", .unsigned(255)), ("t_i8", .signed(-128)), ("t_u16", .unsigned(65_535)), ("t_i16", .signed(-300)),
    ("t_u32", .unsigned(4_000_000_000)), ("t_i32", .signed(-2_000_000_000)), ("t_u64", .unsigned(.max)),
    ("t_i64", .signed(.min)), ("t_int", .signed(-1)), ("t_unsigned", .unsigned(7)), ("t_size_t", .unsigned(1 << 40)),
    ("t_float", .float(1.5)), ("t_double", .double(-0.25)),
    ("t_byte_string", .string("GET")), ("t_byte_string", .bytes([0xFF, 0x00, 0xC3])), ("t_string", .string("héllo ✓")),
    ("t_string_view", .string("")), ("t_fly_string", .string("fly")), ("t_utf16_string", .string("ascii only")),
    ("t_utf16_string", .string("naïve 🚀")), ("t_utf16_fly_string", .string("x")), ("t_utf16_view", .string("ü")),
    ("t_byte_buffer", .bytes([1, 2, 3])), ("t_readonly_bytes", .bytes([])),
    ("t_vector", .list([.signed(1), .signed(-2)])), ("t_vector", .list([])), ("t_vector_u8", .bytes([9, 8])),
    ("t_span", .list([.unsigned(1)])), ("t_readonly_span", .list([.string("a"), .string("b")])),
    ("t_array", .bytes([1, 2, 3, 4])), ("t_array_of_strings", .list([.string("x"), .string("y")])),
    ("t_hash_map", .map([entry(.string("k"), .list([.present(.unsigned(1)), .absent])), entry(.string("e"), .list([]))])),
    ("t_ordered_hash_map", .map([entry(.unsigned(2), .string("two")), entry(.unsigned(1), .string("one"))])),
    ("t_optional", .absent), ("t_optional", .present(.string("present"))),
    ("t_variant", .variant(index: 0, .empty)), ("t_variant", .variant(index: 1, .signed(5))),
    ("t_variant", .variant(index: 2, .string("s"))), ("t_empty", .empty),
    ("t_duration", .signed(1_500_000_000)), ("t_unix_date_time", .signed(1_700_000_000_000_000_000)),
    ("t_json", .string(#"{"a":[1,2]}"#)), ("t_ipv4", .unsigned(0x0100_007F)), ("t_ipv6", .bytes(sixteenBytes)),
    ("t_url_host", .variant(index: 0, .unsigned(0x0100_007F))), ("t_url_host", .variant(index: 1, .bytes(sixteenBytes))),
    ("t_url_host", .variant(index: 2, .string("example.com"))),
    ("t_url_origin", .structure([.bool(0), .present(.string("https")), .variant(index: 2, .string("example.com")), .present(.unsigned(443)), .absent])),
    ("t_url_origin", .structure([.bool(1), .bytes(sixteenBytes), .enumCase(name: "File", raw: 1)])),
    ("t_url", .structure([.string("https://example.com/a?b"), .bool(0)])),
    ("t_proxy", .structure([.enumCase(name: "SOCKS5", raw: 1), .unsigned(0x0100_007F), .unsigned(9050)])),
    ("t_int_point", .structure([.signed(-1), .signed(2)])), ("t_int_size", .structure([.signed(800), .signed(600)])),
    ("t_int_rect", .structure([.signed(1), .signed(2), .signed(3), .signed(4)])),
    ("t_float_point", .structure([.float(0.5), .float(-2)])), ("t_color", .unsigned(0xFF33_6699)),
    ("t_file", attachment(0)), ("t_anonymous_buffer", attachment(0, .anonymousBuffer, size: 4096)),
    ("t_anonymous_buffer", .absent), ("t_transport_handle", attachment(0, .transportHandle)), ("t_queue", attachment(0, .queue)),
    ("t_enum", .enumCase(name: "Auto", raw: 7)), ("t_enum", .enumCase(name: nil, raw: 3)),
    ("t_signed_enum", .enumCase(name: "Negative", raw: -2)), ("t_plain_enum", .enumCase(name: "C", raw: 2)),
    ("t_alias", .unsigned(42)), ("t_alias_container", .list([.string("n")])), ("t_qualified", .list([.string("q")])),
    ("t_const_ref", .string("c")), ("t_checked", .string("ok")),
    ("t_vector_empty", .list([.empty, .empty])), ("t_vector_files", .list([attachment(0), attachment(1)])),
    ("t_nested", .list([
        .map([
            entry(.unsigned(1), .variant(index: 0, .present(attachment(0)))),
            entry(.unsigned(2), .variant(index: 1, .list([.structure([.signed(1), .signed(2), .signed(3), .signed(4)])]))),
        ]),
        .map([entry(.unsigned(3), .variant(index: 0, .present(attachment(1)))), entry(.unsigned(4), .variant(index: 0, .absent))]),
    ])),
]

@Suite struct CodecWorkedFrameTests {
    let decoder: PayloadDecoder

    init() throws {
        decoder = PayloadDecoder(files: [try SchemaFixtures.schema("WorkedExamples")])
    }

    @Test func decodesIsSupportedProtocolRequest() {
        let message = decoder.decode(
            payload: [0x44, 0x95, 0xC1, 0x4B, 0x0A, 0, 0, 0, 0x04, 0, 0, 0, 0x68, 0x74, 0x74, 0x70], attachmentCount: 0)
        #expect(message.magic == 1_270_977_860 && message.id == 10)
        #expect(message.endpoint == "RequestServer")
        #expect(message.message == "is_supported_protocol")
        #expect(message.kind == .request)
        #expect(message.qualifiedName == "RequestServer::IsSupportedProtocol")
        #expect(message.outcome == .complete(trailingBytes: 0, leftoverAttachments: 0))
        #expect(message.parameters.count == 1)
        #expect(message.parameters.first?.name == "protocol")
        #expect(message.parameters.first?.type == "ByteString")
        #expect(message.parameters.first?.value == .string("http"))
        #expect(message.parameters.first?.byteRange == 8..<16)
    }

    @Test func decodesIsSupportedProtocolResponse() {
        let message = decoder.decode(payload: [0x44, 0x95, 0xC1, 0x4B, 0x0B, 0, 0, 0, 0x01], attachmentCount: 0)
        #expect(message.message == "IsSupportedProtocolResponse")
        #expect(message.kind == .response)
        #expect(message.parameters.map(\.name) == ["supported"])
        #expect(message.parameters.first?.value == .bool(1))
        #expect(message.outcome == .complete(trailingBytes: 0, leftoverAttachments: 0))
    }

    @Test func decodesRequestStartedWithItsFD() {
        let message = decoder.decode(
            payload: [0xA0, 0xA8, 0x90, 0x59, 0x01, 0, 0, 0, 0x07, 0, 0, 0, 0, 0, 0, 0], attachmentCount: 1)
        #expect(message.endpoint == "RequestClient" && message.message == "request_started" && message.kind == .async)
        #expect(message.parameters.map(\.value) == [.unsigned(7), attachment(0)])
        #expect(message.parameters.last?.byteRange == 16..<16)
        #expect(message.attachmentsConsumed == 1)
        #expect(message.outcome == .complete(trailingBytes: 0, leftoverAttachments: 0))
    }

    @Test func encoderWritesTheWorkedFrames() {
        var request = IPCEncoder()
        request.envelope(magic: EndpointMagic.of("RequestServer"), id: 10)
        request.byteString(Array("http".utf8))
        #expect(request.frame() == [0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0x44, 0x95, 0xC1, 0x4B, 0x0A, 0, 0, 0, 0x04, 0, 0, 0, 0x68, 0x74, 0x74, 0x70])

        var response = IPCEncoder()
        response.envelope(magic: EndpointMagic.of("RequestServer"), id: 11)
        response.bool(true)
        #expect(response.frame() == [0, 0, 0, 0, 0x09, 0, 0, 0, 0, 0, 0, 0, 0x44, 0x95, 0xC1, 0x4B, 0x0B, 0, 0, 0, 0x01])

        var started = IPCEncoder()
        started.envelope(magic: EndpointMagic.of("RequestClient"), id: 1)
        started.u64(7)
        started.file(fd: 42)
        #expect(started.attachments == [42])
        #expect(started.frame() == [0, 0, 0, 0, 0x10, 0, 0, 0, 0x01, 0, 0, 0, 0xA0, 0xA8, 0x90, 0x59, 0x01, 0, 0, 0, 0x07, 0, 0, 0, 0, 0, 0, 0])
    }

    @Test func identifiesWhatItCannotDecode() {
        #expect(decoder.decode(payload: [0x44, 0x95, 0xC1], attachmentCount: 0).outcome == .tooShortForEnvelope)
        #expect(decoder.decode(payload: [0x44, 0x95, 0xC1], truePayloadLength: 9, attachmentCount: 0).outcome == .captureEnded(offset: 3))
        let unknownMagic = decoder.decode(payload: [1, 2, 3, 4, 1, 0, 0, 0], attachmentCount: 0)
        #expect(unknownMagic.outcome == .unknownMagic && unknownMagic.magic == 0x0403_0201 && unknownMagic.endpoint == nil)
        for id: [UInt8] in [[0, 0, 0, 0], [12, 0, 0, 0], [0xFF, 0xFF, 0xFF, 0xFF], [0xFF, 0xFF, 0xFF, 0x7F]] {
            let message = decoder.decode(payload: [0x44, 0x95, 0xC1, 0x4B] + id, attachmentCount: 0)
            #expect(message.outcome == .unknownMessageID)
            #expect(message.endpoint == "RequestServer" && message.message == nil)
        }
    }
}

@Suite struct CodecRoundTripTests {
    let codec: AllTypesCodec

    init() throws {
        codec = try AllTypesCodec()
    }

    @Test(arguments: codecRoundTripCases)
    func decodesWhatItEncodes(message: String, value: IPCValue) throws {
        let encoder = try codec.encode(message, [value])
        let decoded = codec.decoder.decode(payload: encoder.bytes, attachmentCount: encoder.attachments.count)
        #expect(decoded.message == message && decoded.kind == .async)
        #expect(decoded.outcome == .complete(trailingBytes: 0, leftoverAttachments: 0))
        #expect(decoded.parameters.count == 1)
        #expect(decoded.parameters.first?.value == value)
        #expect(decoded.parameters.first?.byteRange == 8..<encoder.bytes.count)
        #expect(decoded.attachmentsConsumed == encoder.attachments.count)
    }

    /// Every strict prefix of a valid payload must stop decoding: as the end of the capture when the true
    /// length is known, as a decode error (or a missing envelope) when it is not. Never a complete message.
    @Test(arguments: codecRoundTripCases)
    func everyPrefixStopsCleanly(message: String, value: IPCValue) throws {
        let encoder = try codec.encode(message, [value])
        let full = encoder.bytes
        for length in 0..<full.count {
            let prefix = Array(full.prefix(length))
            let captured = codec.decoder.decode(payload: prefix, truePayloadLength: full.count, attachmentCount: encoder.attachments.count)
            guard case .captureEnded(let offset) = captured.outcome else {
                Issue.record("prefix \(length)/\(full.count) with true length: \(captured.outcome)")
                continue
            }
            #expect(offset <= length)
            let cut = codec.decoder.decode(payload: prefix, attachmentCount: encoder.attachments.count)
            switch cut.outcome {
            case .decodeError(let offset, let reason):
                #expect(offset <= length && reason.contains("truncated"))
            case .tooShortForEnvelope:
                #expect(length < 8)
            default:
                Issue.record("prefix \(length)/\(full.count): \(cut.outcome)")
            }
        }
    }

    @Test func decodesSeveralParametersWithRangesAndFDsInOrder() throws {
        let encoder = try codec.encode("t_several", [
            .unsigned(1), .string("ab"), attachment(7), .present(attachment(8)), attachment(9, .anonymousBuffer, size: 64), .unsigned(0x0102),
        ])
        #expect(encoder.attachments == [7, 8, 9])
        let decoded = codec.decoder.decode(payload: encoder.bytes, attachmentCount: 3)
        #expect(decoded.outcome == .complete(trailingBytes: 0, leftoverAttachments: 0))
        #expect(decoded.parameters.map(\.name) == ["a", "b", "c", "d", "e", "f"])
        #expect(decoded.parameters.map(\.type) == ["u8", "String", "IPC::File", "Optional<IPC::File>", "Core::AnonymousBuffer", "u16"])
        #expect(decoded.parameters.map(\.byteRange) == [8..<9, 9..<15, 15..<15, 15..<16, 16..<25, 25..<27])
        #expect(decoded.parameters.map(\.value) == [
            .unsigned(1), .string("ab"), attachment(0), .present(attachment(1)), attachment(2, .anonymousBuffer, size: 64), .unsigned(0x0102),
        ])
        #expect(decoded.attachmentsConsumed == 3)
    }

    @Test func namesTheChildrenOfContainers() throws {
        let encoder = try codec.encode("t_hash_map", [.map([entry(.string("k"), .list([.present(.unsigned(5))]))])])
        let decoded = codec.decoder.decode(payload: encoder.bytes, attachmentCount: 0)
        let map = try #require(decoded.parameters.first)
        #expect(map.type == "HashMap<String, Vector<Optional<u8>>>")
        let entryNode = try #require(map.children.first)
        #expect(entryNode.name == "[0]" && entryNode.type == "(String, Vector<Optional<u8>>)")
        #expect(entryNode.children.map(\.name) == ["key", "value"])
        #expect(entryNode.children[0].byteRange == 12..<17)
        let optional = try #require(entryNode.children[1].children.first)
        #expect(optional.name == "[0]" && optional.type == "Optional<u8>" && optional.byteRange == 21..<23)
        #expect(optional.children.first?.value == .unsigned(5))

        let rect = codec.decoder.decode(payload: try codec.encode("t_int_rect", [.structure([.signed(1), .signed(2), .signed(3), .signed(4)])]).bytes, attachmentCount: 0)
        #expect(rect.parameters.first?.children.map(\.name) == ["x", "y", "width", "height"])
        #expect(rect.parameters.first?.children.map(\.type) == ["i32", "i32", "i32", "i32"])
    }

    @Test func decodesSyncRequestsAndResponses() throws {
        let request = try codec.descriptor("t_sync")
        let response = try #require(codec.set.message(magic: request.magic, id: request.id + 1))
        #expect(response.name == "TSyncResponse" && response.kind == .response)
        var encoder = IPCEncoder()
        try encoder.encode(message: response, arguments: [.unsigned(9)], types: codec.set.types)
        let decoded = codec.decoder.decode(payload: encoder.bytes, attachmentCount: 0)
        #expect(decoded.message == "TSyncResponse" && decoded.kind == .response)
        #expect(decoded.parameters.map(\.name) == ["y"])
        #expect(decoded.parameters.first?.value == .unsigned(9))
    }

    @Test func keepsOnlyAPrefixOfLongValues() throws {
        let long = Array(repeating: UInt8(0xAB), count: 1000)
        let buffer = codec.decoder.decode(payload: try codec.encode("t_byte_buffer", [.bytes(long)]).bytes, attachmentCount: 0)
        #expect(buffer.parameters.first?.value == .elided(.bytes(Array(long.prefix(256))), totalCount: 1000))
        #expect(buffer.parameters.first?.byteRange == 8..<1012)

        let numbers = (0..<1000).map { IPCValue.signed(Int64($0)) }
        let list = codec.decoder.decode(payload: try codec.encode("t_vector", [.list(numbers)]).bytes, attachmentCount: 0)
        #expect(list.outcome == .complete(trailingBytes: 0, leftoverAttachments: 0))
        #expect(list.parameters.first?.value == .elided(.list(Array(numbers.prefix(256))), totalCount: 1000))

        let text = String(repeating: "é", count: 10_000) // 20 000 bytes
        let string = codec.decoder.decode(payload: try codec.encode("t_string", [.string(text)]).bytes, attachmentCount: 0)
        guard case .elided(.string(let prefix), let total)? = string.parameters.first?.value else {
            Issue.record("expected an elided string, got \(String(describing: string.parameters.first?.value))")
            return
        }
        #expect(total == 20_000 && prefix == String(repeating: "é", count: 8192))
    }

    @Test func reportsTrailingBytesAndLeftoverFDs() throws {
        var payload = try codec.payload("t_u8") { $0.u8(3) }
        payload += [0xEE, 0xEE, 0xEE]
        let decoded = codec.decoder.decode(payload: payload, truePayloadLength: 20, attachmentCount: 2)
        #expect(decoded.outcome == .complete(trailingBytes: 11, leftoverAttachments: 2))
        #expect(decoded.parameters.first?.value == .unsigned(3))
    }

    @Test func keepsRawBoolBytes() throws {
        let decoded = codec.decoder.decode(payload: try codec.payload("t_bool") { $0.u8(5) }, attachmentCount: 0)
        #expect(decoded.outcome.isComplete)
        #expect(decoded.parameters.first?.value == .bool(5))
        #expect(decoded.parameters.first?.value.description == "bool(0x5)")
        // A present flag that is neither 0 nor 1 still means present, as in mainline LibIPC.
        let optional = codec.decoder.decode(payload: try codec.payload("t_optional") { $0.u8(2); $0.string("x") }, attachmentCount: 0)
        #expect(optional.parameters.first?.value == .present(.string("x")))
    }

    @Test func uses64BitVariantIndexFrom255Alternatives() throws {
        let alternatives = Array(repeating: "u8", count: 255).joined(separator: ", ")
        let file = try SchemaParser.parse("endpoint Wide { pick(Variant<\(alternatives)> value) =| }", path: "wide.ipc")
        let decoder = PayloadDecoder(files: [file])
        var encoder = IPCEncoder()
        try encoder.encode(message: file.messageDescriptors[0], arguments: [.variant(index: 254, .unsigned(1))])
        #expect(Array(encoder.bytes.dropFirst(8)) == [254, 0, 0, 0, 0, 0, 0, 0, 1])
        let decoded = decoder.decode(payload: encoder.bytes, attachmentCount: 0)
        #expect(decoded.parameters.first?.value == .variant(index: 254, .unsigned(1)))
    }
}

@Suite struct TransferRecordDecoderTests {
    @Test func decodesAMessagePortRecordAndItsFDs() throws {
        let decoder = PayloadDecoder(files: [])
        var encoder = IPCEncoder()
        encoder.byteBuffer([0x61, 0x62, 0x63]) // serialization record
        encoder.count(2) // two transfer data holders
        encoder.byteBuffer([1, 0xA5])
        encoder.count(1)
        encoder.file(fd: 10)
        encoder.byteBuffer([])
        encoder.count(2)
        encoder.file(fd: 11)
        encoder.file(fd: 12)
        let record = decoder.decodeTransferRecord(payload: encoder.bytes, attachmentCount: 3)
        #expect(record.outcome == .complete(trailingBytes: 0, leftoverAttachments: 0))
        #expect(record.message == "SerializedTransferRecord" && record.magic == nil && record.endpoint == nil)
        #expect(record.parameters.map(\.name) == ["serialization_record", "transfer_data"])
        #expect(record.parameters.map(\.value) == [
            .bytes([0x61, 0x62, 0x63]),
            .list([
                .structure([.bytes([1, 0xA5]), .list([attachment(0)])]),
                .structure([.bytes([]), .list([attachment(1), attachment(2)])]),
            ]),
        ])
        #expect(record.parameters[1].children.first?.children.map(\.name) == ["data", "attachments"])
        #expect(record.attachmentsConsumed == 3)

        let short = decoder.decodeTransferRecord(payload: encoder.bytes, attachmentCount: 1)
        #expect(short.outcome == .decodeError(offset: 29, reason: "missing attachment for IPC::File: the frame carries 1 fd(s)"))
        #expect(decoder.decodeTransferRecord(payload: [], attachmentCount: 0).outcome
            == .decodeError(offset: 0, reason: "truncated: count of Vector<u8> needs 4 bytes, 0 left"))
    }
}

@Suite struct CodecEncodingTests {
    private func bytes(_ value: IPCValue, as type: String) throws(IPCEncodingError) -> [UInt8] {
        var encoder = IPCEncoder()
        try encoder.encode(value, as: type)
        return encoder.bytes
    }

    @Test func writesTheDocumentedLayouts() throws {
        #expect(try bytes(.string("abc"), as: "Utf16String") == [1, 3, 0, 0, 0, 0x61, 0x62, 0x63])
        #expect(try bytes(.string("héllo"), as: "Utf16String") == [0, 5, 0, 0, 0, 0x68, 0, 0xE9, 0, 0x6C, 0, 0x6C, 0, 0x6F, 0])
        #expect(try bytes(.unsigned(0xFF33_6699), as: "Gfx::Color") == [0x99, 0x66, 0x33, 0xFF])
        #expect(try bytes(.unsigned(0x0100_007F), as: "IPv4Address") == [127, 0, 0, 1])
        #expect(try bytes(.structure([.signed(1), .signed(-1), .signed(3), .signed(4)]), as: "Gfx::IntRect")
            == [1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 3, 0, 0, 0, 4, 0, 0, 0])
        #expect(try bytes(.variant(index: 1, .signed(5)), as: "Variant<Empty, i32, String>") == [1, 5, 0, 0, 0])
        #expect(try bytes(.present(.unsigned(0x0102)), as: "Optional<u16>") == [1, 2, 1])
        #expect(try bytes(.absent, as: "Optional<u16>") == [0])
        #expect(try bytes(.unsigned(1), as: "size_t") == [1, 0, 0, 0, 0, 0, 0, 0])
        #expect(try bytes(.bytes([9, 8, 7, 6]), as: "Array<u8, 4>") == [4, 0, 0, 0, 9, 8, 7, 6])
        #expect(try bytes(.signed(-2), as: "AK::Duration") == [0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        #expect(try bytes(.string("x"), as: "URL::URL") == [1, 0, 0, 0, 0x78, 0])
        #expect(try bytes(.variant(index: 2, .string("a")), as: "URL::Host") == [2, 1, 0, 0, 0, 0x61])
        #expect(try bytes(.map([entry(.unsigned(2), .bool(1)), entry(.unsigned(1), .bool(0))]), as: "HashMap<u8, bool>")
            == [2, 0, 0, 0, 2, 1, 1, 0])

        var encoder = IPCEncoder()
        try encoder.encode(attachment(9, .anonymousBuffer, size: 4096), as: "Core::AnonymousBuffer")
        try encoder.encode(attachment(3, .transportHandle), as: "IPC::TransportHandle")
        #expect(encoder.bytes == [1, 0, 0x10, 0, 0, 0, 0, 0, 0])
        #expect(encoder.attachments == [9, 3])
    }

    @Test func builderHelpersMatchTheGenericEncoder() throws {
        var manual = IPCEncoder()
        manual.optional(Optional("hi")) { $0.string($1) }
        manual.vector([1, 2] as [Int32]) { $0.i32($1) }
        manual.variantIndex(1)
        manual.f32(1.5)
        manual.f64(2.5)
        manual.i8(-1)
        manual.i16(-2)
        manual.anonymousBuffer(fd: 5, size: 10)
        manual.invalidAnonymousBuffer()
        manual.transportHandle(fd: 6)
        manual.utf16String("é")
        var generic = IPCEncoder()
        try generic.encode(.present(.string("hi")), as: "Optional<String>")
        try generic.encode(.list([.signed(1), .signed(2)]), as: "Vector<i32>")
        try generic.encode(.variant(index: 1, .float(1.5)), as: "Variant<Empty, float>")
        try generic.encode(.double(2.5), as: "double")
        try generic.encode(.signed(-1), as: "i8")
        try generic.encode(.signed(-2), as: "i16")
        try generic.encode(attachment(5, .anonymousBuffer, size: 10), as: "Core::AnonymousBuffer")
        try generic.encode(.absent, as: "Core::AnonymousBuffer")
        try generic.encode(attachment(6, .transportHandle), as: "IPC::TransportHandle")
        try generic.encode(.string("é"), as: "Utf16View")
        #expect(manual.bytes == generic.bytes)
        #expect(manual.attachments == generic.attachments)
    }

    @Test func rejectsValuesThatDoNotFitTheType() {
        #expect(throws: IPCEncodingError.self) { try bytes(.string("x"), as: "u32") }
        #expect(throws: IPCEncodingError.self) { try bytes(.signed(256), as: "u8") }
        #expect(throws: IPCEncodingError.self) { try bytes(.signed(-1), as: "u64") }
        #expect(throws: IPCEncodingError.self) { try bytes(.unsigned(128), as: "i8") }
        #expect(throws: IPCEncodingError.self) { try bytes(.variant(index: 3, .empty), as: "Variant<Empty, u8>") }
        #expect(throws: IPCEncodingError.self) { try bytes(.structure([.signed(1)]), as: "Gfx::IntPoint") }
        #expect(throws: IPCEncodingError.self) { try bytes(.elided(.bytes([1]), totalCount: 9), as: "ByteBuffer") }
        #expect(throws: IPCEncodingError.self) { try bytes(.unsigned(1), as: "Web::Unknown") }
        #expect(throws: IPCEncodingError.self) { try bytes(.unsigned(1), as: "Vector<") }
        do {
            _ = try bytes(.map([entry(.string("k"), .string("v"))]), as: "HashMap<String, u8>")
            Issue.record("expected an error")
        } catch {
            #expect(error.path == "[0].value")
        }
    }
}

@Suite struct CodecErrorTests {
    let codec: AllTypesCodec

    init() throws {
        codec = try AllTypesCodec()
    }

    private func decode(_ payload: [UInt8], attachments: Int = 0) -> DecodedMessage {
        codec.decoder.decode(payload: payload, attachmentCount: attachments)
    }

    @Test func rejectsInvalidUTF8InStrings() throws {
        let message = decode(try codec.encode("t_string", [.bytes([0x66, 0xFF])]).bytes)
        #expect(message.outcome == .decodeError(offset: 13, reason: "invalid UTF-8 in String at byte 1"))
        #expect(message.parameters.isEmpty)
        let checked = decode(try codec.encode("t_checked", [.bytes([0xC3])]).bytes)
        guard case .decodeError(12, let reason) = checked.outcome else {
            Issue.record("expected a decode error for [UTF8], got \(checked.outcome)")
            return
        }
        #expect(reason.contains("invalid UTF-8"))
        // A ByteString without [UTF8] may hold any bytes.
        #expect(decode(try codec.encode("t_byte_string", [.bytes([0xC3])]).bytes).outcome.isComplete)
    }

    @Test func rejectsNonASCIIBytesInAnASCIIUtf16String() throws {
        let message = decode(try codec.payload("t_utf16_string") { $0.bool(true); $0.count(2); $0.bytes([0x61, 0x80]) })
        #expect(message.outcome == .decodeError(offset: 14, reason: "Utf16String flagged ASCII has byte 0x80"))
    }

    @Test func rejectsBadVariantIndexAndArrayCount() throws {
        let variant = decode(try codec.payload("t_variant") { $0.u8(3) })
        #expect(variant.outcome == .decodeError(offset: 8, reason: "variant index 3 out of range for Variant<Empty, i32, String> (3 alternatives)"))
        let array = decode(try codec.encode("t_array", [.bytes([1, 2, 3])]).bytes)
        #expect(array.outcome == .decodeError(offset: 8, reason: "Array<u8, 4> has count 3, expected 4"))
        let host = decode(try codec.payload("t_url_host") { $0.u8(3) })
        guard case .decodeError(8, _) = host.outcome else {
            Issue.record("expected a bad URL::Host index, got \(host.outcome)")
            return
        }
    }

    @Test func rejectsMissingAttachments() throws {
        let file = decode(try codec.encode("t_file", [attachment(0)]).bytes, attachments: 0)
        #expect(file.outcome == .decodeError(offset: 8, reason: "missing attachment for IPC::File: the frame carries 0 fd(s)"))
        let several = decode(try codec.encode("t_vector_files", [.list([attachment(0), attachment(1), attachment(2)])]).bytes, attachments: 2)
        #expect(several.outcome == .decodeError(offset: 12, reason: "missing attachment for IPC::File: the frame carries 2 fd(s)"))
        #expect(several.attachmentsConsumed == 2)
    }

    @Test func stopsAtUnknownTypesWithoutGuessing() throws {
        let payload = try codec.payload("t_unknown") { $0.u32(1); $0.u32(2); $0.u32(3) }
        let message = decode(payload)
        #expect(message.outcome == .undecoded(offset: 12, reason: "unknown type 'Web::Unknown'"))
        #expect(message.parameters.map(\.name) == ["before"])
        #expect(message.parameters.first?.value == .unsigned(1))
    }

    @Test func stopsAtURLBlobEntries() throws {
        let message = decode(try codec.payload("t_url") { $0.string("blob:x"); $0.bool(true); $0.u8(1) })
        #expect(message.outcome == .undecoded(offset: 19, reason: "URL blob entries are not decoded"))
    }

    @Test func reportsTheEndOfTheCaptureAndTruncation() throws {
        let full = try codec.encode("t_string", [.string("hello world")]).bytes
        let captured = codec.decoder.decode(payload: Array(full.prefix(14)), truePayloadLength: full.count, attachmentCount: 0)
        #expect(captured.outcome == .captureEnded(offset: 12))
        let truncated = decode(Array(full.prefix(14)))
        #expect(truncated.outcome == .decodeError(offset: 12, reason: "truncated: String needs 11 bytes, 2 left"))
        // A length longer than even the true payload is a decode error, capture or not.
        let lying = try codec.payload("t_string") { $0.count(100); $0.bytes([0x61]) }
        #expect(codec.decoder.decode(payload: lying, truePayloadLength: 20, attachmentCount: 0).outcome
            == .decodeError(offset: 12, reason: "truncated: String needs 100 bytes, 8 left"))
    }

    @Test func reportsSizesOverTheDecoderLimitAsViolations() throws {
        let message = decode(try codec.payload("t_string") { $0.count(64 * 1024 * 1024 + 1) })
        #expect(message.outcome == .violation(Violation(
            kind: .decodedSizeTooLarge, limit: Limits.maxDecodedSize, observed: 64 * 1024 * 1024 + 1, streamOffset: 8)))
        let nested = decode(try codec.payload("t_hash_map") { $0.count(1); $0.string("k"); $0.count(.max) })
        guard case .violation(let violation) = nested.outcome else {
            Issue.record("expected a violation, got \(nested.outcome)")
            return
        }
        #expect(violation.streamOffset == 17 && violation.observed == UInt64(UInt32.max))
    }

    // Bounded work by construction, not by a stopwatch: a count is checked against the bytes left before
    // anything is allocated or iterated (the truncation reasons below name both), and elements that take no
    // bytes are capped by the decoder's value budget (the `more than 20000` outcome).
    @Test func hugeCountsInSmallPayloadsCostNothing() throws {
        let maxCount = UInt32(Limits.maxDecodedSize)
        let padding = Array(repeating: UInt8(0), count: 4096)
        do {
            let numbers = decode(try codec.payload("t_vector") { $0.count(maxCount); $0.bytes(padding) })
            #expect(numbers.outcome == .decodeError(offset: 12, reason: "truncated: Vector<i32> needs 268435456 bytes, 4096 left"))
            let strings = decode(try codec.payload("t_readonly_span") { $0.count(maxCount); $0.bytes(padding) })
            guard case .decodeError(_, let reason) = strings.outcome else {
                Issue.record("expected truncation, got \(strings.outcome)")
                return
            }
            #expect(reason.contains("truncated"))
            let empties = decode(try codec.payload("t_vector_empty") { $0.count(maxCount) })
            #expect(empties.outcome == .undecoded(offset: 12, reason: "too many values (more than 20000 in one message)"))
            let files = decode(try codec.payload("t_vector_files") { $0.count(maxCount) }, attachments: 3)
            #expect(files.outcome == .decodeError(offset: 12, reason: "missing attachment for IPC::File: the frame carries 3 fd(s)"))
            let maps = decode(try codec.payload("t_hash_map") { $0.count(maxCount); $0.bytes(padding) })
            #expect(!maps.outcome.isComplete)
            let utf16 = decode(try codec.payload("t_utf16_string") { $0.bool(false); $0.count(maxCount) })
            #expect(utf16.outcome == .decodeError(offset: 13, reason: "truncated: Utf16String needs 134217728 bytes, 0 left"))
        }
    }

    @Test func limitsNestingThroughRecursiveAliases() throws {
        let file = try SchemaParser.parse("""
            // @ipcscope type Deep::R = Vector<Deep::R>
            // @ipcscope type Deep::A = Deep::B
            // @ipcscope type Deep::B = Deep::A
            endpoint Deep { recurse(Deep::R value) =|
                cycle(Deep::A value) =| }
            """, path: "deep.ipc")
        let set = SchemaSet(files: [file])
        #expect(set.issues.contains { $0.message.contains("alias cycle") })
        let decoder = PayloadDecoder(schemas: set)
        var deep = IPCEncoder()
        deep.envelope(magic: EndpointMagic.of("Deep"), id: 1)
        for _ in 0..<1000 { deep.count(1) }
        guard case .undecoded(let offset, let reason) = decoder.decode(payload: deep.bytes, attachmentCount: 0).outcome else {
            Issue.record("expected undecoded")
            return
        }
        #expect(reason == "values nested deeper than 64")
        #expect(offset == 8 + 65 * 4)
        var shallow = IPCEncoder()
        shallow.envelope(magic: EndpointMagic.of("Deep"), id: 1)
        for _ in 0..<10 { shallow.count(1) }
        shallow.count(0)
        #expect(decoder.decode(payload: shallow.bytes, attachmentCount: 0).outcome.isComplete)

        var cycle = IPCEncoder()
        cycle.envelope(magic: EndpointMagic.of("Deep"), id: 2)
        #expect(decoder.decode(payload: cycle.bytes, attachmentCount: 0).outcome == .undecoded(offset: 8, reason: "alias cycle through 'Deep::A'"))
    }

    @Test func neverTrapsOnRandomPayloads() {
        var random = SplitMix64(seed: 0xC0DEC)
        let magic = EndpointMagic.of("AllTypes")
        let messageCount = UInt64(codec.set.endpoint(magic: magic)?.descriptors.count ?? 1)
        var outcomes: [String: Int] = [:]
        for round in 0..<20_000 {
            var payload: [UInt8] = []
            withUnsafeBytes(of: (round % 50 == 0 ? UInt32(truncatingIfNeeded: random.next()) : magic).littleEndian) { payload += $0 }
            withUnsafeBytes(of: Int32(truncatingIfNeeded: random.next() % (messageCount + 2)).littleEndian) { payload += $0 }
            let length = Int(random.next() % 48)
            for _ in 0..<length {
                // Small numbers make plausible counts and flags; the rest is noise.
                payload.append(random.next() % 3 == 0 ? UInt8(random.next() % 4) : UInt8(truncatingIfNeeded: random.next()))
            }
            let attachments = Int(random.next() % 3)
            let trueLength: Int? = round % 4 == 0 ? payload.count + Int(random.next() % 64) : nil
            let message = codec.decoder.decode(payload: payload, truePayloadLength: trueLength, attachmentCount: attachments)
            #expect(message.attachmentsConsumed <= attachments)
            for parameter in message.parameters {
                #expect(parameter.byteRange.lowerBound >= 8 && parameter.byteRange.upperBound <= (trueLength ?? payload.count))
            }
            let key: String
            switch message.outcome {
            case .complete(let trailing, let leftover):
                #expect(trailing >= 0 && leftover >= 0)
                key = "complete"
            case .captureEnded(let offset):
                #expect(trueLength != nil && offset <= payload.count)
                key = "captureEnded"
            case .decodeError(let offset, _), .undecoded(let offset, _):
                #expect(offset >= 8 && offset <= (trueLength ?? payload.count))
                key = "stopped"
            case .violation(let violation):
                #expect(violation.kind == .decodedSizeTooLarge)
                key = "violation"
            case .tooShortForEnvelope, .unknownMagic, .unknownMessageID:
                key = "unidentified"
            }
            outcomes[key, default: 0] += 1
        }
        #expect(outcomes.count == 5, "\(outcomes)")
    }
}
