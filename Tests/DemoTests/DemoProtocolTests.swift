@testable import DemoPeers
import IPCTransport
import IPCWire
import Testing

@Suite("Demo schemas and protocol")
struct DemoProtocolTests {
    @Test("the bundled schemas parse and declare every message the peers use")
    func schemasCoverThePeers() throws {
        let files = try DemoSchemas.load()
        #expect(files.map(\.path) == [
            "DemoRequestClient.ipc", "DemoRequestServer.ipc", "DemoWebContentClient.ipc", "DemoWebContentServer.ipc",
        ])
        let schemas = SchemaSet(files: files)
        #expect(schemas.issues.isEmpty, "\(schemas.issues)")
        #expect(DemoProtocol.missingMessages(in: schemas).isEmpty)
        _ = try DemoProtocol(files: files)
    }

    @Test("ids and magics come from the schemas")
    func lookups() throws {
        let demoProtocol = try DemoProtocol.load()
        func check<Name: DemoMessageName>(_ type: Name.Type) {
            let table = Name.table(in: demoProtocol)
            #expect(table.magic == EndpointMagic.of(Name.endpointName))
            for name in Name.allCases {
                let descriptor = table.descriptor(name)
                #expect(descriptor.name == name.rawValue)
                #expect(demoProtocol.schemas.message(magic: table.magic, id: descriptor.id) == descriptor)
                #expect(table.identify(id: descriptor.id)?.name == name)
                if descriptor.kind == .request {
                    #expect(table.response(name)?.id == descriptor.id + 1)
                    #expect(table.identify(id: descriptor.id + 1)?.isResponse == true)
                }
            }
        }
        check(WebContentServerMessage.self)
        check(WebContentClientMessage.self)
        check(RequestServerMessage.self)
        check(RequestClientMessage.self)
        // The first two ids of DemoRequestServer belong to init_transport, which Linux never sends.
        #expect(demoProtocol.requestServer.descriptor(.connectNewClient).id == 3)
    }

    @Test("a schema without a message the peers use is reported by name")
    func missingMessageIsNamed() throws {
        var files = try DemoSchemas.load()
        let text = """
            endpoint DemoRequestClient
            {
                request_started(i32 request_id, IPC::File fd) =|
            }
            """
        let index = try #require(files.firstIndex { $0.path == "DemoRequestClient.ipc" })
        files[index] = try SchemaParser.parse(text, path: "DemoRequestClient.ipc")
        let missing = DemoProtocol.missingMessages(in: SchemaSet(files: files))
        #expect(missing.contains("DemoRequestClient::websocket_closed"))
        #expect(!missing.contains("DemoRequestClient::request_started"))
        #expect(throws: DemoFailure.self) { try DemoProtocol(files: files) }
    }

    @Test("the bulk fast path writes exactly what the schema-driven encoder writes", arguments: [0, 3, 42, 0xFFFF_FFFF] as [UInt64])
    func fastEncoders(seed: UInt64) throws {
        let demoProtocol = try DemoProtocol.load()
        for input in stride(from: 0, to: 5_000, by: 37) {
            let mouse = try demoProtocol.message(WebContentServerMessage.mouseEvent, BulkTraffic.mouseArguments(input, seed: seed))
            #expect(demoProtocol.bulk.mouseEvent(input, seed: seed) == mouse.payload)
            let key = try demoProtocol.message(WebContentServerMessage.keyEvent, BulkTraffic.keyArguments(input, seed: seed))
            #expect(demoProtocol.bulk.keyEvent(input, seed: seed) == key.payload)
            let frame = UInt64(input)
            let send = try demoProtocol.message(RequestServerMessage.websocketSend, BulkTraffic.websocketSendArguments(frame, seed: seed))
            #expect(demoProtocol.bulk.websocketSend(frame, seed: seed) == send.payload)
        }
    }

    @Test("bulk sizing: about the requested number of messages")
    func bulkSizing() {
        #expect(BulkTraffic.inputCount(budget: 0) == 0)
        #expect(BulkTraffic.inputCount(budget: -5) == 0)
        let inputs = BulkTraffic.inputCount(budget: 1_000_000)
        let messages = inputs * BulkTraffic.messagesPerWindow / BulkTraffic.window
        #expect(abs(messages - 1_000_000) < 1_000)
        #expect(BulkTraffic.count(of: 100, where: BulkTraffic.paints(after:)) == 3)
        #expect(BulkTraffic.count(of: 100, where: BulkTraffic.invalidates(after:)) == 25)
    }

    @Test("a helper's statistics line round-trips")
    func statisticsLine() throws {
        var statistics = ProcessStatistics()
        statistics.messagesSent = 12
        statistics.fdsReceived = 3
        statistics.transfersIn = 2
        statistics.violations = 6
        let parsed = try #require(ProcessStatistics.parse(line: statistics.line(pid: 4242, ok: true)))
        #expect(parsed.pid == 4242 && parsed.ok && parsed.statistics == statistics)
        #expect(ProcessStatistics.parse(line: "some other stderr line") == nil)
    }

    @Test("the generated contents are reproducible and the seed travels in the URL")
    func content() {
        #expect(DemoContent.seed(fromURL: DemoContent.pageURL(seed: 987_654_321)) == 987_654_321)
        #expect(DemoContent.body(request: 1, seed: 5) == DemoContent.body(request: 1, seed: 5))
        #expect(DemoContent.body(request: 1, seed: 5).count == DemoContent.bodyLength(request: 1, seed: 5))
        #expect(DemoContent.body(request: 1, seed: 5) != DemoContent.body(request: 1, seed: 6))
        #expect(DemoContent.bitmap(width: 4, height: 2, frame: 1, seed: 1).count == 32)
    }
}
