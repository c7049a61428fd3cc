import IPCWire
import TraceAnalysis
import TraceFormat

/// The viewer, with no terminal in it: a sequence diagram of a trace with detail, queue-depth and violation
/// panes, a replay clock, a filter, search, marks and follow. A backend feeds it ``InputEvent``s and draws
/// what ``render(into:)`` puts in a ``CellGrid``; tests do the same without a terminal (docs/viewer.md).
///
/// Only what is on screen is decoded: the diagram asks the index for the event numbers of its visible rows
/// and decodes those records (``RecordCounter``), so a frame costs the screen, not the trace.
public final class TraceViewer: ViewerProgram {
    /// How a prompt's text is used when Enter is pressed.
    enum PromptKind: Equatable { case filter, search, command }

    struct Prompt: Equatable {
        var kind: PromptKind
        var text: String
        /// The filter's compile error for the text so far (validated as it is typed).
        var error: FilterError?
    }

    var trace: IndexedTrace
    let configuration: ViewerConfiguration
    var glyphs: Glyphs { configuration.glyphs }
    var format: Format { Format(glyphs: configuration.glyphs) }
    var facts: TraceFacts
    let counter = RecordCounter()
    var rows: RowList
    var lanes: LaneTable
    var screenRows: Int
    var screenColumns: Int

    // Selection and scrolling.
    var selectedRow = 0
    var topRow = 0
    var focus: Pane = .diagram
    var zoomed: Pane?
    var laneOffset = 0

    // Replay: a clock over the trace's own time.
    var clock: UInt64 = 0
    var playing = false
    static let speeds: [Double] = [0.25, 0.5, 1, 2, 4, 8, 16, 32, 64]
    var speedIndex = 2
    var lastTick: UInt64?

    // Prompt, search, marks, messages, help.
    var prompt: Prompt?
    var pendingMark: ViewerAction?
    var marks: [Character: Int] = [:]
    var search: String?
    var message: String?
    var showingHelp = false
    var helpTop = 0
    public internal(set) var following: Bool
    /// G (or End) was pressed before the whole file was indexed: the selection stays on the last row as
    /// indexing goes on, until it is done or the selection is moved.
    var seekingEnd = false
    /// The tick that last looked for growth of a followed file; followInterval apart while other work is left.
    var lastFollow: UInt64?
    static let followInterval: UInt64 = 200_000_000
    var filterText: String

    // Detail pane: the selected field (by position among the parameter lines), scroll, folded fields.
    var detailField = 0
    var detailTop = 0
    var folded: Set<[Int]> = []
    var detailCache: (event: Int, content: DetailContent)?

    // Violations (event numbers in time order) and queue series (sample event numbers per channel direction).
    var violationList: [Int]?
    var violationTop = 0
    var queueSeries: [QueueKey: QueueSeries] = [:]

    /// Opens a viewer on an indexed trace. Indexes the first chunk if nothing is indexed yet, so the first
    /// screen is there at once; the rest is indexed on ticks (the status line shows progress).
    public init(trace: IndexedTrace, configuration: ViewerConfiguration = ViewerConfiguration()) {
        var trace = trace
        if trace.eventCount == 0 && !trace.progress.isComplete { trace.indexMore() }
        self.trace = trace
        self.configuration = configuration
        screenRows = max(0, configuration.rows)
        screenColumns = max(0, configuration.columns)
        following = configuration.follow
        filterText = ""
        facts = TraceFacts(trace: trace, schemas: configuration.schemas, budget: configuration.work.analysedAtOpen)
        lanes = LaneTable(trace: trace, facts: facts)
        rows = RowList(filter: nil)
        if !configuration.filterText.isEmpty {
            do throws(FilterError) {
                rows = RowList(filter: try CompiledFilter(configuration.filterText))
                filterText = configuration.filterText
            } catch {
                prompt = Prompt(kind: .filter, text: configuration.filterText, error: error)
            }
        }
        rows.extend(toRows: 1, trace: trace, facts: facts, counter: counter)
        if following { selectLastRow() } else { clock = rows.count > 0 ? rows.time(ofRow: 0, in: trace) : 0 }
    }

    /// Opens `path` (its stored index from `store` when valid) and views it.
    public convenience init(path: String, store: IndexStore = .userCache, configuration: ViewerConfiguration = ViewerConfiguration()) throws(TraceFileError) {
        self.init(trace: try IndexedTrace(path: path, store: store), configuration: configuration)
    }

    // MARK: ViewerProgram

    public var tickInterval: Duration? {
        if hasBackgroundWork { return .zero }
        if playing { return .milliseconds(33) }
        if following { return .milliseconds(200) }
        return nil
    }

    /// Indexing or analysis is not done: a slice of it runs on each tick.
    public var hasBackgroundWork: Bool { !trace.progress.isComplete || !facts.isComplete(trace) }

    public func update(_ event: InputEvent) -> ViewerEffect {
        switch event {
        case .key(let key):
            return handle(key)
        case .mouse(let mouse):
            return handle(mouse)
        case .resize(let rows, let columns):
            screenRows = max(0, rows)
            screenColumns = max(0, columns)
            keepSelectionVisible()
            return .redraw
        case .tick(let now):
            return tick(now)
        case .traceChanged:
            return traceChanged() ? .redraw : .none
        }
    }

    public func render(into grid: inout CellGrid) {
        screenRows = grid.rows
        screenColumns = grid.columns
        keepSelectionVisible()
        let layout = self.layout
        drawStatus(layout.status, into: &grid)
        drawDiagram(layout.diagram, into: &grid)
        drawDetail(layout.detail, into: &grid)
        drawQueues(layout.queues, into: &grid)
        drawViolations(layout.violations, into: &grid)
        drawFooter(layout.footer, into: &grid)
        if showingHelp { drawHelp(into: &grid) }
    }

    var layout: Layout { Layout(rows: screenRows, columns: screenColumns, zoomed: zoomed) }

    // MARK: what tests and backends may ask

    /// Records decoded to draw rows, panes and the detail so far (not counting filter and search scans).
    public var recordDecodes: Int { counter.decodes }
    /// Records decoded by filter and search scans so far.
    public var scanDecodes: Int { counter.scanDecodes }
    /// The replay clock: trace time (CLOCK_MONOTONIC ns, as in the records).
    public var currentTime: UInt64 { clock }
    public var isPlaying: Bool { playing }
    public var speed: Double { Self.speeds[speedIndex] }
    /// The event number (file order) of the selected row; nil when there are no rows.
    public var selectedEvent: Int? { rows.count > selectedRow ? rows.eventNumber(ofRow: selectedRow, in: trace) : nil }
    public var focusedPane: Pane { focus }
    public var activeFilter: String { filterText }

    /// Time 0 of the status line and the diagram: the first event's (after the header).
    var origin: UInt64 {
        let index = trace.index
        for position in 0..<min(index.count, 2) {
            let number = index.eventNumber(atTimePosition: position)
            if index.rawKind(of: number) != TraceRecordKind.header.rawValue { return index.time(of: number) }
        }
        return 0
    }

    func relative(_ time: UInt64) -> Int64 { Int64(bitPattern: time &- origin) }
}
