public import SensorCore

/// One window of one series: the merged stats of every stored bucket inside
/// `[windowStart, windowEnd)` and their percentiles.
public struct AggregateRow: Sendable, Equatable {
    public var series: SeriesKey
    /// Window start in µs since the epoch (a multiple of the query's step).
    public var windowStart: Int64
    /// `windowStart` + the query's window, exclusive.
    public var windowEnd: Int64
    /// Count, sum, min, max, mean, M2, first and last. Its sketch is not kept (the query
    /// answers percentiles without always building one): use ``percentiles``.
    public var stats: BucketStats
    /// p50…p99 within 1%; nil when some bucket of the window has no sketch (written
    /// before sketches existed).
    public var percentiles: Percentiles?

    public init(series: SeriesKey, windowStart: Int64, windowEnd: Int64, stats: BucketStats, percentiles: Percentiles?) {
        self.series = series
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.stats = stats
        self.percentiles = percentiles
    }

    /// The contract's output record of this row.
    public var record: AggregateRecord {
        AggregateRecord(series: series, windowStart: windowStart, windowEnd: windowEnd, stats: stats, percentiles: percentiles)
    }
}
