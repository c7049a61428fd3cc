import Foundation
import IPCWire
import TestSupport
import Testing

/// `@ipcscope struct`, `variant` and `opaque`, multi-line declarations, and round trips through
/// IPCEncoder and PayloadDecoder of every message of the fixtures and of every type of the Ladybird pack.
@Suite struct StructDeclarationTests {
    @Test func parsesStructsVariantsAndOpaqueTypesOverSeveralLines() throws {
        let file = try SchemaFixtures.schema("Structs")
        let byName = Dictionary(uniqueKeysWithValues: file.typeDeclarations.map { ($0.name, $0) })
        guard case .structure(let bitmap)? = byName["Fixture::Bitmap"] else { Issue.record("no struct Bitmap"); return }
        #expect(bitmap.fields.map(\.name) == ["buffer", "size", "format"])
        #expect(bitmap.fields.map(\.type.spelling) == ["IPC::File", "Gfx::IntSize", "u32"])
        #expect(bitmap.location.line == 4)
        guard case .structure(let request)? = byName["Fixture::Request"] else { Issue.record("no struct Request"); return }
        #expect(request.fields.map(\.name) == ["url", "id", "headers", "priority", "body"])
        guard case .taggedUnion(let answer)? = byName["Fixture::Answer"] else { Issue.record("no variant Answer"); return }
        #expect(answer.tag == .u32)
        #expect(answer.cases.map(\.tag) == [7, 9])
        #expect(answer.cases.map(\.name) == ["nothing", "bitmaps"])
        guard case .opaque(let serialized)? = byName["Fixture::Serialized"] else { Issue.record("no opaque"); return }
        #expect(serialized.reason == "length-prefixed blob of nested encodings")
        // The endpoint after the multi-line declarations is still found, on its own line.
        #expect(file.endpoints.map(\.name) == ["StructFixture"])
        #expect(file.endpoints[0].location.line == 18)
    }

    @Test(arguments: [
        ("// @ipcscope struct A { u32 x;\n//   u32 }\nendpoint E { m() =| }", "expected a field name after type 'u32' in struct 'A', found '}'", 2, 10),
        ("// @ipcscope struct A { u32 x;\nendpoint E { m() =| }", "expected a type, found end of file", 1, 31),
        ("// @ipcscope struct A { u32 x; u8 x }", "duplicate field 'x' in struct 'A'", 1, 32),
        ("// @ipcscope variant A : u8 { 0 = u8, 0 = u16 }", "duplicate tag 0 in variant 'A'", 1, 39),
        ("// @ipcscope variant A : u8 { 300 = u8 }", "tag 300 does not fit u8", 1, 31),
        ("// @ipcscope variant A { 0 = u8 }", "expected ':' and the tag type after variant 'A'", 1, 24),
        ("// @ipcscope variant A : String { 0 = u8 }", "tag of variant 'A' must be an integer type or bool", 1, 26),
        ("// @ipcscope opaque A why", "expected a quoted reason after opaque 'A'", 1, 23),
        ("// @ipcscope opaque A \"why", "unterminated reason of opaque 'A'", 1, 23),
        ("// @ipcscope union A { }", "expected 'enum', 'type', 'struct', 'variant' or 'opaque'", 1, 14),
        ("// @ipcscope enum A : u8 {\n//  X = 1,\n//  Y = 300 }", "value 300 of case 'Y' does not fit u8", 3, 5),
    ])
    func reportsErrorsWhereTheyAre(_ source: String, _ message: String, _ line: Int, _ column: Int) {
        do {
            _ = try SchemaParser.parse(source, path: "bad.ipc")
            Issue.record("parsed: \(source)")
        } catch {
            #expect(error.message.contains(message), "\(error)")
            #expect((error.location.line, error.location.column) == (line, column), "\(error)")
        }
    }

    @Test func multiLineEnumsAndRoutedEndpointsParse() throws {
        let file = try SchemaParser.parse("""
            // @ipcscope enum A : u8 {
            //     X = 1,
            //     Y
            // }
            // not a declaration
            endpoint Routed routed by Compositing::PageId page_id
            {
                [NotRouted] hello(Compositing::PageId page_id, A a) =|
            }
            """, path: "routed.ipc")
        guard case .enumeration(let a)? = file.typeDeclarations.first else { Issue.record("no enum"); return }
        #expect(a.cases.map(\.value) == [1, 2])
        #expect(file.endpoints[0].routing?.name == "page_id")
        #expect(file.endpoints[0].routing?.type.spelling == "Compositing::PageId")
        #expect(file.endpoints[0].messages[0].attributes == ["NotRouted"])
        #expect(file.endpoints[0].messages[0].parameters.map(\.name) == ["page_id", "a"])
    }

    @Test func decodesStructFieldsAndTheFdsInsideThem() throws {
        let set = SchemaSet(files: [try SchemaFixtures.schema("Structs")])
        let descriptor = try #require(set.files[0].messageDescriptors.first { $0.name == "send_request" })
        let request = IPCValue.structure([
            .structure([.string("https://example.com/"), .bool(0)]),
            .present(.unsigned(42)),
            .list([.structure([.string("Accept"), .string("*/*")])]),
            .enumCase(name: "High", raw: 2),
            .attachment(IPCAttachment(index: 0, kind: .anonymousBuffer, bufferSize: 4096)),
        ])
        let bitmaps = IPCValue.list([
            .structure([.attachment(IPCAttachment(index: 1, kind: .file)), .structure([.signed(3), .signed(4)]), .unsigned(1)]),
            .structure([.attachment(IPCAttachment(index: 2, kind: .file)), .structure([.signed(5), .signed(6)]), .unsigned(2)]),
        ])
        var encoder = IPCEncoder()
        try encoder.encode(message: descriptor, arguments: [request, bitmaps], types: set.types)
        #expect(encoder.attachments == [0, 1, 2])
        let decoded = PayloadDecoder(schemas: set).decode(payload: encoder.bytes, attachmentCount: 3)
        #expect(decoded.outcome == .complete(trailingBytes: 0, leftoverAttachments: 0), "\(decoded.outcome)")
        #expect(decoded.parameters.map(\.value) == [request, bitmaps])
        #expect(decoded.attachmentsConsumed == 3)
        // Field by field: names and byte ranges come from the declaration.
        let fields = decoded.parameters[0].children
        #expect(fields.map(\.name) == ["url", "id", "headers", "priority", "body"])
        #expect(fields.map(\.type) == ["URL::URL", "Optional<u64>", "Vector<Fixture::Header>", "Fixture::Priority", "Core::AnonymousBuffer"])
        let firstBitmap = decoded.parameters[1].children[0]
        #expect(firstBitmap.children.map(\.name) == ["buffer", "size", "format"])
        #expect(firstBitmap.children[0].value == .attachment(IPCAttachment(index: 1, kind: .file)))
        // Header fields are contiguous and cover the whole structure.
        let header = fields[2].children[0]
        #expect(header.children[0].byteRange.upperBound == header.children[1].byteRange.lowerBound)
        #expect(header.byteRange == header.children[0].byteRange.lowerBound..<header.children[1].byteRange.upperBound)
    }

    @Test func aTaggedUnionWritesItsOwnTagAndAnUndeclaredTagStopsDecoding() throws {
        let set = SchemaSet(files: [try SchemaFixtures.schema("Structs")])
        let descriptor = try #require(set.files[0].messageDescriptors.first { $0.name == "reply" })
        var encoder = IPCEncoder()
        try encoder.encode(
            message: descriptor,
            arguments: [.variant(index: 1, .structure([.unsigned(404), .string("gone")])), .variant(index: 7, .empty)],
            types: set.types)
        // u8 tag 1, u32 code, String; then u32 tag 7 and nothing.
        #expect(Array(encoder.bytes[8...]) == [1, 0x94, 1, 0, 0, 4, 0, 0, 0] + Array("gone".utf8) + [7, 0, 0, 0])
        let decoder = PayloadDecoder(schemas: set)
        let decoded = decoder.decode(payload: encoder.bytes, attachmentCount: 0)
        #expect(decoded.outcome.isComplete)
        #expect(decoded.parameters[0].children.map(\.name) == ["error"])

        var bad = encoder.bytes
        bad[8] = 5  // no case 5
        #expect(decoder.decode(payload: bad, attachmentCount: 0).outcome == .undecoded(offset: 8, reason: "tag 5 is not a declared case of Fixture::Reply"))
        #expect(throws: IPCEncodingError.self) {
            var other = IPCEncoder()
            try other.encode(.variant(index: 2, .empty), as: "Fixture::Reply", types: set.types)
        }
    }

    @Test func decodingStopsAtAnOpaqueTypeWithItsReason() throws {
        let set = SchemaSet(files: [try SchemaFixtures.schema("Structs")])
        var encoder = IPCEncoder()
        let descriptor = try #require(set.files[0].messageDescriptors.first { $0.name == "serialized" })
        encoder.envelope(magic: descriptor.magic, id: descriptor.id)
        encoder.u32(7)
        encoder.byteBuffer([1, 2, 3])
        let decoded = PayloadDecoder(schemas: set).decode(payload: encoder.bytes, attachmentCount: 0)
        #expect(decoded.parameters.map(\.name) == ["before"])
        #expect(decoded.outcome == .undecoded(
            offset: 12, reason: "'Fixture::Serialized' is not declarable: length-prefixed blob of nested encodings"))
        let coverage = SchemaCoverage(schemas: set)
        #expect(coverage.unresolved.map(\.name) == ["Fixture::Serialized"])
        #expect(coverage.messages == 5 && coverage.decodableMessages == 4)
    }

    /// Every message of every fixture: random values encoded by IPCEncoder decode back to the same values,
    /// field by field, with every fd taken in order.
    @Test(arguments: ["AllTypes", "WorkedExamples", "Grammar", "Structs"])
    func everyFixtureMessageRoundTrips(_ fixture: String) throws {
        var files = [try SchemaFixtures.schema(fixture)]
        if fixture == "AllTypes" { files.append(try SchemaFixtures.schema("SharedTypes")) }
        let set = SchemaSet(files: files)
        try RoundTrip.everyMessage(of: set, seed: 0x5EED_0000 + UInt64(fixture.utf8.count))
    }

    /// One message per type the Ladybird pack declares (its own examples): each round-trips too.
    @Test func everyTypeOfTheLadybirdPackRoundTrips() throws {
        let pack = TypePack.ladybird
        #expect(pack.parseError == nil, "\(String(describing: pack.parseError))")
        let file = try #require(pack.file)
        let declarable = file.typeDeclarations.filter { if case .opaque = $0 { false } else { true } }
        #expect(declarable.count > 0)
        let text = "endpoint LadybirdPackExamples {\n"
            + declarable.enumerated().map { "    example_\($0.offset)(\($0.element.name) value) =|\n" }.joined() + "}\n"
        let examples = try SchemaParser.parse(text, path: "examples.ipc")
        let set = SchemaSet(files: [examples])
        #expect(set.loadedTypePacks.map(\.name) == ["ladybird"])
        let coverage = SchemaCoverage(schemas: set)
        #expect(coverage.unresolved.isEmpty, "\(coverage.unresolved)")
        try RoundTrip.everyMessage(of: set, seed: 0x1AD1_B12D, rounds: 8)
    }

    /// The pack's layouts are Ladybird's facts, so they are pinned byte for byte here (a round trip alone
    /// would pass with any self-consistent declaration): WebDriver::Response's u8 ResponseType then the
    /// Error's fields, HistoryStepResult's last case (Applied = 6) in 4 bytes, Web::PageId in 8 bytes.
    @Test func theLadybirdPackEncodesAsLadybirdsEncoders() throws {
        let text = """
            endpoint PackLayouts {
                response(Web::WebDriver::Response response) =|
                step(Web::HTML::HistoryStepResult result, Web::PageId page_id, HTTP::Header header) =|
            }
            """
        let set = SchemaSet(files: [try SchemaParser.parse(text, path: "layouts.ipc")])
        #expect(SchemaCoverage(schemas: set).unresolved.isEmpty)
        let descriptors = set.files[0].messageDescriptors
        let error = IPCValue.variant(index: 1, .structure([
            .unsigned(404), .string("no such window"), .string("gone"), .absent,
        ]))
        var encoder = IPCEncoder()
        try encoder.encode(message: descriptors[0], arguments: [error], types: set.types)
        let expected: [UInt8] = [1, 0x94, 1, 0, 0, 14, 0, 0, 0] + Array("no such window".utf8) + [4, 0, 0, 0]
            + Array("gone".utf8) + [0]
        #expect(Array(encoder.bytes[8...]) == expected)
        let decoder = PayloadDecoder(schemas: set)
        let decoded = decoder.decode(payload: encoder.bytes, attachmentCount: 0)
        #expect(decoded.outcome == .complete(trailingBytes: 0, leftoverAttachments: 0))
        #expect(decoded.parameters[0].value == error)
        #expect(decoded.parameters[0].children.map(\.name) == ["error"])

        var success = IPCEncoder()
        try success.encode(message: descriptors[0], arguments: [.variant(index: 0, .string("{}"))], types: set.types)
        #expect(Array(success.bytes[8...]) == [0, 2, 0, 0, 0] + Array("{}".utf8))

        var step = IPCEncoder()
        try step.encode(message: descriptors[1],
                        arguments: [.enumCase(name: "Applied", raw: 6), .unsigned(7), .structure([.string("a"), .string("b")])],
                        types: set.types)
        #expect(Array(step.bytes[8...]) == [6, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x61, 1, 0, 0, 0, 0x62])
        let stepDecoded = decoder.decode(payload: step.bytes, attachmentCount: 0)
        #expect(stepDecoded.outcome == .complete(trailingBytes: 0, leftoverAttachments: 0))
        #expect(stepDecoded.parameters[0].value == .enumCase(name: "Applied", raw: 6))
    }

    /// The biggest struct of the third pass, pinned to ReplicatedNavigableState.cpp's encoder: 18 fields in
    /// encode order, inside RemoteNavigableDescriptor (id, Optional parent id, state), with OpenerPolicy's four
    /// fields, ReplicatedContainerState's five, SandboxingFlagSet as u32 and ReferrerPolicy as i32. URL and
    /// Origin are built-ins; their bytes come from the encoder of those types.
    @Test func remoteNavigableDescriptorEncodesAsLadybirdsEncoder() throws {
        let text = """
            endpoint PackLayouts {
                insert(Web::HTML::RemoteNavigableDescriptor navigable) =|
            }
            """
        let set = SchemaSet(files: [try SchemaParser.parse(text, path: "layouts.ipc")])
        #expect(SchemaCoverage(schemas: set).unresolved.isEmpty)
        let url = IPCValue.structure([.string("https://a.example/"), .bool(0)])
        let topURL = IPCValue.structure([.string("https://b.example/"), .bool(0)])
        let origin = IPCValue.structure([.bool(1), .bytes(Array(0..<16)), .enumCase(name: "Standard", raw: 0)])
        let openerPolicy = IPCValue.structure([
            .enumCase(name: "SameOrigin", raw: 2), .present(.string("coop")), .enumCase(name: "UnsafeNone", raw: 0), .absent,
        ])
        let container = IPCValue.structure([
            .bool(1), .unsigned(0x21), .unsigned(0x1_0000), .present(.string("iframe")),
            .enumCase(name: "StrictOriginWhenCrossOrigin", raw: 7),
        ])
        let state = IPCValue.structure([
            .string("frame"), url, origin, .bool(1), topURL, origin, .bool(0), .present(.unsigned(9)), openerPolicy,
            .bool(0), .bool(1), .present(.structure([.unsigned(3), .unsigned(4)])), .bool(1), .bool(0), container,
            .bool(1), .bool(0), .present(.unsigned(77)),
        ])
        let descriptor = IPCValue.structure([.structure([.unsigned(1), .unsigned(2)]), .absent, state])
        var encoder = IPCEncoder()
        try encoder.encode(message: set.files[0].messageDescriptors[0], arguments: [descriptor], types: set.types)

        var expected = IPCEncoder()
        expected.u64(1); expected.u64(2)  // id: CrossProcessId
        expected.bool(false)  // parent_id: absent
        expected.utf16String("frame")  // target_name
        expected.string("https://a.example/"); expected.bool(false)  // active_document_url
        try expected.encode(origin, as: "URL::Origin", types: set.types)
        expected.bool(true)  // active_document_is_fully_active
        expected.string("https://b.example/"); expected.bool(false)  // top_level_creation_url
        try expected.encode(origin, as: "URL::Origin", types: set.types)
        expected.bool(false)  // has_cross_site_ancestor
        expected.bool(true); expected.u64(9)  // browsing_context_group_id
        expected.i32(2); expected.bool(true); expected.utf16String("coop"); expected.i32(0); expected.bool(false)  // opener_policy
        expected.bool(false); expected.bool(true)  // auxiliary, has_opener
        expected.bool(true); expected.u64(3); expected.u64(4)  // opener_navigable_id
        expected.bool(true); expected.bool(false)  // completely_loaded, is_closing
        expected.bool(true); expected.u32(0x21); expected.u32(0x1_0000); expected.bool(true); expected.utf16String("iframe")
        expected.i32(7)  // container
        expected.bool(true); expected.bool(false)  // delays_the_load_event…, has_session_history_entry…
        expected.bool(true); expected.u64(77)  // compositor_context_id
        #expect(Array(encoder.bytes[8...]) == expected.bytes)

        let decoded = PayloadDecoder(schemas: set).decode(payload: encoder.bytes, attachmentCount: 0)
        #expect(decoded.outcome == .complete(trailingBytes: 0, leftoverAttachments: 0))
        #expect(decoded.parameters[0].value == descriptor)
        #expect(decoded.parameters[0].children.map(\.name) == ["id", "parent_id", "replicated_state"])
    }

    /// Compositing::MouseEvent per InputEvent.cpp: u8 type, two DevicePixelPoints of i32s, two u8 MouseButton
    /// sets, KeyModifier in 4 bytes (an enum with no fixed type), two doubles, two u8 enums, int click count,
    /// bool, u64 id, then Optional<ScrollbarDraggedByCompositor> (i64 node id, u8 kind, u8 pseudo type, bool).
    @Test func mouseEventEncodesAsLadybirdsEncoder() throws {
        let text = """
            endpoint PackLayouts {
                mouse(Compositing::MouseEvent event) =|
            }
            """
        let set = SchemaSet(files: [try SchemaParser.parse(text, path: "layouts.ipc")])
        #expect(SchemaCoverage(schemas: set).unresolved.isEmpty)
        let event = IPCValue.structure([
            .enumCase(name: "MouseWheel", raw: 4),
            .structure([.signed(10), .signed(-20)]), .structure([.signed(300), .signed(400)]),
            .unsigned(1), .unsigned(5), .unsigned(0x84), .double(1.5), .double(-2),
            .enumCase(name: "Precise", raw: 1), .enumCase(name: "Momentum", raw: 2), .signed(2), .bool(0), .unsigned(42),
            .present(.structure([.structure([.signed(-7), .enumCase(name: "PseudoElement", raw: 2), .unsigned(3)]), .bool(1)])),
        ])
        var encoder = IPCEncoder()
        try encoder.encode(message: set.files[0].messageDescriptors[0], arguments: [event], types: set.types)
        var expected = IPCEncoder()
        expected.u8(4)
        expected.i32(10); expected.i32(-20); expected.i32(300); expected.i32(400)
        expected.u8(1); expected.u8(5); expected.u32(0x84)
        expected.f64(1.5); expected.f64(-2)
        expected.u8(1); expected.u8(2); expected.i32(2); expected.bool(false); expected.u64(42)
        expected.bool(true); expected.i64(-7); expected.u8(2); expected.u8(3); expected.bool(true)
        #expect(Array(encoder.bytes[8...]) == expected.bytes)
        #expect(encoder.bytes.count - 8 == 1 + 16 + 2 + 4 + 16 + 2 + 4 + 1 + 8 + 1 + 8 + 1 + 1 + 1)
        let decoded = PayloadDecoder(schemas: set).decode(payload: encoder.bytes, attachmentCount: 0)
        #expect(decoded.outcome == .complete(trailingBytes: 0, leftoverAttachments: 0))
        #expect(decoded.parameters[0].value == event)
    }

    /// SessionHistoryEntryDescriptor per SessionHistoryEntryDescriptor.cpp, with a policy container in its
    /// document state (EmbedderPolicy's encoder interleaves value / endpoint, not the declaration's order), and
    /// ParsedCookie, whose encoder writes same_site_attribute last: orders a round trip could not catch.
    @Test func sessionHistoryEntryAndParsedCookieEncodeAsLadybirdsEncoders() throws {
        let text = """
            endpoint PackLayouts {
                entry(Web::HTML::SessionHistoryEntryDescriptor entry) =|
                cookie(HTTP::Cookie::ParsedCookie cookie) =|
            }
            """
        let set = SchemaSet(files: [try SchemaParser.parse(text, path: "layouts.ipc")])
        #expect(SchemaCoverage(schemas: set).unresolved.isEmpty)
        let descriptors = set.files[0].messageDescriptors
        let url = IPCValue.structure([.string("https://a.example/"), .bool(0)])
        let embedder = IPCValue.structure([
            .enumCase(name: "RequireCorp", raw: 1), .string("e"), .enumCase(name: "Credentialless", raw: 2), .string("r"),
        ])
        let container = IPCValue.structure([.list([]), embedder, .enumCase(name: "NoReferrer", raw: 1)])
        let documentState = IPCValue.structure([
            .structure([.unsigned(5), .unsigned(6)]), .variant(index: 0, container),
            .variant(index: 0, .enumCase(name: "Client", raw: 1)), .enumCase(name: "UnsafeURL", raw: 8),
            .absent, .absent, .absent, .variant(index: 1, .string("body")), .bool(1), .bool(0), .string("t"),
        ])
        let entry = IPCValue.structure([
            .signed(-3), url, documentState, .structure([.bytes([9])]), .structure([.bytes([])]), .string("k"),
            .string("i"), .enumCase(name: "Manual", raw: 1), .structure([.present(.structure([.signed(64), .signed(-32)]))]),
        ])
        var encoder = IPCEncoder()
        try encoder.encode(message: descriptors[0], arguments: [entry], types: set.types)
        var expected = IPCEncoder()
        expected.i32(-3); expected.string("https://a.example/"); expected.bool(false)
        expected.u64(5); expected.u64(6)  // document_state.id
        expected.variantIndex(0); expected.count(0)  // SerializedPolicyContainer, empty csp_list
        expected.u8(1); expected.utf16String("e"); expected.u8(2); expected.utf16String("r")  // EmbedderPolicy
        expected.i32(1)  // container's referrer_policy
        expected.variantIndex(0); expected.i32(1)  // request_referrer: RequestReferrer::Client
        expected.i32(8)  // request_referrer_policy
        expected.bool(false); expected.bool(false); expected.bool(false)  // two origins, about_base_url
        expected.variantIndex(1); expected.utf16String("body")  // resource: Utf16String
        expected.bool(true); expected.bool(false); expected.utf16String("t")
        expected.byteBuffer([9]); expected.byteBuffer([])  // the two StorageSerializationRecords
        expected.utf16String("k"); expected.utf16String("i"); expected.i32(1)
        expected.bool(true); expected.i32(64); expected.i32(-32)  // viewport_scroll_position, raw CSSPixels
        #expect(Array(encoder.bytes[8...]) == expected.bytes)
        let decoded = PayloadDecoder(schemas: set).decode(payload: encoder.bytes, attachmentCount: 0)
        #expect(decoded.outcome == .complete(trailingBytes: 0, leftoverAttachments: 0))
        #expect(decoded.parameters[0].value == entry)

        let cookie = IPCValue.structure([
            .string("n"), .string("v"), .absent, .present(.signed(7)), .present(.string("d")), .absent,
            .bool(1), .bool(0), .enumCase(name: "Lax", raw: 3),
        ])
        var cookieEncoder = IPCEncoder()
        try cookieEncoder.encode(message: descriptors[1], arguments: [cookie], types: set.types)
        var cookieExpected = IPCEncoder()
        cookieExpected.string("n"); cookieExpected.string("v"); cookieExpected.bool(false)
        cookieExpected.bool(true); cookieExpected.i64(7)  // max-age expiry: UnixDateTime, i64
        cookieExpected.bool(true); cookieExpected.string("d"); cookieExpected.bool(false)
        cookieExpected.bool(true); cookieExpected.bool(false); cookieExpected.u8(3)  // SameSite last
        #expect(Array(cookieEncoder.bytes[8...]) == cookieExpected.bytes)
    }

    @Test func thePackTextIsTheCommittedPackFile() throws {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/IPCWire/TypePacks/Ladybird.ipc")
        let committed = try String(contentsOf: source, encoding: .utf8)
        #expect(try #require(TypePack.ladybird.file).typeDeclarations == (try SchemaParser.parse(committed, path: "<type pack ladybird>")).typeDeclarations,
                "run Scripts/generate-type-pack.sh")
        #expect(committed.contains("// describes: " + TypePack.ladybird.describes))
    }

    @Test func ownDeclarationsOverrideThePackAndThePackLoadsOnlyWhenReferred() throws {
        let plain = SchemaSet(files: [try SchemaParser.parse("endpoint P { m(u32 x) =| }", path: "p.ipc")])
        #expect(plain.loadedTypePacks.isEmpty)
        #expect(!plain.types.declares("Web::UniqueNodeID"))

        let uses = try SchemaParser.parse("endpoint P { m(Web::UniqueNodeID node) =| }", path: "p.ipc")
        let withPack = SchemaSet(files: [uses])
        #expect(withPack.loadedTypePacks.map(\.name) == ["ladybird"])
        #expect(withPack.types.declares("Web::UniqueNodeID"))
        #expect(SchemaSet(files: [uses], typePacks: []).loadedTypePacks.isEmpty)

        let overriding = try SchemaParser.parse(
            "// @ipcscope type Web::UniqueNodeID = u8\nendpoint P { m(Web::UniqueNodeID node) =| }", path: "o.ipc")
        let overridden = SchemaSet(files: [overriding])
        #expect(overridden.issues.isEmpty, "\(overridden.issues)")
        var encoder = IPCEncoder()
        try encoder.encode(message: overridden.files[0].messageDescriptors[0], arguments: [.unsigned(9)], types: overridden.types)
        #expect(encoder.bytes.count == 9)  // envelope + one byte: the user's u8, not the pack's width
    }
}

enum RoundTrip {
    /// Encodes random arguments for every message id of `set` and expects them decoded back exactly.
    static func everyMessage(of set: SchemaSet, seed: UInt64, rounds: Int = 4, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        var generator = IPCValueGenerator(types: set.types, random: SplitMix64(seed: seed))
        let decoder = PayloadDecoder(schemas: set)
        var checked = 0
        for indexed in set.endpointsByMagic.values {
            for descriptor in indexed.descriptors {
                if descriptor.parameters.contains(where: { !set.types.unresolvedTypes(in: $0.type).isEmpty }) { continue }
                for _ in 0..<rounds {
                    let arguments = try generator.arguments(for: descriptor)
                    var encoder = IPCEncoder()
                    try encoder.encode(message: descriptor, arguments: arguments, types: set.types)
                    let decoded = decoder.decode(payload: encoder.bytes, attachmentCount: encoder.attachments.count)
                    #expect(decoded.message == descriptor.name, sourceLocation: sourceLocation)
                    #expect(decoded.outcome == .complete(trailingBytes: 0, leftoverAttachments: 0),
                            "\(descriptor.endpointName).\(descriptor.name): \(decoded.outcome)", sourceLocation: sourceLocation)
                    #expect(decoded.parameters.map(\.name) == descriptor.parameters.map(\.name), sourceLocation: sourceLocation)
                    for (value, argument) in zip(decoded.parameters, arguments) where value.value != argument {
                        Issue.record("\(descriptor.name).\(value.name): decoded \(value.value), encoded \(argument)", sourceLocation: sourceLocation)
                    }
                    #expect(decoded.attachmentsConsumed == encoder.attachments.count, sourceLocation: sourceLocation)
                    checked += 1
                }
            }
        }
        #expect(checked > 0, sourceLocation: sourceLocation)
    }
}
