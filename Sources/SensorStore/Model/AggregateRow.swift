public import SensorCore

/// One window of one series: the merged stats of every stored bucket inside
/// `[windowStart, windowEnd)`.
public struct AggregateRow: Sendable, Equatable {
    public var series: SeriesKey
    /// Window start in µs since the epoch (a multiple of the query's step).
    public var windowStart: Int64
    /// `windowStart` + the query's window, exclusive.
    public var windowEnd: Int64
    public var stats: BucketStats

    public init(series: SeriesKey, windowStart: Int64, windowEnd: Int64, stats: BucketStats) {
        self.series = series
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.stats = stats
    }
}
