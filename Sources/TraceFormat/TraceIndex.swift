/// Where every good record of a trace starts, with its kind and time: built in one pass without decoding
/// bodies, so a viewer can seek in traces of millions of records. Extend it as the file grows.
public struct TraceIndex: Sendable {
    /// File offset of each record, in file order.
    public private(set) var offsets: [Int] = []
    /// Raw kind byte of each record (a kind this version does not know stays here too).
    public private(set) var kinds: [UInt8] = []
    /// Time of each record (the header's is its monotonic anchor); 0 for a body too short to have one.
    public private(set) var times: [UInt64] = []
    /// Records per raw kind byte: an array, not a dictionary, so indexing does not hash per record.
    private var countsByRawKind = [Int](repeating: 0, count: 256)
    /// Damaged regions skipped (details: ``TraceReader/validate()``).
    public var corruptionCount: Int { scan.corruptionCount }
    /// Length of an incomplete record at the end (0 when the last record is complete).
    public var truncatedTailBytes: Int { scan.truncatedTailBytes }

    /// Where the next extension resumes.
    private var scan = ResumableScan()

    public init() {}

    public var count: Int { offsets.count }

    public var countsByKind: [TraceRecordKind: Int] {
        var counts: [TraceRecordKind: Int] = [:]
        for kind in TraceRecordKind.allCases where countsByRawKind[Int(kind.rawValue)] > 0 {
            counts[kind] = countsByRawKind[Int(kind.rawValue)]
        }
        return counts
    }

    /// Records of kinds this version does not know.
    public var unknownKindCount: Int {
        countsByRawKind.enumerated().reduce(0) { total, entry in
            TraceRecordKind(rawValue: UInt8(entry.offset)) == nil ? total + entry.element : total
        }
    }

    public func kind(at index: Int) -> TraceRecordKind? { TraceRecordKind(rawValue: kinds[index]) }

    /// Offsets of the records of one kind.
    public func offsets(of kind: TraceRecordKind) -> [Int] {
        offsets.indices.filter { kinds[$0] == kind.rawValue }.map { offsets[$0] }
    }

    mutating func extend(with data: UnsafeRawBufferPointer) {
        var scan = self.scan  // a local: the closure appends to self's columns
        defer { self.scan = scan }
        scan.scan(data) { frame in
            offsets.append(frame.offset)
            kinds.append(frame.kind)
            times.append(RecordBodyDecoder.time(body: TraceReader.body(of: frame, in: data)) ?? 0)
            countsByRawKind[Int(frame.kind)] += 1
        }
    }
}
