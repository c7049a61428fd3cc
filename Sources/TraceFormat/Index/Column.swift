/// One column of an ``EventIndex``: an array while the index is built, or the values of a stored index
/// read in place from its mapping (no copy, no anonymous memory) until something is appended — then they
/// are copied into an array once.
struct Column<Element: FixedWidthInteger>: @unchecked Sendable {
    private var array: [Element] = []
    private var stored = UnsafeBufferPointer<Element>(start: nil, count: 0)
    /// Keeps `stored`'s mapping alive; nil while the column is an array.
    private var keeper: MappedFile?

    init() {}

    /// Values in place in `keeper`'s memory (aligned for `Element`; the caller checked the bounds).
    init(inPlace values: UnsafeBufferPointer<Element>, keeper: MappedFile) {
        stored = values
        self.keeper = keeper
    }

    init(_ array: [Element]) { self.array = array }

    var count: Int { keeper == nil ? array.count : stored.count }
    var isEmpty: Bool { count == 0 }

    @inline(__always)
    subscript(position: Int) -> Element {
        if keeper == nil { return array[position] }
        precondition(position >= 0 && position < stored.count, "column position out of range")
        return stored[position]
    }

    func values(_ positions: Range<Int>) -> [Element] {
        withUnsafeBufferPointer { Array($0[positions]) }
    }

    func withUnsafeBufferPointer<R, E: Error>(_ body: (UnsafeBufferPointer<Element>) throws(E) -> R) throws(E) -> R {
        if let keeper {
            defer { withExtendedLifetime(keeper) {} }
            return try body(stored)
        }
        // Array's own method does not pass a typed throw through.
        var result: Result<R, E>?
        array.withUnsafeBufferPointer { buffer in
            do throws(E) { result = .success(try body(buffer)) } catch { result = .failure(error) }
        }
        return try result!.get()
    }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        withUnsafeBufferPointer { body(UnsafeRawBufferPointer($0)) }
    }

    mutating func append(_ value: Element) {
        if keeper != nil { copyIntoArray(capacity: stored.count + 1) }
        array.append(value)
    }

    mutating func insert(_ value: Element, at position: Int) {
        if keeper != nil { copyIntoArray(capacity: stored.count + 1) }
        array.insert(value, at: position)
    }

    mutating func sort(by areInIncreasingOrder: (Element, Element) -> Bool) {
        if keeper != nil { copyIntoArray(capacity: stored.count) }
        array.sort(by: areInIncreasingOrder)
    }

    mutating func reserveCapacity(_ capacity: Int) {
        if keeper != nil { copyIntoArray(capacity: capacity) } else { array.reserveCapacity(capacity) }
    }

    /// Elements the array has room for (the stored count while in place).
    var capacity: Int { keeper == nil ? array.capacity : stored.count }

    /// Anonymous memory held (0 while in place: those are pages of the stored index file).
    var memoryBytes: Int { keeper == nil ? array.capacity * MemoryLayout<Element>.stride : 0 }
    /// Bytes read in place from a stored index's mapping.
    var mappedBytes: Int { keeper == nil ? 0 : stored.count * MemoryLayout<Element>.stride }

    private mutating func copyIntoArray(capacity: Int) {
        guard let keeper else { return }
        var copy: [Element] = []
        copy.reserveCapacity(Swift.max(capacity, stored.count))
        withExtendedLifetime(keeper) { copy.append(contentsOf: stored) }
        array = copy
        stored = UnsafeBufferPointer(start: nil, count: 0)
        self.keeper = nil
    }
}

extension Column: Equatable {
    static func == (a: Column, b: Column) -> Bool {
        a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in x.elementsEqual(y) } }
    }
}
