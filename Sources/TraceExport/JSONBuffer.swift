/// A byte buffer that JSON is written into, flushed to an ``ExportOutput`` as it fills: the exporters
/// build no strings and no Foundation objects per event.
///
/// Strings: the escaper writes `"`, `\` and control characters (U+0000–U+001F, U+007F) as escapes
/// (`\n`, `\t`, `\u00XX`, …), passes valid UTF-8 through unchanged, and replaces each byte of an invalid
/// UTF-8 sequence with U+FFFD (so every output is valid UTF-8 JSON; docs/export.md). Raw bytes that
/// must survive exactly (payloads) are written as base64 instead.
public final class JSONBuffer {
    /// The mutable state lives behind a pointer: a class's stored `var`s would pay a dynamic exclusivity
    /// check per access, which cost more than the JSON itself.
    private struct State {
        /// Raw storage, grown by doubling (an Array's append pays a uniqueness check per byte).
        var storage: UnsafeMutablePointer<UInt8>
        var capacity: Int
        var count = 0
        /// Bit n: the object or array at depth n already has a member (a comma goes before the next). The
        /// exporters nest at most a few levels; deeper than 62 is a programming error.
        var commaBits: UInt64 = 0
        var depth = 0
        var pendingValueAfterKey = false
    }

    private let state: UnsafeMutablePointer<State>

    private var storage: UnsafeMutablePointer<UInt8> {
        get { state.pointee.storage }
        set { state.pointee.storage = newValue }
    }
    private var capacity: Int {
        get { state.pointee.capacity }
        set { state.pointee.capacity = newValue }
    }
    public private(set) var count: Int {
        get { state.pointee.count }
        set { state.pointee.count = newValue }
    }
    private var commaBits: UInt64 {
        get { state.pointee.commaBits }
        set { state.pointee.commaBits = newValue }
    }
    private var depth: Int {
        get { state.pointee.depth }
        set { state.pointee.depth = newValue }
    }
    private var pendingValueAfterKey: Bool {
        get { state.pointee.pendingValueAfterKey }
        set { state.pointee.pendingValueAfterKey = newValue }
    }

    public init(capacity: Int = 1 << 17) {
        let size = max(capacity, 64)
        state = .allocate(capacity: 1)
        state.initialize(to: State(storage: .allocate(capacity: size), capacity: size))
    }

    deinit {
        state.pointee.storage.deallocate()
        state.deinitialize(count: 1)
        state.deallocate()
    }

    /// A copy of what was written (tests, small outputs).
    public var bytes: [UInt8] { Array(UnsafeBufferPointer(start: storage, count: count)) }

    public func withBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: storage, count: count))
    }

    public func removeAll() { count = 0 }

    @inline(__always) private func reserve(_ extra: Int) {
        if count + extra > capacity { grow(count + extra) }
    }

    private func grow(_ needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        bigger.update(from: storage, count: count)
        storage.deallocate()
        storage = bigger
        capacity = newCapacity
    }

    @inline(__always) func raw(_ byte: UInt8) {
        reserve(1)
        storage[count] = byte
        count += 1
    }

    @inline(__always) func raw(_ source: UnsafeRawBufferPointer) {
        guard let base = source.baseAddress, source.count > 0 else { return }
        reserve(source.count)
        (storage + count).update(from: base.assumingMemoryBound(to: UInt8.self), count: source.count)
        count += source.count
    }

    @inline(__always) func raw(_ text: StaticString) {
        text.withUTF8Buffer { raw(UnsafeRawBufferPointer($0)) }
    }

    // MARK: structure

    public func beginObject() { separate(); raw(UInt8(ascii: "{")); push() }
    public func endObject() { depth -= 1; raw(UInt8(ascii: "}")) }
    public func beginArray() { separate(); raw(UInt8(ascii: "[")); push() }
    public func endArray() { depth -= 1; raw(UInt8(ascii: "]")) }

    private func push() {
        precondition(depth < 63, "JSONBuffer: nested too deeply")
        depth += 1
        commaBits &= ~(1 << UInt64(depth))
    }

    /// A member name; the value written next is its value.
    public func key(_ name: StaticString) {
        guard name.hasPointerRepresentation else {
            separate()
            raw(UInt8(ascii: "\""))
            raw(name)
            raw(UInt8(ascii: "\""))
            raw(UInt8(ascii: ":"))
            pendingValueAfterKey = true
            return
        }
        // The comma, quotes and colon around the name in one reservation: the most frequent call.
        let length = name.utf8CodeUnitCount
        reserve(length + 4)
        var end = storage + count
        if pendingValueAfterKey {
            pendingValueAfterKey = false
        } else if depth > 0 {
            let bit: UInt64 = 1 << UInt64(depth)
            if commaBits & bit != 0 { end.pointee = UInt8(ascii: ","); end += 1 }
            commaBits |= bit
        }
        end.pointee = UInt8(ascii: "\"")
        (end + 1).update(from: name.utf8Start, count: length)
        end[length + 1] = UInt8(ascii: "\"")
        end[length + 2] = UInt8(ascii: ":")
        count = end + length + 3 - storage
        pendingValueAfterKey = true  // the value that follows gets no comma of its own
    }

    /// A value already written as JSON (by this type), copied as it is.
    func value(rendered bytes: UnsafeRawBufferPointer) {
        separate()
        raw(bytes)
    }

    /// Members already written by this type into an object in the same state as this one (a member
    /// written before them: they start with their comma), copied as they are.
    func members(rendered bytes: UnsafeRawBufferPointer) {
        precondition(!pendingValueAfterKey && depth > 0 && commaBits & (1 << UInt64(depth)) != 0)
        raw(bytes)
    }

    /// A member name known only at run time (escaped like any string).
    public func key(text name: String) {
        string(name)
        raw(UInt8(ascii: ":"))
        pendingValueAfterKey = true
    }

    @inline(__always) private func separate() {
        if pendingValueAfterKey {
            pendingValueAfterKey = false
            return
        }
        guard depth > 0 else { return }
        let bit: UInt64 = 1 << UInt64(depth)
        if commaBits & bit != 0 { raw(UInt8(ascii: ",")) }
        commaBits |= bit
    }

    // MARK: values

    public func null() { separate(); raw("null") }
    public func bool(_ value: Bool) { separate(); raw(value ? "true" : "false") }

    public func int(_ value: Int64) {
        separate()
        if value < 0 {
            raw(UInt8(ascii: "-"))
            digits(value == .min ? UInt64(Int64.max) + 1 : UInt64(-value))
        } else {
            digits(UInt64(value))
        }
    }

    public func uint(_ value: UInt64) { separate(); digits(value) }

    /// Seconds with nanosecond precision (`12.000345678`) from a signed nanosecond count, without Double.
    public func seconds(nanoseconds value: Int64) {
        separate()
        var magnitude = value.magnitude
        if value < 0 { raw(UInt8(ascii: "-")) }
        digits(magnitude / 1_000_000_000)
        magnitude %= 1_000_000_000
        // The point and nine digits, backwards, two at a time.
        reserve(10)
        let end = storage + count
        end.pointee = UInt8(ascii: ".")
        let pairs = Self.digitPairs.utf8Start
        var index = 9
        for _ in 0..<4 {
            let pair = Int(magnitude % 100) &* 2
            magnitude /= 100
            end[index - 1] = pairs[pair]
            end[index] = pairs[pair + 1]
            index -= 2
        }
        end[1] = UInt8(ascii: "0") &+ UInt8(magnitude)
        count += 10
    }

    /// Microseconds with three decimals (Chrome's `ts`/`dur` unit) from a signed nanosecond count.
    public func microseconds(nanoseconds value: Int64) {
        separate()
        var magnitude = value.magnitude
        if value < 0 { raw(UInt8(ascii: "-")) }
        digits(magnitude / 1000)
        magnitude %= 1000
        raw(UInt8(ascii: "."))
        raw(UInt8(ascii: "0") &+ UInt8(magnitude / 100))
        raw(UInt8(ascii: "0") &+ UInt8(magnitude / 10 % 10))
        raw(UInt8(ascii: "0") &+ UInt8(magnitude % 10))
    }

    /// "00" "01" … "99": two digits per division.
    private static let digitPairs: StaticString = """
        00010203040506070809101112131415161718192021222324252627282930313233343536373839\
        40414243444546474849505152535455565758596061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899
        """

    private func digits(_ value: UInt64) {
        if value < 10 { raw(UInt8(ascii: "0") &+ UInt8(value)); return }
        // At most 20 digits, written backwards into a scratch area at the end of the reservation.
        reserve(40)
        let scratch = storage + count + 20
        let pairs = Self.digitPairs.utf8Start
        var index = 20
        var v = value
        while v >= 100 {
            let pair = Int(v % 100) &* 2
            v /= 100
            index -= 2
            scratch[index] = pairs[pair]
            scratch[index + 1] = pairs[pair + 1]
        }
        if v >= 10 {
            index -= 2
            scratch[index] = pairs[Int(v) &* 2]
            scratch[index + 1] = pairs[Int(v) &* 2 + 1]
        } else {
            index -= 1
            scratch[index] = UInt8(ascii: "0") &+ UInt8(v)
        }
        let length = 20 - index
        (storage + count).update(from: scratch + index, count: length)
        count += length
    }

    public func string(_ text: StaticString) {
        separate()
        raw(UInt8(ascii: "\""))
        raw(text)
        raw(UInt8(ascii: "\""))
    }

    public func string(_ text: String) {
        if let done: Void = text.utf8.withContiguousStorageIfAvailable({ string(bytes: UnsafeRawBufferPointer($0)) }) { return done }
        var copy = text
        copy.withUTF8 { string(bytes: UnsafeRawBufferPointer($0)) }
    }

    public func string(bytes text: [UInt8]) {
        text.withUnsafeBytes { string(bytes: $0) }
    }

    /// A JSON string of arbitrary bytes: see the type's comment for what is escaped and replaced.
    public func string(bytes text: UnsafeRawBufferPointer) {
        separate()
        raw(UInt8(ascii: "\""))
        var index = 0
        let length = text.count
        while index < length {
            // A run of bytes that need no escaping is copied at once.
            var end = index
            while end < length, Self.isPlain(text[end]) { end += 1 }
            if end > index {
                raw(UnsafeRawBufferPointer(rebasing: text[index..<end]))
                index = end
                continue
            }
            let byte = text[index]
            if byte < 0x80 {
                escape(byte)
                index += 1
                continue
            }
            let sequence = Self.validSequenceLength(text, at: index)
            if sequence == 0 {
                raw(0xEF); raw(0xBF); raw(0xBD)  // U+FFFD for one invalid byte
                index += 1
            } else {
                raw(UnsafeRawBufferPointer(rebasing: text[index..<index + sequence]))
                index += sequence
            }
        }
        raw(UInt8(ascii: "\""))
    }

    @inline(__always) static func isPlain(_ byte: UInt8) -> Bool {
        byte >= 0x20 && byte < 0x7F && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\")
    }

    private func escape(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): raw("\\\"")
        case UInt8(ascii: "\\"): raw("\\\\")
        case 0x0A: raw("\\n")
        case 0x0D: raw("\\r")
        case 0x09: raw("\\t")
        case 0x08: raw("\\b")
        case 0x0C: raw("\\f")
        default:
            raw("\\u00")
            raw(Self.hexDigit(byte >> 4))
            raw(Self.hexDigit(byte & 0xF))
        }
    }

    static func hexDigit(_ value: UInt8) -> UInt8 { value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10 }

    /// The length of the well-formed UTF-8 sequence starting at `index` (Unicode Table 3-7), or 0.
    static func validSequenceLength(_ text: UnsafeRawBufferPointer, at index: Int) -> Int {
        let lead = text[index]
        let remaining = text.count - index
        func continuation(_ offset: Int, _ low: UInt8 = 0x80, _ high: UInt8 = 0xBF) -> Bool {
            offset < remaining && text[index + offset] >= low && text[index + offset] <= high
        }
        switch lead {
        case 0xC2...0xDF: return continuation(1) ? 2 : 0
        case 0xE0: return continuation(1, 0xA0) && continuation(2) ? 3 : 0
        case 0xE1...0xEC, 0xEE...0xEF: return continuation(1) && continuation(2) ? 3 : 0
        case 0xED: return continuation(1, 0x80, 0x9F) && continuation(2) ? 3 : 0
        case 0xF0: return continuation(1, 0x90) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF1...0xF3: return continuation(1) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF4: return continuation(1, 0x80, 0x8F) && continuation(2) && continuation(3) ? 4 : 0
        default: return 0
        }
    }

    private static let base64Alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Base64 (RFC 4648, padded) of `data` as a JSON string.
    public func base64(_ data: [UInt8]) {
        separate()
        raw(UInt8(ascii: "\""))
        let alphabet = Self.base64Alphabet
        var i = 0
        while i + 3 <= data.count {
            let n = UInt32(data[i]) << 16 | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2])
            raw(alphabet[Int(n >> 18 & 63)]); raw(alphabet[Int(n >> 12 & 63)])
            raw(alphabet[Int(n >> 6 & 63)]); raw(alphabet[Int(n & 63)])
            i += 3
        }
        let rest = data.count - i
        if rest > 0 {
            let n = UInt32(data[i]) << 16 | (rest == 2 ? UInt32(data[i + 1]) << 8 : 0)
            raw(alphabet[Int(n >> 18 & 63)]); raw(alphabet[Int(n >> 12 & 63)])
            raw(rest == 2 ? alphabet[Int(n >> 6 & 63)] : UInt8(ascii: "="))
            raw(UInt8(ascii: "="))
        }
        raw(UInt8(ascii: "\""))
    }

    /// Ends a JSONL line (between top-level values).
    public func newline() { raw(0x0A) }
}
