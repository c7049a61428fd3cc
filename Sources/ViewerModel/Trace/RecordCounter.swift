import TraceFormat

/// Decodes the records the viewer shows and counts every decode, so a test can prove that a frame costs
/// what the screen holds, not what the trace holds. Event numbers are file positions: they stay valid while
/// a followed trace grows, so cached records never go stale.
final class RecordCounter {
    /// Records decoded for rows, panes and detail (each decode once, then served from the cache).
    private(set) var decodes = 0
    /// Records decoded to evaluate a filter or a search (not per frame: once per row examined).
    private(set) var scanDecodes = 0
    private var cache: [Int: TraceRecord] = [:]
    /// About one screen of rows and sparkline columns many times over; cleared whole when full.
    static let capacity = 8192

    func record(_ number: Int, in trace: IndexedTrace) -> TraceRecord? {
        if let hit = cache[number] { return hit }
        decodes += 1
        guard let record = trace.record(number) else { return nil }
        if cache.count >= Self.capacity { cache.removeAll(keepingCapacity: true) }
        cache[number] = record
        return record
    }

    /// A decode for a scan over many events (filter, search): counted apart, not cached (it would evict the screen).
    func scanRecord(_ number: Int, in trace: IndexedTrace) -> TraceRecord? {
        if let hit = cache[number] { return hit }
        scanDecodes += 1
        return trace.record(number)
    }
}
