import TraceFormat

/// The per-event index and its stored form (docs/index-format.md). The input is a trace and edits to the
/// stored index of it: `u32 n · n trace bytes · u8 flags · (u32 position · u8 xor)*`. The harness indexes
/// the trace, stores the index, checks that the stored form loads back as the same index, then applies
/// the edits (flags bit 0: fix the checksum afterwards, so the structural checks are reached; bit 1: cut
/// the stored form at the first edit's position) and loads that. What must hold: no trap; a loaded index
/// only names records inside the trace, in increasing offsets, and its time order is a sorted permutation.
enum IndexFuzzing {
    static func run(_ data: UnsafeRawBufferPointer) {
        guard data.count >= 4 else { return }
        let declared = Int(data.loadUnaligned(as: UInt32.self).littleEndian)
        let traceLength = min(declared, data.count - 4)
        let trace = Array(data[4..<(4 + traceLength)])
        let edits = Array(data[(4 + traceLength)...])
        trace.withUnsafeBytes { traceBytes in
            let index = EventIndex.build(traceBytes: traceBytes)
            checkInvariants(index, traceSize: traceBytes.count)
            var stored = EventIndex.storedForm(of: index, traceBytes: traceBytes)
            let reloaded = stored.withUnsafeBytes { try? EventIndex.readStored($0, traceBytes: traceBytes) }
            // Every readable trace (at least its 12-byte file header) gets its index back.
            precondition(traceBytes.count < TraceFileLayout.fileHeaderSize || reloaded == index, "a stored index must load back as itself")
            guard let flags = edits.first else { return }
            var rest = edits.dropFirst()
            var cut: Int?
            while rest.count >= 5 {
                let position = rest.prefix(4).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
                let value = rest[rest.startIndex + 4]
                rest = rest.dropFirst(5)
                guard !stored.isEmpty else { break }
                if cut == nil { cut = position % (stored.count + 1) }
                stored[position % stored.count] ^= value
            }
            if flags & 2 != 0, let cut { stored.removeSubrange(cut...) }
            if flags & 1 != 0, stored.count >= 4 {
                let crc = stored.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0.dropLast(4))) }
                for i in 0..<4 { stored[stored.count - 4 + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
            }
            if let loaded = stored.withUnsafeBytes({ try? EventIndex.readStored($0, traceBytes: traceBytes) }) {
                checkInvariants(loaded, traceSize: traceBytes.count)
            }
        }
    }

    private static func checkInvariants(_ index: EventIndex, traceSize: Int) {
        var previousOffset = -1
        for event in 0..<index.count {
            let found = index.event(event)
            precondition(found.offset > previousOffset && found.offset + 13 <= traceSize)
            previousOffset = found.offset
        }
        var seen = [Bool](repeating: false, count: index.count)
        var previousTime: UInt64 = 0
        for position in 0..<index.count {
            let event = index.eventNumber(atTimePosition: position)
            precondition(!seen[event])
            seen[event] = true
            precondition(index.time(of: event) >= previousTime)
            previousTime = index.time(of: event)
        }
        var total = 0
        for kind in 0...255 {
            for event in index.events(ofRawKind: UInt8(kind)) { precondition(index.rawKind(of: event) == UInt8(kind)) }
            total += index.events(ofRawKind: UInt8(kind)).count
        }
        precondition(total == index.count)
        for channel in index.channels {
            for event in index.events(onChannel: channel) { precondition(index.channel(of: event) == channel) }
        }
    }
}
