import Glibc
import IPCWire

/// How far indexing has got.
public struct IndexingProgress: Sendable, Equatable {
    /// File bytes indexed (where indexing resumes).
    public var indexedBytes: Int
    /// File bytes mapped now.
    public var fileBytes: Int
    public var events: Int
    /// Whether everything mapped is indexed (a trace being written may still grow: ``IndexedTrace/follow()``).
    public var isComplete: Bool
}

/// A trace opened for reading: the reader and its ``EventIndex``, built progressively or loaded from the
/// ``IndexStore``.
///
/// Opening does not scan. ``indexMore(bytes:)`` indexes the next chunk and returns, so a viewer can show
/// the first screen (events in file order, and the time order of what is indexed so far) after the first
/// chunk and index the rest between frames; ``indexToEnd()`` does it all. A complete index of enough
/// events is stored, and the next open of the same, unchanged or grown, trace loads it instead of scanning
/// (``source``), then indexes only what was appended since. A stored index that does not validate is
/// ignored (``storedIndexRejection``) and the trace scanned as if there were none. A trace without an
/// end record (a crashed recorder) opens like any other: by scanning.
public struct IndexedTrace: Sendable {
    public enum Source: Sendable, Equatable {
        /// Built by scanning the trace.
        case scanned
        /// Loaded from this stored index (and extended by scanning if the trace grew since).
        case stored(path: String)
    }

    /// What happened to the last attempt to store the index.
    public enum StoreOutcome: Sendable, Equatable {
        case notStored
        case stored(path: String)
        case failed(IndexStoreError)
    }

    public private(set) var reader: TraceReader
    public private(set) var index: EventIndex
    public let store: IndexStore
    public private(set) var source: Source = .scanned
    /// Why the stored index found for this trace was not used; nil when there was none or it was used.
    public private(set) var storedIndexRejection: StoredIndexRejection?
    public private(set) var storeOutcome: StoreOutcome = .notStored
    private var reachedEnd = false
    /// Events the stored copy of the index holds (what was loaded, or last written).
    private var storedEvents = 0

    /// Opens and maps `path` and loads its stored index when there is a valid one; scans nothing else.
    public init(path: String, store: IndexStore = .userCache) throws(TraceFileError) {
        reader = try TraceReader(path: path)
        index = EventIndex()
        self.store = store
        loadStoredIndex()
    }

    public var path: String { reader.path }
    public var eventCount: Int { index.count }

    public var progress: IndexingProgress {
        IndexingProgress(indexedBytes: index.indexedBytes, fileBytes: reader.size, events: index.count, isComplete: reachedEnd)
    }

    /// Indexes about `bytes` more of the file (whole records; it stops after the record that reaches the
    /// limit). Returns whether everything mapped is now indexed; then the index is stored if worth it.
    @discardableResult
    public mutating func indexMore(bytes: Int = 4 << 20) -> Bool {
        let limit = index.indexedBytes > Int.max - bytes ? Int.max : index.indexedBytes + max(bytes, 1)
        reachedEnd = index.extend(with: reader.mappedFile, limit: limit)
        if reachedEnd { storeIfWorthIt() }
        return reachedEnd
    }

    /// Indexes until at least `events` events are indexed or the mapped file is done.
    public mutating func indexMore(untilEvents events: Int) {
        while index.count < events && !indexMore(bytes: 256 << 10) {}
    }

    public mutating func indexToEnd() {
        while !indexMore(bytes: 64 << 20) {}
    }

    /// Maps what was appended since (a trace being recorded) and indexes it. Returns whether the file grew.
    @discardableResult
    public mutating func follow() throws(TraceFileError) -> Bool {
        let grew = try reader.refresh()
        if grew { reachedEnd = false }
        indexToEnd()
        return grew
    }

    // MARK: events

    public func event(_ number: Int) -> IndexedEvent { index.event(number) }

    /// The events at `positions` in time order (clamped to what is indexed).
    public func events(inTimeOrder positions: Range<Int>) -> [IndexedEvent] {
        index.eventNumbers(inTimeOrder: positions).map { index.event($0) }
    }

    /// The events at `positions` in file order (clamped to what is indexed).
    public func events(inFileOrder positions: Range<Int>) -> [IndexedEvent] {
        positions.clamped(to: 0..<index.count).map { index.event($0) }
    }

    /// The whole record of an event, decoded.
    public func record(_ number: Int) -> TraceRecord? { reader.record(at: index.offset(of: number)) }

    // MARK: the stored index

    private mutating func loadStoredIndex() {
        guard store.directory != nil, let status = try? reader.fileStatus() else { return }
        let key = TraceFileKey(status)
        guard let path = store.path(device: key.device, inode: key.inode) else { return }
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard info.st_mode & S_IFMT == S_IFREG else {
            storedIndexRejection = StoredIndexRejection("\(path) is not a regular file")  // never open a FIFO
            return
        }
        let sidecar: TraceReader
        do {
            sidecar = try TraceReader.mapAnyFile(path: path)
        } catch {
            if case .system(_, _, ENOENT) = error { return }
            storedIndexRejection = StoredIndexRejection("cannot read \(path): \(error)")
            return
        }
        do throws(StoredIndexRejection) {
            let mapping = sidecar.mappedFile
            index = try IndexSidecar.read(mapping, mapping: reader.mappedFile, key: key, version: reader.version)
            if mapping.shrankWhileMapped { throw StoredIndexRejection("the stored index shrank while being read") }
            source = .stored(path: path)
            storedEvents = index.count
            reachedEnd = index.indexedBytes >= reader.size
        } catch {
            index = EventIndex()
            storedIndexRejection = error
        }
    }

    /// Stores the index when it has enough events and at least twice what the stored copy holds (a
    /// followed trace is rewritten at doubling sizes, so storing costs O(events) in all).
    private mutating func storeIfWorthIt() {
        #if _endian(little)
        guard store.directory != nil, index.count >= store.minimumEvents, index.count >= 2 * storedEvents else { return }
        do throws(IndexStoreError) {
            try storeIndex()
        } catch {
            storeOutcome = .failed(error)
        }
        #endif
    }

    /// Writes the index to the store now (the columns are stored in the host's byte order: little-endian
    /// hosts only).
    public mutating func storeIndex() throws(IndexStoreError) {
        let status: stat
        do {
            status = try reader.fileStatus()
        } catch {
            if case .system(_, _, let number) = error { throw IndexStoreError(path: reader.path, operation: "fstat", errno: number) }
            throw IndexStoreError(path: reader.path, operation: "fstat", errno: EINVAL)  // no longer a regular file
        }
        let key = TraceFileKey(status)
        guard let path = store.path(device: key.device, inode: key.inode) else { return }
        try store.createDirectory()
        let mapping = reader.mappedFile
        try withExtendedLifetime(mapping) { () throws(IndexStoreError) in
            try IndexSidecar.write(index, trace: mapping.bytes, key: key, version: reader.version, to: path)
        }
        storedEvents = index.count
        storeOutcome = .stored(path: path)
    }
}

extension TraceReader {
    /// Maps any regular file read-only (no trace header check): for stored indexes.
    static func mapAnyFile(path: String) throws(TraceFileError) -> TraceReader {
        try TraceReader(path: path, checkingHeader: false)
    }
}
