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

    public init(
        glyphs: Glyphs = .unicode, filterText: String = "", schemas: [SchemaFile] = [], follow: Bool = false,
        rows: Int = 24, columns: Int = 80, title: String? = nil
    ) {
        self.glyphs = glyphs
        self.filterText = filterText
        self.schemas = schemas
        self.follow = follow
        self.rows = rows
        self.columns = columns
        self.title = title
    }
}
