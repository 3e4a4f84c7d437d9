internal import GRDBSQLite
public import SensorCore

extension AggregateQuery {
    /// Whether the query selects `series`: its globs as SQLite's `GLOB` reads them
    /// (`sqlite3_strglob`), the operator the store's SQL applies to the stored series. The
    /// pending series a query merges into its answer are picked by the same rule; fnmatch(3)
    /// (``NameGlob``) reads `[!…]` and `\` otherwise.
    public func selects(_ series: SeriesKey) -> Bool {
        Self.glob(deviceGlob, matches: series.device) && Self.glob(metricGlob, matches: series.metric)
    }

    private static func glob(_ pattern: String, matches name: String) -> Bool {
        if pattern == "*" { return true }
        // Most patterns name one device or metric: compared byte for byte, as GLOB compares
        // a pattern without `*`, `?` or `[` (Swift's `==` would equate canonically
        // equivalent strings). A query asks this of every pending series.
        if !pattern.utf8.contains(where: { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "[") }) {
            return pattern.utf8.elementsEqual(name.utf8)
        }
        // withCString, not the implicit conversion, which copies a short (inline) string to
        // the heap.
        return pattern.withCString { pattern in name.withCString { sqlite3_strglob(pattern, $0) == 0 } }
    }
}
