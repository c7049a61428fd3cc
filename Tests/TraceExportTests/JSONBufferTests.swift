import Foundation
import Testing
@testable import TraceExport

/// The hand-written escaper: control characters escaped, valid UTF-8 kept, each invalid byte replaced by
/// U+FFFD, and the result parsed back by JSONSerialization.
@Suite struct JSONBufferTests {
    func render(_ bytes: [UInt8]) -> String {
        let buffer = JSONBuffer()
        buffer.string(bytes: bytes)
        return String(decoding: buffer.bytes, as: UTF8.self)
    }

    @Test func controlCharactersAndQuotesAreEscaped() throws {
        let all = (0..<0x80).map(UInt8.init)
        let json = render(all)
        let parsed = try JSONSerialization.jsonObject(with: Data(("[" + json + "]").utf8)) as? [String]
        #expect(parsed?.first == String(decoding: all, as: UTF8.self))
        #expect(!json.utf8.dropFirst().dropLast().contains { $0 < 0x20 })
    }

    @Test func validUTF8IsKeptAndInvalidBytesReplaced() throws {
        #expect(render(Array("héllo ☃ 𝄞".utf8)) == "\"héllo ☃ 𝄞\"")
        // A lone continuation byte, an overlong encoding, a surrogate, a truncated sequence.
        #expect(render([0x61, 0x80, 0x62]) == "\"a\u{FFFD}b\"")
        #expect(render([0xC0, 0xAF]) == "\"\u{FFFD}\u{FFFD}\"")
        #expect(render([0xED, 0xA0, 0x80]) == "\"\u{FFFD}\u{FFFD}\u{FFFD}\"")
        #expect(render([0xE2, 0x98]) == "\"\u{FFFD}\u{FFFD}\"")
    }

    @Test func structureNumbersAndBase64() throws {
        let buffer = JSONBuffer()
        buffer.beginObject()
        buffer.key("a"); buffer.int(-5)
        buffer.key("b"); buffer.uint(UInt64.max)
        buffer.key("c"); buffer.seconds(nanoseconds: 1_000_000_007)
        buffer.key("d"); buffer.beginArray(); buffer.int(Int64.min); buffer.base64([1, 2, 3, 4]); buffer.null(); buffer.endArray()
        buffer.key(text: "e\"f"); buffer.microseconds(nanoseconds: 1234)
        buffer.endObject()
        #expect(String(decoding: buffer.bytes, as: UTF8.self)
            == #"{"a":-5,"b":18446744073709551615,"c":1.000000007,"d":[-9223372036854775808,"AQIDBA==",null],"e\"f":1.234}"#)
    }
}
