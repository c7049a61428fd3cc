import Glibc
import IPCTransport
import IPCWire
import Testing

@Suite("SOCKET_TAKEOVER parsing and takeover (§7)", .serialized)
struct SocketTakeoverTests {
    typealias Entry = SocketTakeover.Entry

    @Test func parsesAndFormatsEntries() throws {
        #expect(try SocketTakeover.parse("WebContent:7") == [Entry(name: "WebContent", fd: 7)])
        let two = try SocketTakeover.parse("A:3;B:4;")
        #expect(two == [Entry(name: "A", fd: 3), Entry(name: "B", fd: 4)])
        #expect(SocketTakeover.format(two) == "A:3;B:4")
        #expect(try SocketTakeover.parse(SocketTakeover.format(two)) == two)
        #expect(SocketTakeover.format(name: "RequestServer", fd: 3) == "RequestServer:3")
    }

    @Test(arguments: [
        ("", SocketTakeover.ParseError.empty),
        (";;", .empty),
        ("WebContent", .malformedEntry("WebContent")),
        ("a:1:2", .malformedEntry("a:1:2")),
        (":3", .emptyName(entry: ":3")),
        ("a:", .invalidFD(entry: "a:")),
        ("a:-1", .invalidFD(entry: "a:-1")),
        ("a: 3", .invalidFD(entry: "a: 3")),
        ("a:99999999999", .invalidFD(entry: "a:99999999999")),
    ])
    func rejectsMalformedValues(value: String, expected: SocketTakeover.ParseError) {
        #expect(throws: expected) { try SocketTakeover.parse(value) }
    }

    @Test func selectsByNameOrRequiresExactlyOne() throws {
        let entries = [Entry(name: "A", fd: 3), Entry(name: "B", fd: 4), Entry(name: "A", fd: 5)]
        #expect(try SocketTakeover.select(name: "A", from: entries) == Entry(name: "A", fd: 5))
        #expect(throws: SocketTakeover.ParseError.noSuchName("C", available: ["A", "B"])) {
            try SocketTakeover.select(name: "C", from: entries)
        }
        #expect(throws: SocketTakeover.ParseError.ambiguous(names: ["A", "B"])) {
            try SocketTakeover.select(name: nil, from: entries)
        }
        #expect(try SocketTakeover.select(name: nil, from: [entries[1]]) == entries[1])
    }

    @Test func takeOverChecksTheSocketAndUnsetsTheVariable() throws {
        let pair = try SocketPair.makeRaw()
        try Descriptor.setCloseOnExec(pair.first, false)
        defer { Descriptor.closeAll([pair.first, pair.second]) }
        ProcessEnvironment.set("SOCKET_TAKEOVER", "Other:999;WebContent:\(pair.first)")
        #expect(try SocketTakeover.takeOver(name: "WebContent") == pair.first)
        #expect(ProcessEnvironment.get("SOCKET_TAKEOVER") == nil)
        #expect(try Descriptor.isCloseOnExec(pair.first))
        #expect(throws: TakeoverError.variableNotSet) { try SocketTakeover.takeOver() }
    }

    @Test func takeOverRefusesWhatIsNotASocket() throws {
        let pipe = try TestPipe()
        defer { pipe.close() }
        ProcessEnvironment.set("SOCKET_TAKEOVER", "WebContent:\(pipe.readEnd)")
        #expect(throws: TakeoverError.notASocket(fd: pipe.readEnd, kind: .pipe)) { try SocketTakeover.takeOver() }
        ProcessEnvironment.set("SOCKET_TAKEOVER", "A:3;B:4")
        #expect(throws: TakeoverError.malformed(.ambiguous(names: ["A", "B"]))) { try SocketTakeover.takeOver() }
        #expect(ProcessEnvironment.get("SOCKET_TAKEOVER") == nil)
    }
}
