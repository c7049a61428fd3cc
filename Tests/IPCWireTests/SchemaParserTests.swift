import TestSupport
import Foundation
import Testing
@testable import IPCWire

/// Loads the `.ipc` files of Tests/IPCWireTests/Fixtures.
enum SchemaFixtures {
    static func text(_ name: String) throws -> String {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: "ipc", subdirectory: "Fixtures"))
        return try String(contentsOf: url, encoding: .utf8)
    }

    static func schema(_ name: String) throws -> SchemaFile {
        try SchemaParser.parse(try text(name), path: name + ".ipc")
    }
}

/// Expects `source` to fail with `message` (a substring) at `line`:`column`.
private func expectError(
    _ source: String, _ message: String, line: Int, column: Int, sourceLocation: Testing.SourceLocation = #_sourceLocation
) {
    do {
        let file = try SchemaParser.parse(source, path: "bad.ipc")
        Issue.record("parsed without error: \(file.endpoints.map(\.name))", sourceLocation: sourceLocation)
    } catch {
        #expect(error.message.contains(message), "message was: \(error.message)", sourceLocation: sourceLocation)
        #expect(error.location.line == line && error.location.column == column,
                "location was \(error.location), message: \(error.message)", sourceLocation: sourceLocation)
        #expect(error.location.file == "bad.ipc", sourceLocation: sourceLocation)
    }
}

@Suite struct SchemaParserTests {
    @Test func parsesEveryGrammarFeature() throws {
        let file = try SchemaFixtures.schema("Grammar")
        #expect(file.endpoints.map(\.name) == ["FirstEndpoint", "SecondEndpoint"])
        let first = file.endpoints[0]
        #expect(first.includes == [
            "#include <AK/Vector.h>", "#include <LibIPC/File.h>",
            "#import \"any line starting with a hash is kept verbatim\"",
        ])
        #expect(first.magic == EndpointMagic.of("FirstEndpoint"))
        #expect(first.location.line == 10 && first.location.column == 1)
        #expect(first.messages.map(\.name) == [
            "first_async", "first_sync", "empty_output", "no_params_async", "attributed", "qualified", "fixed",
            "multi_line", "decorated", "get_client_id",
        ])
        #expect(first.messages.map(\.requestID) == [1, 2, 4, 6, 7, 8, 9, 10, 12, 13])
        #expect(first.messages.map(\.responseID) == [nil, 3, 5, nil, nil, nil, nil, 11, nil, 14])
        #expect(file.endpoints[1].includes == ["#include <LibCore/AnonymousBuffer.h>"])
        #expect(file.endpoints[1].messages.map(\.requestID) == [1])
    }

    @Test func parsesParametersTypesAndAttributes() throws {
        let messages = try SchemaFixtures.schema("Grammar").endpoints[0].messages
        let firstAsync = messages[0]
        #expect(firstAsync.parameters.map(\.name) == ["a", "b"])
        #expect(firstAsync.parameters[1].attributes == ["UTF8"])
        #expect(firstAsync.parameters[1].type.spelling == "ByteString")
        #expect(firstAsync.location.line == 15 && firstAsync.location.column == 5)

        let firstSync = messages[1]
        #expect(firstSync.isSync)
        #expect(firstSync.parameters.map(\.type.spelling) == ["Fixture::Token", "Vector<Optional<u8>>"])
        #expect(firstSync.responseParameters.map(\.name) == ["ok"])

        let attributed = messages[4]
        #expect(attributed.parameters[0].attributes == ["A", "B"])
        let map = attributed.parameters[0].type
        #expect(map.spelling == "HashMap<String, Vector<Optional<u8>>>")
        #expect(map.baseName == "HashMap")
        #expect(map.arguments.map(\.baseName) == ["String", "Vector"])
        #expect(map.arguments[1].arguments[0].baseName == "Optional")
        #expect(map.arguments[1].arguments[0].arguments[0].spelling == "u8")
        #expect(attributed.parameters[1].attributes == ["UTF8"])
        #expect(attributed.parameters[1].type.spelling == "String")

        let qualified = messages[5].parameters
        #expect(qualified[0].type.baseName == "::NS::T")
        #expect(qualified[1].type.baseName == "IPC::File")

        let nonce = messages[6].parameters[0].type
        #expect(nonce.spelling == "Array<u8, 16>")
        #expect(nonce.arguments[1].isLiteral && nonce.arguments[1].literalValue == 16)

        let multiLine = messages[7]
        #expect(multiLine.parameters.map(\.name) == ["first", "second"])
        #expect(multiLine.responseParameters.map(\.type.spelling) == ["u8"])

        let decorated = messages[8].parameters[0].type
        #expect(decorated.baseName == "String" && decorated.isConst && decorated.isReference)
        #expect(decorated.spelling == "const String&")

        #expect(messages[2].responseParameters.isEmpty)
    }

    @Test func collectsIPCScopeDeclarationsInsideAndOutsideEndpoints() throws {
        let declarations = try SchemaFixtures.schema("Grammar").typeDeclarations
        #expect(declarations.map(\.name) == ["Fixture::Color", "Fixture::Token"])
        guard case .enumeration(let color) = declarations[0], case .alias(let token) = declarations[1] else {
            Issue.record("wrong declaration kinds: \(declarations)")
            return
        }
        #expect(color.underlying == .u8)
        #expect(color.cases == [.init(name: "Red", value: 0), .init(name: "Green", value: 4), .init(name: "Blue", value: 5)])
        #expect(color.location.line == 8)
        #expect(token.target.spelling == "u64")
        #expect(token.location.line == 16)
    }

    @Test func enumValuesAutoIncrementLikeC() throws {
        let file = try SchemaParser.parse("""
            // @ipcscope enum E : i8 { A = -3, B, C = 0x10, D, E = -128 }
            // @ipcscope enum Plain { X, Y }
            """, path: "e.ipc")
        guard case .enumeration(let e) = file.typeDeclarations[0], case .enumeration(let plain) = file.typeDeclarations[1] else {
            Issue.record("expected enums")
            return
        }
        #expect(e.cases.map(\.value) == [-3, -2, 16, 17, -128])
        #expect(plain.underlying == .i32)
        #expect(plain.cases.map(\.value) == [0, 1])
    }

    @Test func flattensMessagesIntoWireIDs() throws {
        let endpoint = try SchemaFixtures.schema("Grammar").endpoints[0]
        let descriptors = endpoint.messageDescriptors
        #expect(descriptors.map(\.id) == Array(1...14))
        #expect(descriptors.map(\.kind) == [
            .async, .request, .response, .request, .response, .async, .async, .async, .async,
            .request, .response, .async, .request, .response,
        ])
        #expect(descriptors[2].name == "FirstSyncResponse")
        #expect(descriptors[2].parameters.map(\.name) == ["ok"])
        #expect(descriptors[4].name == "EmptyOutputResponse" && descriptors[4].parameters.isEmpty)
        #expect(descriptors[13].name == "GetClientIdResponse")
        #expect(descriptors[12].name == "get_client_id")
        #expect(descriptors.allSatisfy { $0.magic == endpoint.magic && $0.endpointName == "FirstEndpoint" })
    }

    @Test func numbersTheDocumentationExample() throws {
        let file = try SchemaParser.parse("""
            #include <LibIPC/File.h>

            endpoint DemoServer
            {
                // a comment
                ping(u32 cookie) => (u32 cookie)
                store_blob([UTF8] ByteString name, Core::AnonymousBuffer data, Optional<IPC::File> log_fd) =|
                list(Vector<String> prefixes) => (HashMap<String, u64> sizes, bool truncated)
                attach(IPC::TransportHandle peer) =|
            }
            """, path: "demo.ipc")
        let listing = file.messageDescriptors.map { "\($0.id) \($0.kind.rawValue) \($0.name)" }
        #expect(listing == [
            "1 request ping", "2 response PingResponse", "3 async store_blob", "4 request list",
            "5 response ListResponse", "6 async attach",
        ])
    }

    @Test(arguments: [
        ("get_client_id", "GetClientId"), ("ping", "Ping"), ("did_request_url", "DidRequestUrl"),
        ("set_URL", "SetURL"), ("a__b", "AB"), ("_leading", "Leading"), ("x", "X"),
    ])
    func pascalCasesLikeTheGenerator(name: String, expected: String) {
        #expect(SchemaNaming.pascalCase(name) == expected)
        #expect(SchemaNaming.responseName(of: name) == expected + "Response")
    }

    @Test func reportsErrorsWithLocations() {
        expectError("endpoint E {\n  foo u32 =|\n}", "expected '(' after message name 'foo'", line: 2, column: 7)
        expectError("endpoint E {\n  foo(u32) =|\n}", "parameter of type 'u32' must be named", line: 2, column: 7)
        expectError("endpoint E {\n  foo(u8 a, Vector<u32>) =|\n}", "parameter of type 'Vector<u32>' must be named", line: 2, column: 13)
        expectError("endpoint E {\n  foo(Vector<u32 x) =|\n}", "expected ',' or '>' after type argument 'u32'", line: 2, column: 18)
        expectError("endpoint E {\n  foo(Vector<u32) =|\n}", "unterminated '<' in type 'Vector'", line: 2, column: 13)
        expectError("endpoint E {\n  foo(HashMap<u8, Vector<u8>\n}", "unterminated '<' in type 'HashMap'", line: 2, column: 14)
        expectError("endpoin E {}", "expected 'endpoint', found 'endpoin'", line: 1, column: 1)
        expectError("\n\n  42", "expected 'endpoint'", line: 3, column: 3)
        expectError("endpoint E {\n a() =|\n // c\n a(u8 x) =|\n}", "duplicate message 'a' in endpoint 'E' (first declared at line 2)", line: 4, column: 2)
        expectError("", "empty file", line: 1, column: 1)
        expectError("// only a comment\n", "empty file", line: 2, column: 1)
        expectError("endpoint E {\n a() =|\n", "expected '}' to close endpoint 'E'", line: 3, column: 1)
        expectError("endpoint E {\n a() => u8\n}", "expected '(' after '=>' in message 'a'", line: 2, column: 9)
        expectError("endpoint E {\n a() }", "expected '=|' or '=>' after the parameters of message 'a'", line: 2, column: 6)
        expectError("endpoint {\n}", "expected endpoint name", line: 1, column: 10)
        expectError("endpoint E\n(", "expected '{' after endpoint name 'E'", line: 2, column: 1)
        expectError("endpoint E { a(u8 x, u16 x) =| }", "duplicate parameter name 'x'", line: 1, column: 22)
        expectError("endpoint E { a(u8 x u8 y) =| }", "expected ',' or ')' after parameter 'x'", line: 1, column: 21)
        expectError("endpoint E { a(u8 x,) =| }", "expected a type, found ')'", line: 1, column: 21)
        expectError("endpoint E { a([] u8 x) =| }", "expected an attribute name", line: 1, column: 17)
        expectError("endpoint E { a([UTF8 u8 x) =| }", "expected ',' or ']' after attribute 'UTF8'", line: 1, column: 22)
        expectError("endpoint E { a(Vector<> x) =| }", "expected a type argument of 'Vector'", line: 1, column: 23)
        expectError("#include <x>\n", "expected 'endpoint' after '#' lines", line: 1, column: 1)
        expectError("endpoint A {}\nendpoint A {}", "duplicate endpoint 'A'", line: 2, column: 1)
        expectError("endpoint E { é() =| }", "expected message name or '}', found 'é'", line: 1, column: 14)
    }

    @Test func reportsMalformedIPCScopeComments() {
        expectError("// @ipcscope enum X : float { A }\nendpoint E {}", "underlying type of enum 'X' must be an integer type", line: 1, column: 23)
        expectError("// @ipcscope frob X\n", "expected 'enum', 'type', 'struct', 'variant' or 'opaque' after '@ipcscope'", line: 1, column: 14)
        expectError("// @ipcscope enum X : u8 { A = 255, B }", "value 256 of case 'B' does not fit u8", line: 1, column: 37)
        expectError("// @ipcscope enum X : u8 { A = -1 }", "value -1 of case 'A' does not fit u8", line: 1, column: 28)
        expectError("// @ipcscope enum X { A, A }", "duplicate case 'A'", line: 1, column: 26)
        expectError("// @ipcscope enum X { A = }", "expected an integer value for case 'A'", line: 1, column: 27)
        expectError("// @ipcscope enum X { A B }", "expected ',' or '}' after enum case 'A'", line: 1, column: 25)
        expectError("// @ipcscope enum X { A", "expected ',' or '}' after enum case 'A', found 'end of file'", line: 1, column: 24)
        expectError("// @ipcscope enum X { A, ", "expected an enum case name or '}'", line: 1, column: 26)
        expectError("// @ipcscope type A u64", "expected '=' after type name 'A'", line: 1, column: 21)
        expectError("// @ipcscope type A = Vector<u8", "unterminated '<' in type 'Vector'", line: 1, column: 29)
        expectError("// @ipcscope type A = u8 extra", "unexpected 'e' after type declaration 'A'", line: 1, column: 26)
        expectError("// @ipcscope type = u8", "expected a type name after 'type'", line: 1, column: 19)
        expectError("// @ipcscope type A = u8\n// @ipcscope type A = u16", "duplicate @ipcscope declaration of 'A'", line: 2, column: 14)
        expectError("endpoint E {\n    // @ipcscope enum\n}", "expected a type name after 'enum'", line: 2, column: 22)
    }

    @Test func ignoresCommentsThatOnlyMentionTheMarker() throws {
        let file = try SchemaParser.parse("// see @ipcscope docs\n// @ipcscopes are nice\nendpoint E {}", path: "x.ipc")
        #expect(file.typeDeclarations.isEmpty)
    }

    @Test func acceptsWindowsLineEndingsAndAByteOrderMark() throws {
        let file = try SchemaParser.parse("\u{FEFF}#include <a.h>\r\n// @ipcscope type T = u8\r\nendpoint E\r\n{\r\n    a(T x) =|\r\n    b() => ()\r\n}\r\n", path: "crlf.ipc")
        #expect(file.endpoints.first?.includes == ["#include <a.h>"])
        #expect(file.endpoints.first?.messages.map(\.name) == ["a", "b"])
        #expect(file.endpoints.first?.messages.last?.location == IPCWire.SourceLocation(file: "crlf.ipc", line: 6, column: 5))
        #expect(file.typeDeclarations.map(\.name) == ["T"])
    }

    @Test func acceptsTypeOnlyFiles() throws {
        let file = try SchemaFixtures.schema("SharedTypes")
        #expect(file.endpoints.isEmpty)
        #expect(file.typeDeclarations.map(\.name) == ["Fixture::Shared", "Fixture::Mode"])
    }

    @Test func limitsTypeNesting() throws {
        func nested(_ depth: Int) -> String {
            "endpoint E {\n  a(" + String(repeating: "Vector<", count: depth) + "u8" + String(repeating: ">", count: depth) + " x) =|\n}"
        }
        let ok = try SchemaParser.parse(nested(64), path: "deep.ipc")
        #expect(ok.endpoints[0].messages[0].parameters[0].type.spelling.hasPrefix("Vector<Vector<"))
        expectError(nested(65), "type nesting deeper than 64 levels", line: 2, column: 5 + 64 * 7 + 6)
        // Hostile depth: reported, not recursed into.
        #expect(throws: SchemaError.self) { try SchemaParser.parse(nested(100_000), path: "deeper.ipc") }
    }

    @Test func normalizesTypeSpellings() throws {
        #expect(try TypeReference(parsing: "HashMap<String,Vector< u8 > >").spelling == "HashMap<String, Vector<u8>>")
        #expect(try TypeReference(parsing: "  ::AK::Vector<::AK::String>  ").unqualifiedBaseName == "Vector")
        #expect(try TypeReference(parsing: "const Foo&").spelling == "const Foo&")
        #expect(throws: SchemaError.self) { try TypeReference(parsing: "Vector<u8> trailing") }
        #expect(throws: SchemaError.self) { try TypeReference(parsing: "16") }
    }

    /// Inside `<…>` the generator copies everything but `<` and `>` (docs/protocol.md §5): cv-qualifiers on either
    /// side and `&`/`*` are accepted, the written text is kept, and the type resolves as without them.
    @Test func acceptsQualifiersInsideGenericArguments() throws {
        let source = """
        endpoint Qualified
        {
            set_node(NonnullRefPtr<Web::DOM::Node const> node) =|
            set_nodes(Vector<Foo const&> a, Vector<Foo const &> b, HashMap<String const, Vector<u8 const*>> c) =|
            set_volatile(Optional<volatile u32> v, Optional<u32 volatile const> w) =|
        }
        """
        let messages = try SchemaParser.parse(source, path: "q.ipc").endpoints[0].messages
        let node = messages[0].parameters[0].type
        #expect(node.writtenText == "NonnullRefPtr<Web::DOM::Node const>")
        #expect(node.spelling == "NonnullRefPtr<const Web::DOM::Node>")
        #expect(node.arguments[0].baseName == "Web::DOM::Node" && node.arguments[0].isConst)
        #expect(node == (try TypeReference(parsing: "NonnullRefPtr<const Web::DOM::Node>")))
        let types = messages[1].parameters.map(\.type)
        #expect(types.map(\.writtenText) == ["Vector<Foo const&>", "Vector<Foo const &>",
                                            "HashMap<String const, Vector<u8 const*>>"])
        #expect(types[0] == types[1])
        #expect(types[0].arguments[0].isConst && types[0].arguments[0].isReference)
        #expect(types[2].arguments[1].arguments[0].isPointer)
        #expect(types[2].arguments[1].arguments[0].baseName == "u8")
        #expect(messages[2].parameters.map { $0.type.arguments[0].baseName } == ["u32", "u32"])
        #expect(messages[2].parameters.map(\.name) == ["v", "w"])
    }

    @Test func errorsInsideGenericArgumentsStayPrecise() {
        expectError("endpoint E\n{\n    m(Vector<Foo const bar> x) =|\n}\n",
                    "expected ',' or '>' after type argument 'const Foo', found 'b'", line: 3, column: 24)
        expectError("endpoint E\n{\n    m(Vector<Foo const, > x) =|\n}\n",
                    "expected a type argument of 'Vector', found '>'", line: 3, column: 25)
        // Outside `<…>` a space ends the type, as in the generator: the parameter is then named `const`.
        expectError("endpoint E\n{\n    m(Foo const x) =|\n}\n", "expected ',' or ')' after parameter 'const', found 'x'",
                    line: 3, column: 17)
    }

    @Test func handlesLargeFiles() throws {
        var source = "endpoint Big\n{\n"
        for index in 0..<20_000 {
            source += index % 3 == 0 ? "    m\(index)(u32 a, String b) => (bool ok)\n" : "    m\(index)(Vector<u8> data) =|\n"
        }
        source += "}\n"
        let file = try SchemaParser.parse(source, path: "big.ipc")
        let descriptors = file.messageDescriptors
        #expect(file.endpoints[0].messages.count == 20_000)
        #expect(descriptors.count == 20_000 + 6667)
        #expect(descriptors.last?.id == Int32(descriptors.count))
        #expect(file.endpoints[0].messages[19_999].location.line == 20_002)
    }

    @Test func neverTrapsOnRandomInput() {
        var random = SplitMix64(seed: 0x1BC5)
        let alphabet = Array("endpoint{}()<>[],=|>#/ \n\tabcu8:@ipcscope enum type".utf8)
        for round in 0..<3_000 {
            let length = Int(random.next() % 200)
            var bytes: [UInt8] = round % 2 == 0 ? Array("endpoint E {\n".utf8) : []
            for _ in 0..<length {
                bytes.append(round % 3 == 0 ? UInt8(truncatingIfNeeded: random.next()) : alphabet[Int(random.next() % UInt64(alphabet.count))])
            }
            do {
                let file = try SchemaParser.parse(bytes: bytes, path: "random.ipc")
                _ = file.messageDescriptors
            } catch {
                #expect(error.location.line >= 1 && error.location.column >= 1)
                #expect(!error.message.isEmpty)
            }
        }
    }
}

@Suite struct SchemaSetTests {
    @Test func indexesEndpointsByMagic() throws {
        let set = SchemaSet(files: [try SchemaFixtures.schema("WorkedExamples")])
        #expect(set.issues.isEmpty)
        #expect(set.endpoint(magic: 1_270_977_860)?.endpoint.name == "RequestServer")
        #expect(set.message(magic: 1_270_977_860, id: 10)?.name == "is_supported_protocol")
        #expect(set.message(magic: 1_270_977_860, id: 11)?.kind == .response)
        #expect(set.message(magic: 1_270_977_860, id: 12) == nil)
        #expect(set.message(magic: 1_270_977_860, id: 0) == nil)
        #expect(set.message(magic: 0x5990_A8A0, id: 1)?.name == "request_started")
    }

    @Test func reportsMagicCollisionsAndConflictingDeclarations() throws {
        let a = try SchemaParser.parse("// @ipcscope type T = u8\nendpoint Same { a() =| }", path: "a.ipc")
        let b = try SchemaParser.parse("// @ipcscope type T = u16\nendpoint Same { b() =| }", path: "b.ipc")
        let c = try SchemaParser.parse("// @ipcscope type T = u8\n// @ipcscope type Bad = Vector<Nope>", path: "c.ipc")
        let set = SchemaSet(files: [a, b, c])
        #expect(set.issues.count == 3, "\(set.issues)")
        #expect(set.issues.contains { $0.message.contains("already used by 'Same'") && $0.location.file == "b.ipc" })
        #expect(set.issues.contains { $0.message.contains("type 'T' is declared differently") && $0.location.file == "b.ipc" })
        #expect(set.issues.contains { $0.message.contains("alias 'Bad'") && $0.message.contains("Nope") })
        #expect(set.endpoint(magic: EndpointMagic.of("Same"))?.file == "a.ipc")
    }

    @Test func loadsTheDemoSchemas() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Sources/DemoPeers/Schemas").standardizedFileURL
        let names = ["DemoWebContentServer", "DemoWebContentClient", "DemoRequestServer", "DemoRequestClient"]
        let files = try names.map { name in
            try SchemaParser.parse(
                try String(contentsOf: directory.appendingPathComponent(name + ".ipc"), encoding: .utf8), path: name + ".ipc")
        }
        #expect(files.map { $0.endpoints.map(\.name) } == names.map { [$0] })
        let set = SchemaSet(files: files)
        #expect(set.issues.isEmpty, "\(set.issues)")
        for file in files {
            #expect(file.endpoints[0].messages.count <= 25)
            for descriptor in file.messageDescriptors {
                for parameter in descriptor.parameters {
                    #expect(set.types.unknownReason(in: parameter.type) == nil, "\(descriptor.name).\(parameter.name): \(parameter.type)")
                }
            }
        }
    }
}

