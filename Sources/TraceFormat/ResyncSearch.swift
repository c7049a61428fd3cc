import Glibc

/// Finds where good records start again after damage, in time linear in the bytes it passes.
///
/// The answer is the first marker after the damage whose length fits and whose checksum is good. Checking
/// each candidate's checksum on its own costs its length, and a crafted file full of markers with large
/// lengths made that quadratic. Instead one pass keeps the checksum of everything from the damage up to
/// where it is, notes that running checksum where each candidate's checksummed bytes start and end, and
/// derives each candidate's checksum from the two (``CRC32C/span(upTo:from:length:)``).
///
/// Candidates still open are bounded (``maxOpenCandidates``): beyond that, later ones are passed over,
/// which only a file with that many overlapping fake records can notice.
struct ResyncSearch {
    static let maxOpenCandidates = 1 << 16

    private struct Candidate {
        var offset: Int
        var bodyLength: Int
        var checksumAtStart: UInt32 = 0
        var state: State = .open
    }

    private enum State { case open, valid, rejected }

    private let data: UnsafeRawBufferPointer
    private let base: UnsafeRawPointer
    /// Candidates in offset order; those before `head` are decided.
    private var candidates: [Candidate] = []
    private var head = 0
    /// Index of the next candidate whose checksummed bytes start (in offset order, so a queue).
    private var nextStart = 0
    /// Candidates whose start was passed, by where their bytes end (a min-heap of indices).
    private var ends = MinHeap()
    private var openCount = 0
    private var anyValid = false
    /// The pass: the checksum of data[from..<sweptTo].
    private let from: Int
    private var sweptTo: Int
    private var runningChecksum: UInt32 = 0
    /// Where the next marker search starts; nil once it found nothing more.
    private var searchFrom: Int?
    /// A marker found and not yet considered.
    private var foundMarker: Int?
    private var firstIncomplete: Int?

    private init(data: UnsafeRawBufferPointer, base: UnsafeRawPointer, after offset: Int) {
        self.data = data
        self.base = base
        from = offset + 1
        sweptTo = offset + 1
        searchFrom = offset + 1
    }

    /// The first offset after `offset` where a good record starts; failing that, the first plausible
    /// record start that runs past the end.
    static func find(in data: UnsafeRawBufferPointer, after offset: Int) -> RecordScanner.Resync {
        guard let base = data.baseAddress, offset + 1 < data.count else { return .none }
        var search = ResyncSearch(data: data, base: base, after: offset)
        return search.run()
    }

    private mutating func run() -> RecordScanner.Resync {
        while true {
            skipDecided()
            if head < candidates.count, candidates[head].state == .valid { return .valid(candidates[head].offset) }
            // The next position the pass has to reach: a candidate's start or end, whichever comes first.
            let startAt = nextStart < candidates.count ? candidates[nextStart].offset + 12 : nil
            let endAt = ends.min.map { candidates[$0].offset + 13 + candidates[$0].bodyLength }
            let eventAt = startAt.map { start in endAt.map { Swift.min(start, $0) } ?? start } ?? endAt
            // Every candidate whose bytes start before that position must be known first.
            if let marker = peekMarker(), eventAt.map({ marker + 12 <= $0 }) ?? true {
                foundMarker = nil
                consider(marker)
                continue
            }
            guard let eventAt else { break }
            sweep(to: eventAt)
            if let startAt, startAt == eventAt {
                candidates[nextStart].checksumAtStart = runningChecksum
                ends.push(nextStart, key: candidates[nextStart].offset + 13 + candidates[nextStart].bodyLength)
                nextStart += 1
            } else if let index = ends.popMin() {
                decide(index)
            }
        }
        return firstIncomplete.map { .incomplete($0) } ?? .none
    }

    private mutating func skipDecided() {
        while head < candidates.count, candidates[head].state == .rejected { head += 1 }
        if head > 4096, head * 2 > candidates.count {
            // Keep memory to what is still open: drop decided candidates and shift the indices.
            candidates.removeFirst(head)
            nextStart -= head
            ends.shift(by: head)
            head = 0
        }
    }

    /// The next offset holding the marker's first byte, while more candidates can still matter (once one
    /// is good, later ones cannot be the answer).
    private mutating func peekMarker() -> Int? {
        guard !anyValid else { return nil }
        if let foundMarker { return foundMarker }
        guard let start = searchFrom, start < data.count else { return nil }
        let firstMarkerByte = Int32(TraceFileLayout.syncMarker & 0xFF)
        guard let found = memchr(base + start, firstMarkerByte, data.count - start) else {
            searchFrom = nil
            return nil
        }
        let at = base.distance(to: UnsafeRawPointer(found))
        searchFrom = at + 1
        foundMarker = at
        return at
    }

    /// Classifies a possible record start at `offset` by everything but its checksum.
    private mutating func consider(_ offset: Int) {
        switch RecordScanner.checkFrameHeader(in: data, at: offset) {
        case .invalid:
            return
        case .incomplete:
            if firstIncomplete == nil { firstIncomplete = offset }
        case .complete(let bodyLength):
            guard openCount < Self.maxOpenCandidates else { return }
            candidates.append(Candidate(offset: offset, bodyLength: bodyLength))
            openCount += 1
        }
    }

    private mutating func sweep(to position: Int) {
        guard position > sweptTo else { return }
        runningChecksum = CRC32C.checksum(
            UnsafeRawBufferPointer(rebasing: data[sweptTo..<position]), continuing: runningChecksum)
        sweptTo = position
    }

    private mutating func decide(_ index: Int) {
        let candidate = candidates[index]
        let computed = CRC32C.span(upTo: runningChecksum, from: candidate.checksumAtStart,
                                   length: candidate.bodyLength + 1)
        let stored = UInt32(littleEndian: data.loadUnaligned(fromByteOffset: candidate.offset + 8, as: UInt32.self))
        candidates[index].state = computed == stored ? .valid : .rejected
        if computed == stored { anyValid = true }
        openCount -= 1
    }
}

/// A binary min-heap of candidate indices keyed by offset.
private struct MinHeap {
    private var entries: [(key: Int, index: Int)] = []

    var min: Int? { entries.first?.index }

    mutating func push(_ index: Int, key: Int) {
        entries.append((key, index))
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].key < entries[parent].key else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    mutating func popMin() -> Int? {
        guard let first = entries.first else { return nil }
        let last = entries.removeLast()
        if !entries.isEmpty {
            entries[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < entries.count, entries[left].key < entries[smallest].key { smallest = left }
                if right < entries.count, entries[right].key < entries[smallest].key { smallest = right }
                if smallest == parent { break }
                entries.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first.index
    }

    /// After the first `count` candidates were dropped.
    mutating func shift(by count: Int) {
        for i in entries.indices { entries[i].index -= count }
    }
}
