import TestSupport
import Foundation
import Glibc
import IPCWire
import Testing

/// Runs the built `ipcscope schema` the way a user would.
@Suite struct SchemaCommandTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let demoNames = ["DemoWebContentServer", "DemoWebContentClient", "DemoRequestServer", "DemoRequestClient"]

    static func demoPath(_ name: String) -> String {
        repository.appendingPathComponent("Sources/DemoPeers/Schemas/\(name).ipc").path
    }

    /// `swift test` builds the executable next to the test bundle.
    static func ipcscopeBinary() throws -> String {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            Bundle.main.bundleURL.deletingLastPathComponent(),
            Bundle.main.bundleURL,
        ].map { $0.appendingPathComponent("ipcscope").path }
        return try #require(candidates.first { FileManager.default.isExecutableFile(atPath: $0) }, "ipcscope not found in \(candidates)")
    }

    private func run(_ arguments: [String]) throws -> CommandResult {
        try CommandRunner.run(try Self.ipcscopeBinary(), ["schema"] + arguments)
    }

    /// A fresh directory holding `files` (name → contents).
    private func temporaryFiles(_ files: [(String, String)]) throws -> [String] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ipcscope-schema-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return try files.map { name, contents in
            let url = directory.appendingPathComponent(name)
            try contents.write(to: url, atomically: true, encoding: .utf8)
            return url.path
        }
    }

    @Test func listsAnEndpointAsAnAlignedTable() throws {
        let path = Self.demoPath("DemoRequestServer")
        let result = try run([path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty)
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.first == "endpoint DemoRequestServer  magic 0x\(hex(EndpointMagic.of("DemoRequestServer"))) (\(EndpointMagic.of("DemoRequestServer")))  \(path)")
        let rows = lines.filter { $0.range(of: #"^\s+\d+  "#, options: .regularExpression) != nil }
        #expect(rows.count == 25)
        #expect(rows.contains { $0.contains(" 7  request ") && $0.contains("is_supported_protocol") && $0.hasSuffix("(ByteString protocol)") })
        #expect(rows.contains { $0.contains(" 8  response") && $0.contains("IsSupportedProtocolResponse") && $0.hasSuffix("(bool supported)") })
        #expect(rows.contains { $0.contains(" 3  request ") && $0.contains("connect_new_client ") && $0.hasSuffix("()") })
        // Columns line up: every parameter list starts at the same column.
        let columns = Set(rows.compactMap { row in row.firstIndex(of: "(").map { row.distance(from: row.startIndex, to: $0) } })
        #expect(columns.count == 1, "\(rows.joined(separator: "\n"))")
        #expect(result.stdout.contains("enum Demo::CacheMode : u8 { Default = 0, NoStore = 1"))
    }

    @Test func printsJSONForSeveralFiles() throws {
        let paths = Self.demoNames.map(Self.demoPath)
        let result = try run(["--json"] + paths)
        #expect(result.status == 0, "\(result.stderr)")
        let root = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let endpoints = try #require(root["endpoints"] as? [[String: Any]])
        #expect(endpoints.compactMap { $0["name"] as? String } == Self.demoNames)
        #expect(endpoints.compactMap { $0["file"] as? String } == paths)
        for endpoint in endpoints {
            let name = try #require(endpoint["name"] as? String)
            #expect((endpoint["magic"] as? NSNumber)?.uint32Value == EndpointMagic.of(name))
            let messages = try #require(endpoint["messages"] as? [[String: Any]])
            #expect(messages.compactMap { $0["id"] as? Int } == Array(1...messages.count))
            for message in messages {
                let kind = try #require(message["kind"] as? String)
                #expect(["async", "request", "response"].contains(kind))
                #expect(((message["name"] as? String)?.hasSuffix("Response") ?? false) == (kind == "response"))
                let params = try #require(message["params"] as? [[String: Any]])
                #expect(params.allSatisfy { $0["name"] is String && $0["type"] is String })
            }
        }
        let requestServer = try #require(endpoints.first { $0["name"] as? String == "DemoRequestServer" })
        let messages = try #require(requestServer["messages"] as? [[String: Any]])
        let response = try #require(messages.first { $0["id"] as? Int == 4 })
        #expect(response["name"] as? String == "ConnectNewClientResponse")
        #expect(response["kind"] as? String == "response")
        let params = try #require(response["params"] as? [[String: Any]])
        #expect(params.count == 1)
        #expect(params.first?["name"] as? String == "handle")
        #expect(params.first?["type"] as? String == "IPC::TransportHandle")
        #expect(params.first?["resolved"] as? Bool == true)
        #expect(params.first?["unresolved"] == nil)
        let types = try #require(root["types"] as? [[String: Any]])
        #expect(types.contains { $0["name"] as? String == "Demo::NetworkError" && $0["kind"] as? String == "enum" })
    }

    @Test func escapesPathsInJSON() throws {
        let paths = try temporaryFiles([("we\"ird \\ name.ipc", "endpoint Odd { hello([UTF8] ByteString text) =| }\n")])
        let result = try run(["--json"] + paths)
        #expect(result.status == 0, "\(result.stderr)")
        let root = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let endpoint = try #require((root["endpoints"] as? [[String: Any]])?.first)
        #expect(endpoint["file"] as? String == paths[0])
        let params = (endpoint["messages"] as? [[String: Any]])?.first?["params"] as? [[String: Any]]
        #expect(params?.first?["attributes"] as? [String] == ["UTF8"])
    }

    @Test func reportsAMalformedFileWithItsLocationAndPrintsNothing() throws {
        let paths = try temporaryFiles([("bad.ipc", "endpoint Bad\n{\n    foo u32 =|\n}\n")])
        let alone = try run(paths)
        #expect(alone.status == 65)  // EX_DATAERR
        #expect(alone.stdout.isEmpty)
        #expect(alone.stderr == "ipcscope schema: \(paths[0]):3:9: expected '(' after message name 'foo', found 'u32'\n")

        // One bad file among good ones: still no partial output.
        let mixed = try run([Self.demoPath("DemoRequestClient"), paths[0]])
        #expect(mixed.status == 65)
        #expect(mixed.stdout.isEmpty)
        #expect(mixed.stderr.hasPrefix("ipcscope schema: \(paths[0]):3:9:"))
    }

    @Test func reportsMissingFilesAndMissingArguments() throws {
        let missing = try run(["/nonexistent/nothing.ipc"])
        #expect(missing.status == 66)  // EX_NOINPUT
        #expect(missing.stdout.isEmpty)
        #expect(missing.stderr == "ipcscope schema: /nonexistent/nothing.ipc: No such file or directory (ENOENT, errno 2)\n")

        let none = try run([])
        #expect(none.status == 64)  // EX_USAGE
        #expect(none.stderr.contains("at least one .ipc file"))
    }

    @Test func refusesDevicesAndHugeFilesWithoutReadingThem() throws {
        let device = try run(["/dev/zero"])
        #expect(device.status == 66)
        #expect(device.stderr == "ipcscope schema: /dev/zero: not a regular file\n")
        let huge = try temporaryFiles([("huge.ipc", "")])[0]
        #expect(Glibc.truncate(huge, 64 << 20) == 0)  // sparse: costs no disk
        let tooLarge = try run([huge])
        #expect(tooLarge.status == 65)
        #expect(tooLarge.stderr.contains("too large for a schema"))
    }

    @Test func warnsAboutMagicCollisionsButStillLists() throws {
        let paths = try temporaryFiles([("a.ipc", "endpoint Same { a() =| }"), ("b.ipc", "endpoint Same { b() => () }")])
        let result = try run(paths)
        #expect(result.status == 0)
        #expect(result.stderr.hasPrefix("ipcscope schema: warning: \(paths[1]):1:1: endpoint 'Same' has magic 0x"))
        #expect(result.stdout.components(separatedBy: "endpoint Same").count == 3)
        #expect(result.stdout.contains("BResponse"))
    }

    // MARK: --coverage

    /// A small tree of endpoint files: one fully known, one with two unknown types (one used three times),
    /// one using a struct with an unknown field, and a type-only file deeper down that declares one of them.
    private func coverageTree() throws -> String {
        let paths = try temporaryFiles([
            ("Known.ipc", "endpoint Known { a(u32 x, String s) =| b(Vector<u8> v) => (bool ok) }\n"),
            ("Partly.ipc", """
                endpoint Partly
                {
                    c(Fixture::Missing m, u8 n) =|
                    d(Optional<Fixture::Missing> m) =|
                    e(Vector<Fixture::Missing> m, Fixture::Other o) =|
                    f(Fixture::Holder h) =|
                    g(Fixture::Declared d) =|
                }
                // @ipcscope struct Fixture::Holder { u32 id; Fixture::Deep deep }
                """),
        ])
        let directory = URL(fileURLWithPath: paths[0]).deletingLastPathComponent()
        let nested = directory.appendingPathComponent("nested/deeper")
        try FileManager.default.createDirectory(at: nested, withIntermediateDirectories: true)
        try "// @ipcscope type Fixture::Declared = u64\n".write(to: nested.appendingPathComponent("Types.ipc"), atomically: true, encoding: .utf8)
        try "not a schema".write(to: nested.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        return directory.path
    }

    @Test func coverageCountsMessagesParametersAndUnresolvedTypesOfADirectoryTree() throws {
        let result = try run(["--coverage", try coverageTree()])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        // Known: a, b, BResponse (3 ids); Partly: c…g (5). Decodable: a, b, BResponse, g.
        #expect(lines.first == "messages    4 of 8 fully decodable (50.0%)", "\(result.stdout)")
        // Parameters: x, s, v, ok, n, d resolved; m, m, m, o, h not.
        #expect(lines.dropFirst().first == "parameters  6 of 11 resolved (54.5%)", "\(result.stdout)")
        #expect(lines.contains("type packs  none"))
        #expect(lines.contains("unresolved types (3):"))
        let rows = lines.drop { $0 != "unresolved types (3):" }.dropFirst().map { $0.split(separator: " ", omittingEmptySubsequences: true).prefix(2).joined(separator: " ") }
        // Most used first; ties by name.
        #expect(rows == ["3 Fixture::Missing", "1 Fixture::Deep", "1 Fixture::Other"], "\(result.stdout)")
    }

    @Test func coverageAsJSONAndWithTheLadybirdPack() throws {
        let result = try run(["--coverage", "--json", try coverageTree()])
        #expect(result.status == 0, "\(result.stderr)")
        let root = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect((root["messages"] as? [String: Int]) == ["total": 8, "decodable": 4])
        #expect((root["parameters"] as? [String: Int]) == ["total": 11, "decodable": 6])
        let unresolved = try #require(root["unresolvedTypes"] as? [[String: Any]])
        #expect(unresolved.compactMap { $0["name"] as? String } == ["Fixture::Missing", "Fixture::Deep", "Fixture::Other"])
        #expect(unresolved.compactMap { $0["uses"] as? Int } == [3, 1, 1])
        #expect(unresolved.allSatisfy { ($0["reason"] as? String)?.isEmpty == false })

        // A file naming a type of the Ladybird pack loads it; --no-type-pack leaves it out.
        let ladybird = try temporaryFiles([("L.ipc", "endpoint L { m(Web::UniqueNodeID node) =| }\n")])
        let packed = try run(["--coverage", ladybird[0]])
        #expect(packed.stdout.hasPrefix("messages    1 of 1 fully decodable (100.0%)"), "\(packed.stdout)")
        #expect(packed.stdout.contains("type packs  ladybird ("))
        let bare = try run(["--coverage", "--no-type-pack", ladybird[0]])
        #expect(bare.stdout.hasPrefix("messages    0 of 1 fully decodable (0.0%)"), "\(bare.stdout)")
        #expect(bare.stdout.contains("1  Web::UniqueNodeID"))
    }

    @Test func jsonListingMarksUnresolvedParameters() throws {
        let result = try run(["--json", try coverageTree()])
        #expect(result.status == 0, "\(result.stderr)")
        let root = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let endpoints = try #require(root["endpoints"] as? [[String: Any]])
        let partly = try #require(endpoints.first { $0["name"] as? String == "Partly" })
        let messages = try #require(partly["messages"] as? [[String: Any]])
        let e = try #require(messages.first { $0["name"] as? String == "e" }?["params"] as? [[String: Any]])
        #expect(e.compactMap { $0["resolved"] as? Bool } == [false, false])
        #expect(e.compactMap { $0["unresolved"] as? [String] } == [["Fixture::Missing"], ["Fixture::Other"]])
        let g = try #require(messages.first { $0["name"] as? String == "g" }?["params"] as? [[String: Any]])
        #expect(g.compactMap { $0["resolved"] as? Bool } == [true])
        let types = try #require(root["types"] as? [[String: Any]])
        let holder = try #require(types.first { $0["name"] as? String == "Fixture::Holder" })
        #expect(holder["kind"] as? String == "struct")
        #expect((holder["fields"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["id", "deep"])
    }

    @Test func coverageOfAMalformedFileInATreeIsAnErrorWithItsLocation() throws {
        let directory = try coverageTree()
        try "endpoint Bad {\n  x(\n".write(toFile: directory + "/nested/Bad.ipc", atomically: true, encoding: .utf8)
        let result = try run(["--coverage", directory])
        #expect(result.status == 65)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.hasPrefix("ipcscope schema: \(directory)/nested/Bad.ipc:3:1:"), "\(result.stderr)")
    }

    private func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }
}
