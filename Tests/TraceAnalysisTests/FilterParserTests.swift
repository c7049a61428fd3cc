import Testing
@testable import TraceAnalysis

/// Parsing: canonical printing round-trips, and every error names its column and what was expected.
@Suite struct FilterParserTests {
    static let roundTrips: [(input: String, canonical: String)] = [
        ("channel == 3", "channel == 3"),
        ("kind==frame&&dir==a>b", "kind == frame and dir == a>b"),
        ("kind || size && !fds", "kind or size and not fds"),
        ("(kind == frame or kind == ack) and size > 4k", "(kind == frame or kind == ack) and size > 4k"),
        ("(kind or size) or fds", "(kind or size) or fds"),
        ("kind and (size and fds)", "kind and (size and fds)"),
        ("not not size", "not not size"),
        ("!(size || fds)", "not (size or fds)"),
        ("((size))", "size"),
        ("message == 'WebContent*::load_url'", "message == \"WebContent*::load_url\""),
        ("message == WebContent*::load_url", "message == WebContent*::load_url"),
        (#"param.url ~ "exa\"mple\n\t\\""#, #"param.url ~ "exa\"mple\n\t\\""#),
        (#"message == "a\*b\?""#, #"message == "a\*b\?""#),
        ("kind in {frame,ack,}", "kind in {frame, ack}"),
        ("kind not in { eof }", "kind not in {eof}"),
        ("dir == UI -> WebContent", "dir == UI>WebContent"),
        ("dir == \"My App\" → UI", "dir == \"My App>UI\""),
        ("dir in {a>b, b > a}", "dir in {a>b, b>a}"),
        ("endpoint = x", "endpoint == x"),
        ("time >= 1.5s and size <= 64KiB and pid != -1 and magic == 0xFF", "time >= 1.5s and size <= 64KiB and pid != -1 and magic == 0xFF"),
        ("endpoint == \"Ünïcödé\"", "endpoint == \"Ünïcödé\""),
        ("param.headers.0.name !~ \"x\\u{1F}\"", "param.headers.0.name !~ \"x\\u{1F}\""),
        ("param.h == '\\x41\\u{e9}'", "param.h == \"Aé\""),
        // Found by the filter fuzzer: a sender ending in '-' lost a hyphen on each print (`ve-->b` relexes as `ve-` `->` `b`).
        ("dir == ve---->b", "dir == ve--- > b"),
        ("dir == x- > y", "dir == x- > y"),
    ]

    @Test(arguments: roundTrips)
    func printsCanonicalTextThatParsesToTheSameTree(input: String, canonical: String) throws {
        let parsed = try #require(try FilterParser.parse(input))
        let printed = FilterPrinter.print(parsed)
        #expect(printed == canonical)
        let reparsed = try #require(try FilterParser.parse(printed))
        #expect(reparsed.withoutPositions == parsed.withoutPositions)
        #expect(FilterPrinter.print(reparsed) == printed)
    }

    @Test func blankFiltersMatchEverything() throws {
        #expect(try FilterParser.parse("") == nil)
        #expect(try FilterParser.parse("  \t\n") == nil)
        #expect(try CompiledFilter(" ").canonicalText == "")
    }

    @Test func andBindsTighterThanOr() throws {
        let parsed = try FilterParser.parse("size or fds and kind")
        guard case .or(let operands)? = parsed else { Issue.record("not an or: \(String(describing: parsed))"); return }
        #expect(operands.count == 2)
        if case .and = operands[1] {} else { Issue.record("the right operand should be the and") }
    }

    /// Every bad input gives exactly this error, from the parser or the type checker (compile time).
    static let errors: [(input: String, error: String)] = [
        ("size == ", "column 9: expected a value after '==', found end of input"),
        ("size ==", "column 8: expected a value after '==', found end of input"),
        ("(kind == frame", "column 15: expected ')' to close the '(' at column 1, found end of input"),
        ("kind == frame)", "column 14: expected 'and', 'or' or end of input, found ')'"),
        ("and size", "column 1: expected a field name, '(' or 'not', found 'and'"),
        ("not", "column 4: expected a field name, '(' or 'not', found end of input"),
        ("size 5", "column 6: expected an operator (== != < <= > >= ~ !~ in) after 'size', found '5'"),
        ("size > 5 &", "column 10: expected '&&' (or 'and'), found a single '&'"),
        ("size > 5 | fds", "column 10: expected '||' (or 'or'), found a single '|'"),
        ("size > 5 garbage", "column 10: expected 'and', 'or' or end of input, found 'garbage'"),
        ("message == \"abc", "column 12: unterminated string: expected a closing '\"' before end of input"),
        ("message == \"\\q\"", "column 13: unknown escape '\\q': expected one of \\\" \\' \\\\ \\n \\t \\r \\0 \\xHH \\u{…} \\* \\?"),
        ("message == \"\\u{D800}\"", "column 13: '\\u{…}' is not a Unicode scalar value"),
        ("kind in frame", "column 9: expected '{' after 'in', found 'frame'"),
        ("kind in {frame ack}", "column 16: expected ',' or '}' in the set, found 'ack'"),
        ("kind in {}", "column 10: expected a value after '{', found '}'"),
        ("size not 5", "column 10: expected 'in' after 'not' following a field, found '5'"),
        ("é #", "column 3: unexpected character '#'"),
        ("size > 5 $", "column 10: unexpected character '$'"),
        ("chanel == 1", "column 1: unknown field 'chanel': did you mean 'channel'?"),
        ("latncy > 1ms", "column 1: unknown field 'latncy': did you mean 'latency'?"),
        ("xyzzyplugh", "column 1: unknown field 'xyzzyplugh': expected one of channel, kind, dir, endpoint, process, pid, sender.endpoint, sender.process, sender.pid, receiver.endpoint, receiver.process, receiver.pid, message, id, magic, size, fds, time, latency, violation, severity, param.NAME"),
        ("param ~ x", "column 1: unknown field 'param': expected param.NAME, param.NAME.FIELD or param.NAME.INDEX"),
        ("sender.size > 1", "column 1: unknown field 'sender.size': expected sender.endpoint, sender.process or sender.pid"),
        ("size > 5 \(String(repeating: "x", count: 100))", "column 10: expected 'and', 'or' or end of input, found '\(String(repeating: "x", count: 37))...'"),
        ("param. == 1", "column 1: unknown field 'param.': expected param.NAME, param.NAME.FIELD or param.NAME.INDEX"),
        ("size ~ 5", "column 1: '~' searches text, but 'size' is a number: compare it with == != < <= > >="),
        ("time > \"x\"", "column 8: expected a duration such as 10ms or 1.5s for 'time', found a string"),
        ("time > 5", "column 8: 'time' is a duration: give a time unit (ns, us, ms, s, min), e.g. 5ms"),
        ("size > big", "column 8: expected a size such as 4096 or 64KiB for 'size', found 'big'"),
        ("size > 5xs", "column 8: unknown unit 'xs': expected one of k M G, B kB KiB MB MiB GB GiB, ns us ms s min"),
        ("size > 1.5B", "column 8: '1.5B' is not a whole number of bytes"),
        ("size > 99999999999999999999", "column 8: number too large (the limit is 2^63 - 1)"),
        ("fds > 4KiB", "column 7: 'fds' is a count: '4KiB' has a unit that does not fit it"),
        ("latency > 1KiB", "column 11: 'latency' is a duration: give a time unit (ns, us, ms, s, min), e.g. 1ms"),
        ("kind == frme", "column 9: unknown kind 'frme': did you mean 'frame'?"),
        ("kind < frame", "column 1: 'kind' compares with '==', '!=' or 'in', not '<'"),
        ("dir ~ a", "column 1: 'dir' compares with '==', '!=' or 'in', not '~'"),
        ("dir == sideways", "column 8: expected a direction: a>b, b>a or SENDER>RECEIVER (endpoint or process names, globs allowed), found 'sideways'"),
        ("endpoint < 3", "column 1: '<' compares numbers, but 'endpoint' is text: use == (glob) or ~ (contains)"),
        ("param.x ~ 5", "column 11: '~' searches text: quote the number (\"5\") to search for its digits"),
        ("param.x > abc", "column 11: '>' compares numbers: expected a number, found 'abc'"),
        ("param.x in {1, a}", "column 16: a set mixes numbers and text: quote the numbers to match them as text"),
        // Columns count characters, not bytes: "ü" is two bytes and one column.
        ("endpoint == \"ü\" and size ~ \"x\"", "column 21: '~' searches text, but 'size' is a number: compare it with == != < <= > >="),
        ("process == \"日本\" and", "column 20: expected a field name, '(' or 'not', found end of input"),
    ]

    @Test(arguments: errors)
    func badInputNamesTheColumnAndWhatWasExpected(input: String, error expected: String) {
        do {
            _ = try CompiledFilter(input)
            Issue.record("\(input) compiled")
        } catch {
            #expect(error.description == expected, "input: \(input)")
        }
    }

    @Test func nestingIsBoundedWithoutRecursingDeeply() {
        let limit = FilterLimits.maxDepth
        let deepest = String(repeating: "(", count: limit) + "size" + String(repeating: ")", count: limit)
        #expect((try? CompiledFilter(deepest)) != nil)
        let tooDeep = String(repeating: "(", count: limit + 1) + "size" + String(repeating: ")", count: limit + 1)
        #expect(throws: FilterError(column: limit + 1, message: "nesting deeper than \(limit) levels of '(' and 'not'")) {
            try CompiledFilter(tooDeep)
        }
        #expect(throws: FilterError(column: limit + 1, message: "nesting deeper than \(limit) levels of '(' and 'not'")) {
            try CompiledFilter(String(repeating: "!", count: 10_000) + "size")
        }
        // 100 000 '(' is refused (over the length limit) before anything recurses.
        #expect(throws: FilterError(column: FilterLimits.maxLength + 1, message: "filter longer than \(FilterLimits.maxLength) bytes")) {
            try CompiledFilter(String(repeating: "(", count: 100_000))
        }
    }

    /// Long chains are loops, not recursion: a filter at the length limit made of `or`s compiles.
    @Test func longChainsCompile() throws {
        var text = "size"
        while text.utf8.count + 8 <= FilterLimits.maxLength { text += " or size" }
        let filter = try CompiledFilter(text)
        #expect(filter.instructionCount > 3000)
    }
}
