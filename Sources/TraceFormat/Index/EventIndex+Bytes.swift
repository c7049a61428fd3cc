/// Indexes of trace bytes held in memory (a copy is kept for the fields read from records), as
/// ``TraceReader/validate(bytes:path:)`` checks them: for the fuzzer and for tools that hold the bytes.
extension EventIndex {
    /// Indexes every good record of `traceBytes` (a whole trace file, header included).
    public static func build(traceBytes: UnsafeRawBufferPointer) -> EventIndex {
        var index = EventIndex()
        index.extend(with: MappedFile(copying: traceBytes))
        return index
    }

    /// The stored form of an index built from `traceBytes` (docs/index-format.md), as the store writes it
    /// (device, inode and modification time 0).
    public static func storedForm(of index: EventIndex, traceBytes: UnsafeRawBufferPointer) -> [UInt8] {
        var bytes: [UInt8] = []
        let key = TraceFileKey(device: 0, inode: 0, size: traceBytes.count, modifiedSeconds: 0, modifiedNanoseconds: 0)
        let version = TraceFormatVersion(
            major: traceBytes.count >= 12 ? UInt16(traceBytes[8]) | UInt16(traceBytes[9]) << 8 : 0,
            minor: traceBytes.count >= 12 ? UInt16(traceBytes[10]) | UInt16(traceBytes[11]) << 8 : 0)
        do throws(IndexStoreError) {
            try IndexSidecar.encode(index, trace: traceBytes, key: key, version: version) { bytes.append(contentsOf: $0) }
        } catch {
            preconditionFailure("appending to an array does not fail")
        }
        return bytes
    }

    /// Loads a stored index for `traceBytes`, validating it as when a trace is opened (the file identity
    /// in it is taken as given). Throws why it was rejected.
    public static func readStored(_ stored: UnsafeRawBufferPointer, traceBytes: UnsafeRawBufferPointer) throws(StoredIndexRejection) -> EventIndex {
        let version = TraceFormatVersion(
            major: traceBytes.count >= 12 ? UInt16(traceBytes[8]) | UInt16(traceBytes[9]) << 8 : 0,
            minor: traceBytes.count >= 12 ? UInt16(traceBytes[10]) | UInt16(traceBytes[11]) << 8 : 0)
        return try IndexSidecar.read(MappedFile(copying: stored), mapping: MappedFile(copying: traceBytes), key: nil, version: version)
    }
}

extension EventIndex: Equatable {
    /// Same events with the same fields, same time order, same posting lists, same damage and scan state.
    public static func == (a: EventIndex, b: EventIndex) -> Bool {
        a.offsetLow == b.offsetLow && a.offsetHighs == b.offsetHighs && a.times == b.times && a.kinds == b.kinds
            && a.directions == b.directions && a.channelSlots == b.channelSlots && a.frameIndexes == b.frameIndexes
            && a.magicSlots == b.magicSlots && a.messageIDs == b.messageIDs && a.channelTable == b.channelTable
            && a.magicTable == b.magicTable && a.byKind == b.byKind && a.byChannelSlot == b.byChannelSlot
            && a.channelOverflow == b.channelOverflow && a.timeOrder == b.timeOrder && a.scan == b.scan
            && a.damage == b.damage && a.isFull == b.isFull
    }
}
