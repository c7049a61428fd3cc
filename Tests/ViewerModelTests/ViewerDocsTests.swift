import Foundation
import Testing
@testable import ViewerModel

@Suite struct ViewerDocsTests {
    static let document = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../docs/viewer.md").standardizedFileURL.path

    /// docs/viewer.md's key table is the key table: the lines between its markers are `KeyTable.markdown`.
    @Test func theDocumentedKeysAreTheKeyTable() throws {
        let text = try String(contentsOfFile: Self.document, encoding: .utf8)
        let begin = try #require(text.range(of: "<!-- keys: generated from KeyTable.markdown -->\n"))
        let end = try #require(text.range(of: "<!-- end of keys -->"))
        #expect(String(text[begin.upperBound..<end.lowerBound]) == KeyTable.markdown)
    }
}
