import IPCWire
import Testing
import TraceFormat
@testable import TraceAnalysis

/// ShowFormatter without a process: colour only when asked, and text from the trace cannot drive a terminal.
@Suite struct ShowFormatterTests {
    static let header = TraceHeader(
        createdWallClockNanoseconds: 1_790_000_000_000_000_000, monotonicAnchorNanoseconds: 1_000_000_000,
        hostName: "test", ipcscopeVersion: "0.1.0", commandLine: ["test"], snapLength: 4096)

    static func formatter(_ records: [TraceRecord], colour: Bool) -> ShowFormatter {
        let numbered = ([TraceRecord.header(header)] + records).enumerated().map { (offset: $0.offset * 100, record: $0.element) }
        return ShowFormatter(context: TraceFilterContext(records: numbered), header: header, colour: colour)
    }

    static let violation = TraceRecord.violation(ViolationRecord(
        time: 1_000_002_000, channel: 1, direction: .aToB,
        violation: Violation(kind: .tooManyFDsInFrame, limit: 128, observed: 129, streamOffset: 0, frameIndex: 0)))

    @Test func colourOnlyWhenAsked() {
        var plain = Self.formatter([Self.violation], colour: false)
        let line = plain.format(number: 1, record: Self.violation, offset: 100)
        #expect(line.contains("VIOLATION too-many-fds-in-frame"))
        #expect(!line.contains("\u{1B}"))
        var coloured = Self.formatter([Self.violation], colour: true)
        #expect(coloured.format(number: 1, record: Self.violation, offset: 100).contains("\u{1B}[1;31mVIOLATION too-many-fds-in-frame\u{1B}[0m"))
    }

    @Test func controlCharactersFromTheTraceAreEscaped() {
        let hostile = "Evil\u{1B}]0;pwned\u{07}\r\nforged line\u{9B}"
        let endpoint = TraceRecord.endpoint(EndpointRecord(time: 1_000_001_000, channel: 1, side: .a, pid: 5, endpointName: hostile))
        var formatter = Self.formatter([endpoint, Self.violation], colour: false)
        let text = formatter.format(number: 1, record: endpoint, offset: 100) + formatter.format(number: 2, record: Self.violation, offset: 200)
        #expect(!text.unicodeScalars.contains { ShowFormatter.isControl($0) && $0 != "\n" })
        #expect(text.split(separator: "\n").count == 2)
        #expect(text.contains("Evil\\u{1b}]0;pwned\\u{7}\\u{d}\\u{a}forged line\\u{9b}"))
    }

    @Test func timesAndHexDump() {
        #expect(ShowFormatter.seconds(1_234_567_891) == "1.234567")
        #expect(ShowFormatter.seconds(-1_500) == "-0.000001")
        #expect(ShowFormatter.utc(0) == "1970-01-01 00:00:00.000000")
        #expect(ShowFormatter.utc(951_782_400_000_001_000) == "2000-02-29 00:00:00.000001")
        #expect(ShowFormatter.utc(-1_000) == "1969-12-31 23:59:59.999999")
        let dump = ShowFormatter.hexDump(Array(0..<18))
        #expect(dump == """
            0000  00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f  |................|
            0010  10 11                                             |..|

            """)
    }
}
