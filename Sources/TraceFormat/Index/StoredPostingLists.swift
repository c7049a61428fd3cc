/// The posting lists of a stored index (docs/index-format.md), checked together in one pass over the
/// events: event `e` must be the next entry of its kind's list and, when its kind has a channel, of its
/// channel slot's list (or the overflow list), and every list must be used up exactly at the end. That is
/// the same as checking each list entry by entry (values strictly increase, stay below the event count and
/// belong to the list's key; the kind lists hold every event, the channel lists every event with a channel),
/// but it reads the columns once, in order, instead of once per list at scattered places.
struct StoredPostingLists {
    /// Where one stored list lies in the index file: its entries' gap bytes and its blocks' first values.
    struct Framing {
        var count: Int
        var bytes: Range<Int>
        var firsts: Int
    }

    /// One stored list's framing: `u32 count · u32 0 · u64 byte count · bytes · u32 first value per block`.
    static func framing(_ r: inout ByteReader, eventCount: Int) throws(StoredIndexRejection) -> Framing {
        guard r.remaining >= 16 else { throw StoredIndexRejection("posting list cut short") }
        let count = Int(r.u32())
        _ = r.u32()
        let byteCount = r.u64()
        let blocks = (count + PostingList.blockLength - 1) / PostingList.blockLength
        // Each entry but a block's first is 1 to 5 bytes.
        guard count <= eventCount, byteCount <= UInt64(5 * count), byteCount <= UInt64(r.remaining),
              UInt64(r.remaining) - byteCount >= UInt64(4 * blocks)
        else { throw StoredIndexRejection("posting list larger than the file") }
        let start = r.position
        _ = r.bytes(Int(byteCount))
        let firsts = r.position
        _ = r.bytes(4 * blocks)
        return Framing(count: count, bytes: start..<(start + Int(byteCount)), firsts: firsts)
    }

    /// One list's reading state, with its framing (all in one place: this is read per entry).
    private struct Cursor {
        var position = 0
        var cursor: Int
        var value: UInt32 = 0
        let count: Int
        let end: Int
        let firsts: Int
        /// Where this list's block starts go in the flat table of all lists' block starts.
        let blockBase: Int
    }

    /// The lists, in the stored order (the 256 kinds, then `channelSlots` channel slots, then the overflow
    /// list), checked against the kind and channel-slot columns; nil when they do not hold exactly those
    /// columns' events.
    static func checked(
        _ framings: [Framing], in data: UnsafeRawBufferPointer,
        kinds: UnsafeBufferPointer<UInt8>, slots: UnsafeBufferPointer<UInt16>, channelSlots: Int
    ) -> [PostingList]? {
        let eventCount = kinds.count
        guard framings.count == 256 + channelSlots + 1, slots.count == eventCount else { return nil }
        let blockLength = PostingList.blockLength
        var cursors: [Cursor] = []
        var totalBlocks = 0
        for framing in framings {
            cursors.append(Cursor(cursor: framing.bytes.lowerBound, count: framing.count, end: framing.bytes.upperBound,
                                  firsts: framing.firsts, blockBase: totalBlocks))
            totalBlocks += (framing.count + blockLength - 1) / blockLength
        }
        // Each block's byte position (from its list's first byte), in list order: at most N / 128 + lists.
        let blockStarts = UnsafeMutableBufferPointer<Int>.allocate(capacity: totalBlocks)
        defer { blockStarts.deallocate() }
        let valid = cursors.withUnsafeMutableBufferPointer { cursors -> Bool in
            /// Takes the next entry of `list`, which must be `event`.
            @inline(__always) func take(_ list: Int, _ event: UInt32) -> Bool {
                var c = cursors[list]
                guard c.position < c.count else { return false }
                if c.position % blockLength == 0 {
                    let block = c.position / blockLength
                    let first = UInt32(littleEndian: data.loadUnaligned(fromByteOffset: c.firsts + 4 * block, as: UInt32.self))
                    guard first == event, c.position == 0 || first > c.value else { return false }
                    blockStarts[c.blockBase + block] = c.cursor - framings[list].bytes.lowerBound
                } else {
                    guard c.cursor < c.end else { return false }
                    var gap = UInt64(data[c.cursor])
                    c.cursor += 1
                    if gap >= 0x80 {  // a gap of 128 or more: the general varint (up to 5 bytes)
                        gap &= 0x7F
                        var shift: UInt64 = 7
                        while true {
                            guard c.cursor < c.end, shift < 35 else { return false }
                            let byte = data[c.cursor]
                            c.cursor += 1
                            gap |= UInt64(byte & 0x7F) << shift
                            if byte < 0x80 { break }
                            shift += 7
                        }
                    }
                    guard gap > 0, UInt64(c.value) + gap == UInt64(event) else { return false }
                }
                c.value = event
                c.position += 1
                cursors[list] = c
                return true
            }
            let overflow = 256 + channelSlots
            for event in 0..<eventCount {
                let kind = kinds[event]
                guard take(Int(kind), UInt32(event)) else { return false }
                if RecordFields.hasChannel(kind) {
                    let slot = slots[event]
                    let list = slot == EventIndex.noSlot ? overflow : 256 + Int(slot)
                    guard slot == EventIndex.noSlot || Int(slot) < channelSlots, take(list, UInt32(event)) else { return false }
                }
            }
            return cursors.allSatisfy { $0.position == $0.count && $0.cursor == $0.end }
        }
        guard valid else { return nil }
        return framings.indices.map { list in
            let framing = framings[list], cursor = cursors[list]
            let bytes = Array(UnsafeRawBufferPointer(rebasing: data[framing.bytes]))
            let blocks = (0..<((framing.count + blockLength - 1) / blockLength)).map { block in
                PostingList.Block(bytePosition: blockStarts[cursor.blockBase + block], first: UInt32(littleEndian: data.loadUnaligned(
                    fromByteOffset: framing.firsts + 4 * block, as: UInt32.self)))
            }
            return PostingList(bytes: bytes, blocks: blocks, count: framing.count, last: cursor.value)
        }
    }
}
