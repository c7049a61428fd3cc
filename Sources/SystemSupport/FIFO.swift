/// The project's one first-in first-out queue: array storage read from a head index, amortised O(1) at
/// both ends. A popped slot is cleared at once, so large elements (payloads, frames) are freed without
/// waiting for compaction; consumed slots are dropped when the queue empties (keeping a small buffer) or
/// when they are over half of a long array.
///
/// Not used by IPCWire's FrameStreamParser, which keeps two plain array-plus-head queues of small value
/// entries: its memory is accounted as capacity × stride and bounded by the fuzzer, and this type's
/// optional slots would make its entries wider; IPCWire also depends on nothing but the standard library.
public struct FIFO<Element> {
    @usableFromInline var storage: [Element?] = []
    @usableFromInline var head = 0

    public init() {}

    @inlinable public var count: Int { storage.count - head }
    @inlinable public var isEmpty: Bool { head == storage.count }

    @inlinable public mutating func append(_ element: Element) { storage.append(element) }

    @inlinable public mutating func append(contentsOf elements: some Sequence<Element>) {
        for element in elements { storage.append(element) }
    }

    /// The element `offset` places from the front (0: the oldest).
    @inlinable public subscript(offset: Int) -> Element {
        get {
            precondition(offset >= 0 && offset < count, "FIFO offset \(offset) out of 0..<\(count)")
            return storage[head + offset]!
        }
        _modify {
            precondition(offset >= 0 && offset < count, "FIFO offset \(offset) out of 0..<\(count)")
            yield &storage[head + offset]!
        }
    }

    @inlinable public mutating func popFirst() -> Element? {
        guard head < storage.count else { return nil }
        let element = storage[head]
        storage[head] = nil
        head += 1
        compactIfWorthwhile()
        return element
    }

    /// Pops up to `n` elements from the front, oldest first.
    @inlinable public mutating func popFirst(_ n: Int) -> [Element] {
        var result: [Element] = []
        result.reserveCapacity(min(max(n, 0), count))
        while result.count < n, let element = popFirst() { result.append(element) }
        return result
    }

    /// Empties the queue, returning what it held, oldest first.
    @inlinable public mutating func removeAll() -> [Element] {
        let result = storage[head...].compactMap { $0 }
        storage = []
        head = 0
        return result
    }

    @inlinable mutating func compactIfWorthwhile() {
        if head == storage.count {
            storage.removeAll(keepingCapacity: storage.count <= 1024)
            head = 0
        } else if head >= 1024, head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
    }
}

extension FIFO: Sendable where Element: Sendable {}
