/// A number literal with its unit, converted exactly (integer arithmetic, no floating point):
/// `42`, `0x1F`, `-1`, `1_000`, `4k` (×1000), `64KiB` (×1024), `1.5MB`, `250us`, `10ms`, `1.5s`.
struct FilterNumber: Equatable {
    enum Dimension: Equatable {
        /// No unit, or an SI multiplier (k, M, G): fits counts, ids and sizes (as bytes).
        case plain
        /// A byte unit: fits sizes only.
        case bytes
        /// A time unit; the value is in nanoseconds.
        case duration
    }

    var value: Int64
    var dimension: Dimension

    static let units: [(name: String, scale: Int64, dimension: Dimension)] = [
        ("k", 1000, .plain), ("K", 1000, .plain), ("M", 1_000_000, .plain), ("G", 1_000_000_000, .plain),
        ("B", 1, .bytes), ("kB", 1000, .bytes), ("KB", 1000, .bytes), ("KiB", 1024, .bytes),
        ("MB", 1_000_000, .bytes), ("MiB", 1 << 20, .bytes), ("GB", 1_000_000_000, .bytes), ("GiB", 1 << 30, .bytes),
        ("ns", 1, .duration), ("us", 1000, .duration), ("µs", 1000, .duration), ("μs", 1000, .duration), ("ms", 1_000_000, .duration),
        ("s", 1_000_000_000, .duration), ("min", 60_000_000_000, .duration),
    ]

    static let unitList = "k M G, B kB KiB MB MiB GB GiB, ns us ms s min"

    /// Parses the text of a number token; the error says what is wrong with it (the caller adds the column).
    static func parse(_ text: String) -> Result<FilterNumber, NumberError> {
        var bytes = Array(text.utf8)[...]
        var negative = false
        if bytes.first == UInt8(ascii: "-") {
            negative = true
            bytes = bytes.dropFirst()
        }
        if bytes.starts(with: "0x".utf8) || bytes.starts(with: "0X".utf8) {
            var value: UInt64 = 0
            let digits = bytes.dropFirst(2).filter { $0 != UInt8(ascii: "_") }
            guard !digits.isEmpty else { return .failure(.malformed("expected hex digits after '0x'")) }
            for b in digits {
                guard let digit = FilterLexer.hexValue(b) else {
                    return .failure(.malformed("'\(text)' is not a hex number (units do not follow hex numbers)"))
                }
                let (shifted, overflow) = value.multipliedReportingOverflow(by: 16)
                guard !overflow else { return .failure(.tooLarge) }
                value = shifted | UInt64(digit)
            }
            guard value <= UInt64(Int64.max) else { return .failure(.tooLarge) }
            return .success(FilterNumber(value: negative ? -Int64(value) : Int64(value), dimension: .plain))
        }

        var whole: [UInt8] = []
        var fraction: [UInt8] = []
        var seenDot = false
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let b = bytes[index]
            if FilterLexer.isDigit(b) {
                if seenDot { fraction.append(b) } else { whole.append(b) }
            } else if b == UInt8(ascii: "."), !seenDot {
                seenDot = true
            } else if b != UInt8(ascii: "_") {
                break
            }
            index += 1
        }
        guard !whole.isEmpty, !(seenDot && fraction.isEmpty) else {
            return .failure(.malformed("'\(text)' is not a number"))
        }
        let unitText = String(decoding: bytes[index...], as: UTF8.self)
        var scale: Int64 = 1
        var dimension = Dimension.plain
        if !unitText.isEmpty {
            guard let unit = units.first(where: { $0.name == unitText }) else {
                return .failure(.unknownUnit(unitText))
            }
            scale = unit.scale
            dimension = unit.dimension
        }
        // value = (whole · 10^f + fraction) · scale / 10^f, exactly.
        guard fraction.count <= 18 else { return .failure(.malformed("more than 18 digits after the point")) }
        var mantissa: Int64 = 0
        for b in whole + fraction {
            let (times10, o1) = mantissa.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int64(b - 0x30))
            guard !o1, !o2 else { return .failure(.tooLarge) }
            mantissa = sum
        }
        var divisor: Int64 = 1
        for _ in fraction { divisor *= 10 }
        let (scaled, overflow) = mantissa.multipliedReportingOverflow(by: scale)
        guard !overflow else { return .failure(.tooLarge) }
        guard scaled % divisor == 0 else {
            return .failure(.malformed("'\(text)' is not a whole number of \(dimension == .duration ? "nanoseconds" : dimension == .bytes ? "bytes" : "units")"))
        }
        let value = scaled / divisor
        return .success(FilterNumber(value: negative ? -value : value, dimension: dimension))
    }

    enum NumberError: Error, Equatable {
        case malformed(String)
        case unknownUnit(String)
        case tooLarge

        var message: String {
            switch self {
            case .malformed(let message): message
            case .unknownUnit(let unit): "unknown unit '\(unit)': expected one of \(FilterNumber.unitList)"
            case .tooLarge: "number too large (the limit is 2^63 - 1)"
            }
        }
    }
}
