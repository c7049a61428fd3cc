/// Text matching on UTF-8 bytes, without allocating: globs for `==`, case-insensitive substrings for `~`.
enum FilterGlob {
    /// Whether `pattern` matches all of `text`. `*` matches any run of characters (also none, also `::`),
    /// `?` exactly one character (a Unicode scalar), `\*` `\?` `\\` the character itself. Case-sensitive.
    /// Linear backtracking to the last `*` only: O(text × pattern) at worst, never exponential.
    static func matches(_ pattern: UnsafeBufferPointer<UInt8>, _ text: UnsafeBufferPointer<UInt8>) -> Bool {
        var p = 0, s = 0
        var starP = -1, starS = 0
        while s < text.count {
            if p < pattern.count {
                let c = pattern[p]
                if c == UInt8(ascii: "*") {
                    starP = p
                    starS = s
                    p += 1
                    continue
                }
                if c == UInt8(ascii: "?") {
                    s = nextScalar(after: s, in: text)
                    p += 1
                    continue
                }
                var literal = c, length = 1
                if c == UInt8(ascii: "\\"), p + 1 < pattern.count, isEscapable(pattern[p + 1]) {
                    literal = pattern[p + 1]
                    length = 2
                }
                if text[s] == literal {
                    s += 1
                    p += length
                    continue
                }
            }
            guard starP >= 0 else { return false }
            starS = nextScalar(after: starS, in: text)
            s = starS
            p = starP + 1
        }
        while p < pattern.count, pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }

    static func isEscapable(_ b: UInt8) -> Bool {
        b == UInt8(ascii: "*") || b == UInt8(ascii: "?") || b == UInt8(ascii: "\\")
    }

    /// The offset after the scalar that starts at `index` (continuation bytes 10xxxxxx belong to it).
    static func nextScalar(after index: Int, in text: UnsafeBufferPointer<UInt8>) -> Int {
        var next = index + 1
        while next < text.count, text[next] & 0xC0 == 0x80 { next += 1 }
        return next
    }

    /// Whether `text` contains `needle` (already lowercased), folding ASCII letters of `text`.
    static func containsIgnoringCase(_ text: UnsafeBufferPointer<UInt8>, _ needle: UnsafeBufferPointer<UInt8>) -> Bool {
        guard needle.count <= text.count else { return false }
        if needle.isEmpty { return true }
        let first = needle[0]
        var start = 0
        while start <= text.count - needle.count {
            if lower(text[start]) == first {
                var k = 1
                while k < needle.count, lower(text[start + k]) == needle[k] { k += 1 }
                if k == needle.count { return true }
            }
            start += 1
        }
        return false
    }

    @inline(__always) static func lower(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }

    static func lowercased(_ bytes: [UInt8]) -> [UInt8] { bytes.map(lower) }

    /// Drops the backslash of `\*`, `\?` and `\\` (a pattern without wildcards compares as exact bytes).
    static func unescaped(_ bytes: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\\"), index + 1 < bytes.count, isEscapable(bytes[index + 1]) {
                result.append(bytes[index + 1])
                index += 2
            } else {
                result.append(bytes[index])
                index += 1
            }
        }
        return result
    }
}
