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
        pattern == "*" || sqlite3_strglob(pattern, name) == 0
    }
}
