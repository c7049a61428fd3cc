import IPCTransport

/// Descriptions of the fds received in one direction, by their position in the direction's fd FIFO,
/// so a frame's `fdSequence` finds what its fds were after the relay has forwarded and closed them.
///
/// Bounded: a hostile sender can push fds no frame ever claims; past `capacity` the oldest
/// descriptions are dropped and those fds are reported as unknown.
struct FDDescriptionQueue {
    private var entries: [RelayedFD] = []
    private var head = 0
    /// FIFO position of `entries[head]`.
    private var firstPosition: UInt64 = 0
    let capacity: Int

    init(capacity: Int = 1024) {
        self.capacity = capacity
    }

    mutating func append(_ description: RelayedFD) {
        if entries.count - head >= capacity {
            head += 1
            firstPosition += 1
        }
        entries.append(description)
        compact()
    }

    /// Descriptions for the positions of one frame, removing them and everything before them.
    mutating func take(_ positions: Range<UInt64>) -> [RelayedFD] {
        guard !positions.isEmpty else { return [] }
        var result: [RelayedFD] = []
        result.reserveCapacity(min(positions.count, 253))
        for position in positions {
            if position >= firstPosition, Int(position - firstPosition) < entries.count - head {
                result.append(entries[head + Int(position - firstPosition)])
            } else {
                result.append(.unknown)
            }
            if result.count >= 4096 { break }  // fd_count is hostile input: never build a huge array.
        }
        let consumed = positions.upperBound > firstPosition ? positions.upperBound - firstPosition : 0
        let drop = Int(min(consumed, UInt64(entries.count - head)))
        head += drop
        firstPosition += UInt64(drop)
        compact()
        return result
    }

    private mutating func compact() {
        if head == entries.count {
            entries.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 512, head * 2 > entries.count {
            entries.removeFirst(head)
            head = 0
        }
    }
}
