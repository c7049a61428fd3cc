/// UTF-8 validation without building a String, so a long payload string costs no allocation to check.
enum UTF8Text {
    /// Offset of the first byte that does not start a valid UTF-8 sequence, or nil when all is valid.
    static func firstInvalidOffset(in bytes: UnsafeRawBufferPointer) -> Int? {
        // Fast path: plain ASCII needs no decoding.
        var offset = 0
        while offset < bytes.count, bytes[offset] < 0x80 { offset += 1 }
        if offset == bytes.count { return nil }

        var iterator = UnsafeRawBufferPointer(rebasing: bytes[offset...]).makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar):
                offset += scalar.count
            case .error:
                return offset
            case .emptyInput:
                return nil
            }
        }
    }
}
