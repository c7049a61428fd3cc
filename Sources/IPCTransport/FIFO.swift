/// A first-in first-out queue: array storage plus a head index, amortised O(1) at both ends.
/// Popped slots are cleared at once so large elements (payloads) are freed without waiting for compaction.
struct FIFO<Element> {
    private var storage: [Element?] = []
    private var head = 0

    var count: Int { storage.count - head }
    var isEmpty: Bool { head == storage.count }

    mutating func append(_ element: Element) { storage.append(element) }

    mutating func append(contentsOf elements: some Sequence<Element>) {
        for element in elements { storage.append(element) }
    }

    mutating func popFirst() -> Element? {
        guard head < storage.count else { return nil }
        let element = storage[head]
        storage[head] = nil
        head += 1
        compactIfWorthwhile()
        return element
    }

    /// Pops up to `n` elements from the front, oldest first.
    mutating func popFirst(_ n: Int) -> [Element] {
        var result: [Element] = []
        result.reserveCapacity(min(max(n, 0), count))
        while result.count < n, let element = popFirst() { result.append(element) }
        return result
    }

    mutating func removeAll() -> [Element] {
        let result = storage[head...].compactMap { $0 }
        storage = []
        head = 0
        return result
    }

    private mutating func compactIfWorthwhile() {
        if head == storage.count {
            storage.removeAll(keepingCapacity: storage.count <= 1024)
            head = 0
        } else if head >= 1024, head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
    }
}
