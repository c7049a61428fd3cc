import Foundation

/// Every value the peers exchange and check, generated from the seed so that sender and receiver can
/// compute the same thing independently (and no per-message state has to be kept).
enum DemoContent {
    static let pageID: UInt64 = 1
    /// The seed travels in the page URL, so the helpers learn it from the traffic itself.
    static func pageURL(seed: UInt64) -> String { "https://example.org/ipcscope-demo?seed=\(seed)" }
    static func seed(fromURL url: String) -> UInt64? {
        guard let range = url.range(of: "?seed=") else { return nil }
        return UInt64(url[range.upperBound...].prefix(while: \.isNumber))
    }
    static let websocketURL = "wss://example.org/live"
    static let origin = "https://example.org"
    static let pageTitle = "ipcscope demo — LibIPC in Swift"
    static let htmlDocument = "<!doctype html><html><head><title>\(pageTitle)</title></head><body><p>héllo</p></body></html>"
    static let cookieValue = "session=4c1b; theme=dark"
    static let websocketID: Int64 = 0x7E57
    /// Request 1 is the page itself; request 2 is started and then stopped.
    static let pageRequestID: Int32 = 1
    static let cancelledRequestID: Int32 = 2

    /// SplitMix64: a tiny, good-enough generator for reproducible values.
    static func mix(_ seed: UInt64, _ index: UInt64) -> UInt64 {
        var z = seed &+ index &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    // MARK: Response body (RequestServer → WebContent through a pipe)

    static func bodyLength(request: Int32, seed: UInt64) -> Int {
        20_000 + Int(mix(seed, UInt64(request)) % 8_192)
    }

    /// An HTML-looking head followed by seeded bytes.
    static func body(request: Int32, seed: UInt64) -> [UInt8] {
        let length = bodyLength(request: request, seed: seed)
        var bytes = Array(htmlDocument.utf8)
        bytes.reserveCapacity(length)
        var index: UInt64 = 0
        while bytes.count < length {
            let word = mix(seed ^ 0xB0D7, index)
            withUnsafeBytes(of: word.littleEndian) { bytes.append(contentsOf: $0.prefix(length - bytes.count)) }
            index += 1
        }
        return Array(bytes.prefix(length))
    }

    // MARK: Bitmaps (did_paint's AnonymousBuffer)

    /// RGBA pixels of paint number `frame`.
    static func bitmap(width: Int, height: Int, frame: Int, seed: UInt64) -> [UInt8] {
        var pixels = [UInt8](repeating: 0, count: width * height * 4)
        let tint = UInt8(truncatingIfNeeded: mix(seed, UInt64(frame)))
        for y in 0..<height {
            for x in 0..<width {
                let offset = (y * width + x) * 4
                pixels[offset] = UInt8(truncatingIfNeeded: x &* 4 ^ frame)
                pixels[offset + 1] = UInt8(truncatingIfNeeded: y &* 4) ^ tint
                pixels[offset + 2] = UInt8(truncatingIfNeeded: x &+ y &+ frame)
                pixels[offset + 3] = 0xFF
            }
        }
        return pixels
    }

    /// The first paint shows the loaded page; later ones are repaints after input.
    static func paintSize(frame: Int) -> (width: Int32, height: Int32) {
        frame == 0 ? (64, 48) : (32, 32)
    }

    // MARK: WebSocket frames

    static func websocketPayload(_ index: UInt64, seed: UInt64) -> [UInt8] {
        let word = mix(seed ^ 0x50CE, index)
        let length = 16 + Int(word % 48)
        return (0..<length).map { UInt8(truncatingIfNeeded: word >> (UInt64($0) % 57)) ^ UInt8(truncatingIfNeeded: $0) }
    }

    // MARK: Message port records

    /// The UI posts 5 records on its port: 2 before the hand-over (they arrive while nobody reads),
    /// 3 after it (WebContent receives them on the adopted transport).
    static let portMessagesBeforeTransfer = 2
    static let portMessagesAfterTransfer = 3

    static func portMessage(_ number: Int) -> String { "postMessage #\(number) from UI" }
    static func portReply(_ number: Int) -> String { "reply to #\(number) from WebContent" }

    /// A SerializedTransferRecord (docs/protocol.md §6): Vector<u8> serialization record, then zero transfer
    /// data holders. The record bytes stand in for the structured-serialize stream of a string.
    static func transferRecord(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        let record = Array(text.utf8)
        appendU32(UInt32(record.count), to: &bytes)
        bytes.append(contentsOf: record)
        appendU32(0, to: &bytes)
        return bytes
    }

    private static func appendU32(_ value: UInt32, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
}
