import SystemSupport
import Testing

@Suite("FIFO")
struct FIFOTests {
    private final class Payload {
        let value: Int
        init(_ value: Int) { self.value = value }
    }

    @Test func keepsOrderThroughCompactionsAndInterleavedUse() {
        var queue = FIFO<Int>()
        var expected: [Int] = []
        var next = 0
        // Bursts that leave some behind each time: the head passes the compaction thresholds many times.
        for round in 0..<50 {
            for _ in 0..<(300 + round * 7) {
                queue.append(next)
                expected.append(next)
                next += 1
            }
            let taken = queue.popFirst(250 + round * 5)
            #expect(taken == Array(expected.prefix(taken.count)))
            expected.removeFirst(taken.count)
            #expect(queue.count == expected.count)
        }
        #expect(queue.removeAll() == expected)
        #expect(queue.isEmpty && queue.popFirst() == nil)
    }

    @Test func elementsAreReadAndChangedByOffsetFromTheFront() {
        var queue = FIFO<Int>()
        queue.append(contentsOf: [10, 20, 30])
        _ = queue.popFirst()
        queue[1] += 5
        #expect(queue[0] == 20 && queue[1] == 35 && queue.count == 2)
    }

    @Test func aPoppedElementIsFreedAtOnce() {
        var queue = FIFO<Payload>()
        weak var first: Payload?
        do {
            let payload = Payload(1)
            first = payload
            queue.append(payload)
            queue.append(Payload(2))
        }
        #expect(queue.popFirst()?.value == 1)
        #expect(first == nil)  // not held until the queue compacts
        #expect(queue.count == 1)
    }
}
