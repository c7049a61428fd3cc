import IPCWire

/// How a ``TraceViewer`` starts.
public struct ViewerConfiguration: Sendable {
    /// Unicode box drawing, or ASCII when the locale is not UTF-8 (the backend decides).
    public var glyphs: Glyphs
    /// A filter (docs/filters.md) applied at start; an invalid one opens the filter prompt showing the error.
    public var filterText: String
    /// Schema files used besides those embedded in the trace.
    public var schemas: [SchemaFile]
    /// Follow a trace that is still being recorded (`less +F`).
    public var follow: Bool
    public var rows: Int
    public var columns: Int
    /// The name shown in the status line; the trace's path when nil.
    public var title: String?
    /// How much of the trace is indexed and analysed at open and per background tick.
    public var work: BackgroundWork

    public init(
        glyphs: Glyphs = .unicode, filterText: String = "", schemas: [SchemaFile] = [], follow: Bool = false,
        rows: Int = 24, columns: Int = 80, title: String? = nil, work: BackgroundWork = BackgroundWork()
    ) {
        self.glyphs = glyphs
        self.filterText = filterText
        self.schemas = schemas
        self.follow = follow
        self.rows = rows
        self.columns = columns
        self.title = title
        self.work = work
    }
}

/// The work a large trace needs besides the screen — indexing the rest of the file, analysing every event
/// once for names, identities and latencies — done in slices, one per `.tick` while any is left
/// (``TraceViewer/tickInterval`` is then zero: the backend ticks whenever no key is waiting). Slices are
/// counts, not times, so tests see the same partial states on every machine; a key pressed during a slice
/// waits at most that slice.
public struct BackgroundWork: Sendable, Equatable {
    /// Events analysed while opening (a small trace is then complete at once).
    public var analysedAtOpen: Int
    /// File bytes indexed per tick.
    public var indexBytesPerTick: Int
    /// Events analysed per tick.
    public var analysedPerTick: Int

    public init(analysedAtOpen: Int = 20_000, indexBytesPerTick: Int = 1 << 20, analysedPerTick: Int = 4096) {
        self.analysedAtOpen = max(0, analysedAtOpen)
        self.indexBytesPerTick = max(1, indexBytesPerTick)
        self.analysedPerTick = max(1, analysedPerTick)
    }
}
