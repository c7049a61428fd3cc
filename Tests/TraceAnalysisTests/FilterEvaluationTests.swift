import Testing
import TraceAnalysis

/// An event with exactly the fields given; every other field is absent. Counts parameter look-ups so
/// tests can see short-circuiting.
final class TableSubject: FilterSubject {
    var integers: [FilterIntegerField: Int64]
    var texts: [FilterTextField: [UInt8]]
    var parameters: [String: FilterParameterValue]
    var parameterLookups = 0

    init(_ integers: [FilterIntegerField: Int64] = [:], texts: [FilterTextField: String] = [:], parameters: [String: FilterParameterValue] = [:]) {
        self.integers = integers
        self.texts = texts.mapValues { Array($0.utf8) }
        self.parameters = parameters
    }

    func integer(_ field: FilterIntegerField) -> Int64? { integers[field] }

    func withText<R>(_ field: FilterTextField, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R? {
        texts[field].map { $0.withUnsafeBufferPointer(body) }
    }

    func parameter(_ path: FilterParameterPath) -> FilterParameterValue? {
        parameterLookups += 1
        return parameters[path.description]
    }
}

@Suite struct FilterEvaluationTests {
    /// A load_url request from UI (side A, pid 10) to WebContent (side B, pid 20) on channel 3.
    static func request() -> TableSubject {
        TableSubject(
            [.channel: 3, .kind: 3, .direction: 0, .pidA: 10, .pidB: 20, .messageID: 7, .magic: 0xABCD, .size: 96, .fds: 0,
             .time: 1_500_000_000, .latency: 2_100_000],
            texts: [.endpointA: "WebContentClient", .endpointB: "WebContentServer", .processA: "Ladybird", .processB: "WebContent",
                    .message: "WebContentServer::load_url"],
            parameters: ["url": .text("https://Example.org/"), "page_id": .unsigned(1), "headers.0.name": .text("Host"),
                         "flag": .boolean(true), "empty": .composite(count: 0), "none": .absent])
    }

    /// A queue sample of the other direction: no message, size, fds or latency.
    static func sample() -> TableSubject {
        TableSubject(
            [.channel: 3, .kind: 6, .direction: 1, .pidA: 10, .pidB: 20, .time: 2_000_000_000],
            texts: [.endpointA: "WebContentClient", .endpointB: "WebContentServer", .processA: "Ladybird", .processB: "WebContent"])
    }

    static let table: [(filter: String, request: Bool, sample: Bool)] = [
        ("", true, true),
        ("kind == frame", true, false),
        ("kind == sample", false, true),
        ("kind in {frame, sample}", true, true),
        ("kind not in {frame, ack}", false, true),
        ("kind != frame", false, true),
        ("kind", true, true),
        ("channel == 3 and channel >= 3 and channel <= 3 and channel > 2 and channel < 4", true, true),
        ("channel in {1, 2}", false, false),
        ("dir == a>b", true, false),
        ("dir == b>a", false, true),
        ("dir", true, true),
        ("dir == WebContentClient>WebContentServer", true, false),
        ("dir == \"WebContentServer>WebContentClient\"", false, true),
        ("dir == Ladybird->WebContent", true, false),
        ("dir == *>WebContent*", true, true),
        ("dir == *>WebContentServer", true, false),
        ("dir in {b>a, \"x>y\"}", false, true),
        // Side fields match either side (like tshark's ip.addr); != means "neither side".
        ("endpoint == WebContentServer", true, true),
        ("endpoint == \"WebContent*\"", true, true),
        ("endpoint != WebContentServer", false, false),
        ("endpoint ~ client", true, true),
        ("endpoint !~ client", false, false),
        ("endpoint in {Nope, WebContentClient}", true, true),
        ("process == WebContent", true, true),
        ("pid == 20", true, true),
        ("pid == 30", false, false),
        ("pid in {30, 10}", true, true),
        ("sender.pid == 10", true, false),
        ("sender.pid == 20", false, true),
        ("receiver.endpoint == WebContentServer", true, false),
        ("sender.process == WebContent", false, true),
        ("message == \"WebContent*::load_url\"", true, false),
        ("message == \"WebContentServer::load_url\"", true, false),
        ("message == \"*::LOAD_URL\"", false, false),
        ("message ~ \"LOAD\"", true, false),
        // A field the event lacks: every comparison is false, its negation true.
        ("message != \"x\"", true, true),
        ("not message == \"*\"", false, true),
        ("message", true, false),
        ("size > 64", true, false),
        ("size <= 64", false, false),
        ("not size <= 64", true, true),
        ("size", true, false),
        ("fds", false, false),
        ("fds == 0", true, false),
        ("id == 7 and magic == 0xABCD", true, false),
        ("time > 1.6s", false, true),
        ("time >= 1500ms and time < 2s", true, false),
        ("latency > 2ms and latency < 2.2ms", true, false),
        ("latency", true, false),
        ("violation", false, false),
        ("severity == warning", false, false),
        ("param.url ~ \"example\"", true, false),
        ("param.url == \"https://*\"", true, false),
        ("param.url == \"https://example.org/\"", false, false),
        ("param.page_id == 1 and param.page_id in {1, 2} and param.page_id < 2", true, false),
        ("param.headers.0.name == Host", true, false),
        ("param.flag and param.flag == true", true, false),
        ("param.empty or param.none or param.missing", false, false),
        ("param.url > 3", false, false),
        ("(kind == frame or kind == sample) and not (dir == b>a and time < 1s)", true, true),
        ("kind == frame || kind == sample && dir == a>b", true, false),
        ("!(kind == frame) && !!dir", false, true),
    ]

    @Test(arguments: table)
    func evaluatesOverEvents(filter: String, request: Bool, sample: Bool) throws {
        let compiled = try CompiledFilter(filter)
        #expect(compiled.matches(Self.request()) == request, "request")
        #expect(compiled.matches(Self.sample()) == sample, "sample")
    }

    /// Backslash escapes mean the character itself for `==` (globs) and `~` (substrings) alike.
    @Test func escapedCharactersMatchThemselves() throws {
        let subject = TableSubject(texts: [.message: #"A::x*y\z?"#])
        #expect(try CompiledFilter(#"message ~ "\*y\\z\?""#).matches(subject))
        #expect(try CompiledFilter(#"message == "A::x\*y\\z\?""#).matches(subject))
        #expect(try CompiledFilter(#"message == "*\\*""#).matches(subject))
        #expect(try !CompiledFilter(#"message == "A::x\*y""#).matches(subject))
        #expect(try !CompiledFilter(#"message ~ "x\\*""#).matches(subject))
    }

    /// `and` stops at the first false operand and `or` at the first true one: a param test after them
    /// (which would decode a payload) is not reached.
    @Test func andAndOrShortCircuit() throws {
        let subject = Self.sample()
        #expect(try !CompiledFilter("kind == frame and param.url ~ \"x\"").matches(subject))
        #expect(try CompiledFilter("kind == sample or param.url ~ \"x\"").matches(subject))
        #expect(try !CompiledFilter("not (kind == sample or param.a) and param.b").matches(subject))
        #expect(subject.parameterLookups == 0)
        #expect(try !CompiledFilter("kind == sample and param.url ~ \"x\"").matches(subject))
        #expect(subject.parameterLookups == 1)
    }

    /// The compiled program has one instruction per test and per connective, no more: `a and b and c`
    /// is three tests and two jumps, and the side expansion of `endpoint` two tests and one jump.
    @Test func compilesToFlatPrograms() throws {
        #expect(try CompiledFilter("kind == frame and size > 1 and fds").instructionCount == 5)
        #expect(try CompiledFilter("endpoint == x").instructionCount == 3)
        #expect(try CompiledFilter("not size").instructionCount == 2)
        #expect(try CompiledFilter("").instructionCount == 0)
    }

    /// A reader learns what a filter needs: index fields only, side identities, or decoded payloads.
    @Test func filtersSayWhichFieldsTheyRead() throws {
        let indexOnly = try CompiledFilter("kind in {frame, ack} and dir == a>b and time > 1s and not channel == 2")
        #expect(indexOnly.integerFields == [.kind, .direction, .time, .channel])
        #expect(indexOnly.textFields.isEmpty && !indexOnly.usesParameters)
        let names = try CompiledFilter("dir == UI>WebContent or message ~ load")
        #expect(names.integerFields == [.direction])
        #expect(names.textFields == [.endpointA, .endpointB, .processA, .processB, .message])
        #expect(try CompiledFilter("sender.pid == 3").integerFields == [.direction, .pidA, .pidB])
        #expect(try CompiledFilter("size or param.url").usesParameters)
    }

    @Test func canonicalTextOfACompiledFilter() throws {
        #expect(try CompiledFilter("kind==frame&&(dir==a>b||size>4KiB)").canonicalText == "kind == frame and (dir == a>b or size > 4KiB)")
    }
}
