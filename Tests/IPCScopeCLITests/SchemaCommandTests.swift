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
        let params = try #require(response["params"] as? [[String: String]])
        #expect(params == [["name": "handle", "type": "IPC::TransportHandle"]])
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
        #expect(alone.status != 0)
        #expect(alone.stdout.isEmpty)
        #expect(alone.stderr == "error: \(paths[0]):3:9: expected '(' after message name 'foo', found 'u32'\n")

        // One bad file among good ones: still no partial output.
        let mixed = try run([Self.demoPath("DemoRequestClient"), paths[0]])
        #expect(mixed.status != 0)
        #expect(mixed.stdout.isEmpty)
        #expect(mixed.stderr.hasPrefix("error: \(paths[0]):3:9:"))
    }

    @Test func reportsMissingFilesAndMissingArguments() throws {
        let missing = try run(["/nonexistent/nothing.ipc"])
        #expect(missing.status != 0)
        #expect(missing.stdout.isEmpty)
        #expect(missing.stderr == "error: /nonexistent/nothing.ipc: no such file\n")

        let none = try run([])
        #expect(none.status != 0)
        #expect(none.stderr.contains("at least one .ipc file"))
    }

    @Test func refusesDevicesAndHugeFilesWithoutReadingThem() throws {
        let device = try run(["/dev/zero"])
        #expect(device.status != 0)
        #expect(device.stderr == "error: /dev/zero: not a regular file\n")
        let huge = try temporaryFiles([("huge.ipc", "")])[0]
        #expect(Glibc.truncate(huge, 64 << 20) == 0)  // sparse: costs no disk
        let tooLarge = try run([huge])
        #expect(tooLarge.status != 0)
        #expect(tooLarge.stderr.contains("too large for a schema"))
    }

    @Test func warnsAboutMagicCollisionsButStillLists() throws {
        let paths = try temporaryFiles([("a.ipc", "endpoint Same { a() =| }"), ("b.ipc", "endpoint Same { b() => () }")])
        let result = try run(paths)
        #expect(result.status == 0)
        #expect(result.stderr.hasPrefix("warning: \(paths[1]):1:1: endpoint 'Same' has magic 0x"))
        #expect(result.stdout.components(separatedBy: "endpoint Same").count == 3)
        #expect(result.stdout.contains("BResponse"))
    }

    private func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }
}
