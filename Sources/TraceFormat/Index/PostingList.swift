/// The event numbers of one key (a kind, a channel) in increasing order, so a lookup visits only that
/// key's events. Stored as gaps in LEB128 varints — one byte per event while the key's events are less
/// than 128 apart — and every 128th entry starts a block whose first value and byte position are kept,
/// so the k-th entry and the first entry at or after an event are found without decoding from the start.
public struct PostingList: Sendable, Equatable {
    struct Block: Sendable, Equatable {
        var bytePosition: Int
        var first: UInt32
    }

    static let blockLength = 128

    private(set) var bytes: [UInt8] = []
    private(set) var blocks: [Block] = []
    public private(set) var count = 0
    private var last: UInt32 = 0

    public init() {}

    /// A list from parts already checked (``StoredPostingLists``).
    init(bytes: [UInt8], blocks: [Block], count: Int, last: UInt32) {
        self.bytes = bytes
        self.blocks = blocks
        self.count = count
        self.last = last
    }

    public var isEmpty: Bool { count == 0 }

    /// Appends `event`, which must be larger than every event already in the list.
    mutating func append(_ event: UInt32) {
        precondition(count == 0 || event > last, "posting lists grow in event order")
        if count % Self.blockLength == 0 {
            blocks.append(Block(bytePosition: bytes.count, first: event))
        } else {
            var gap = event - last
            while gap >= 0x80 {
                bytes.append(UInt8(truncatingIfNeeded: gap) | 0x80)
                gap >>= 7
            }
            bytes.append(UInt8(gap))
        }
        last = event
        count += 1
    }

    /// The `position`-th event number of the list (0-based).
    public subscript(position: Int) -> Int {
        precondition(position >= 0 && position < count, "posting list position out of range")
        let block = blocks[position / Self.blockLength]
        var value = block.first
        var cursor = block.bytePosition
        for _ in 0..<(position % Self.blockLength) { value &+= Self.decode(bytes, &cursor) }
        return Int(value)
    }

    /// The position of the first entry whose event number is at least `event` (`count` when none is).
    public func firstPosition(atOrAfter event: Int) -> Int {
        guard count > 0, event > Int(blocks[0].first) else { return 0 }
        // The last block that starts before `event`, then a walk inside it.
        var low = 0, high = blocks.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if Int(blocks[middle].first) < event { low = middle } else { high = middle - 1 }
        }
        var position = low * Self.blockLength
        var value = blocks[low].first
        var cursor = blocks[low].bytePosition
        let blockEnd = Swift.min(count, position + Self.blockLength)
        while Int(value) < event {
            position += 1
            guard position < blockEnd else { return position }
            value &+= Self.decode(bytes, &cursor)
        }
        return position
    }

    /// The stored form (docs/index-format.md): the gap bytes and the first value of every block.
    var blockFirsts: [UInt32] { blocks.map(\.first) }

    /// Makes room for about `total` entries in all, at the bytes per entry so far (a list that grows
    /// once instead of doubling).
    mutating func reserve(toHold total: Int) {
        guard count > 0, total > count else { return }
        let bytesNeeded = Int(Double(bytes.count) * Double(total) / Double(count) * 1.02) + 16
        if bytesNeeded > bytes.capacity { bytes.reserveCapacity(bytesNeeded) }
        let blocksNeeded = total / Self.blockLength + 1
        if blocksNeeded > blocks.capacity { blocks.reserveCapacity(blocksNeeded) }
    }

    /// Bytes held (capacity, not just what is used).
    var memoryBytes: Int {
        bytes.capacity + blocks.capacity * MemoryLayout<Block>.stride
    }

    @inline(__always)
    private static func decode(_ bytes: [UInt8], _ cursor: inout Int) -> UInt32 {
        var value: UInt32 = 0
        var shift: UInt32 = 0
        while true {
            let byte = bytes[cursor]
            cursor += 1
            value |= UInt32(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
    }
}

extension PostingList: Sequence {
    public struct Iterator: IteratorProtocol {
        private let list: PostingList
        private var position = 0
        private var cursor = 0
        private var value: UInt32 = 0

        init(_ list: PostingList) { self.list = list }

        public mutating func next() -> Int? {
            guard position < list.count else { return nil }
            if position % PostingList.blockLength == 0 {
                let block = list.blocks[position / PostingList.blockLength]
                value = block.first
                cursor = block.bytePosition
            } else {
                value &+= PostingList.decode(list.bytes, &cursor)
            }
            position += 1
            return Int(value)
        }
    }

    public func makeIterator() -> Iterator { Iterator(self) }
    public var underestimatedCount: Int { count }
}
