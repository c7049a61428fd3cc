/// What a filter asks about beyond a record (side identities, message names, latencies) comes from the
/// analysis: one source of truth for filters, `show`, `stats` and export. The old name stays for callers.
public typealias TraceFilterContext = TraceAnalyzer
