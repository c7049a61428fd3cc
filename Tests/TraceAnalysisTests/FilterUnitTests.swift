import Testing
@testable import TraceAnalysis

/// Numbers with units convert exactly; globs and substring search behave as docs/filters.md says.
@Suite struct FilterUnitTests {
    static let numbers: [(text: String, value: Int64, dimension: FilterNumber.Dimension)] = [
        ("42", 42, .plain), ("0x1F", 31, .plain), ("0XfF", 255, .plain), ("-1", -1, .plain), ("1_000_000", 1_000_000, .plain),
        ("4k", 4000, .plain), ("4K", 4000, .plain), ("2M", 2_000_000, .plain), ("1G", 1_000_000_000, .plain),
        ("64KiB", 65_536, .bytes), ("1MiB", 1_048_576, .bytes), ("1GiB", 1 << 30, .bytes), ("1.5MB", 1_500_000, .bytes),
        ("0.5KiB", 512, .bytes), ("3kB", 3000, .bytes), ("7B", 7, .bytes),
        ("250us", 250_000, .duration), ("250µs", 250_000, .duration), ("250μs", 250_000, .duration), ("10ms", 10_000_000, .duration),
        ("1.5s", 1_500_000_000, .duration), ("0.000000001s", 1, .duration), ("2min", 120_000_000_000, .duration),
        ("3ns", 3, .duration), ("9223372036854775807", Int64.max, .plain),
    ]

    @Test(arguments: numbers)
    func numbersConvertExactly(text: String, value: Int64, dimension: FilterNumber.Dimension) {
        #expect(FilterNumber.parse(text) == .success(FilterNumber(value: value, dimension: dimension)))
    }

    @Test func badNumbersSayWhy() {
        #expect(FilterNumber.parse("1.5ns") == .failure(.malformed("'1.5ns' is not a whole number of nanoseconds")))
        #expect(FilterNumber.parse("5xs") == .failure(.unknownUnit("xs")))
        #expect(FilterNumber.parse("0x") == .failure(.malformed("expected hex digits after '0x'")))
        #expect(FilterNumber.parse("0x1Fms") == .failure(.malformed("'0x1Fms' is not a hex number (units do not follow hex numbers)")))
        #expect(FilterNumber.parse("9223372036854775808") == .failure(.tooLarge))
        #expect(FilterNumber.parse("9223372036854775807k") == .failure(.tooLarge))
        #expect(FilterNumber.parse("1.") == .failure(.malformed("'1.' is not a number")))
    }

    /// The lexer keeps a number and its unit together, so `10ms` reaches the type checker whole.
    @Test func unitsCompileThroughTheWholePipeline() throws {
        #expect(throws: Never.self) { try CompiledFilter("time > 10ms and latency < 1.5s and size >= 64KiB and fds < 4k") }
    }

    static let globs: [(pattern: String, text: String, matches: Bool)] = [
        ("WebContent*::load_url", "WebContentServer::load_url", true),
        ("WebContent*::load_url", "WebContentServer::load_url_now", false),
        ("*::load_url", "A::B::load_url", true),
        ("*", "", true),
        ("", "", true),
        ("", "x", false),
        ("?", "ü", true),
        ("??", "ü", false),
        ("?ber", "über", true),
        ("a*", "a", true),
        ("*a", "ba", true),
        (#"a\*b"#, "a*b", true),
        (#"a\*b"#, "axb", false),
        (#"a\?"#, "a?", true),
        (#"a\\b"#, #"a\b"#, true),
        ("Web*", "web", false),
        ("*a*a*a*a*a*a*b", String(repeating: "a", count: 2000), false),
        ("*ab*cd*", "xxabyycdzz", true),
        ("*ab*cd*", "xxcdyyabzz", false),
    ]

    @Test(arguments: globs)
    func globsMatchWholeTextsCaseSensitively(pattern: String, text: String, matches: Bool) {
        let result = Array(pattern.utf8).withUnsafeBufferPointer { p in Array(text.utf8).withUnsafeBufferPointer { FilterGlob.matches(p, $0) } }
        #expect(result == matches)
    }

    static let searches: [(text: String, needle: String, found: Bool)] = [
        ("WebContentServer::LoadURL", "loadurl", true), ("LOAD", "load", true), ("load", "LOAD", true),
        ("abc", "", true), ("", "a", false), ("ab", "abc", false),
        // Only ASCII letters fold: Ü and ü are different.
        ("Über", "über", false), ("über", "ÜBER", false), ("xüy", "ü", true),
    ]

    @Test(arguments: searches)
    func containsIgnoresASCIICase(text: String, needle: String, found: Bool) {
        let needle = FilterGlob.lowercased(Array(needle.utf8))
        let result = Array(text.utf8).withUnsafeBufferPointer { t in needle.withUnsafeBufferPointer { FilterGlob.containsIgnoringCase(t, $0) } }
        #expect(result == found)
    }
}
