public import SensorCore

/// One bucket: the stats of `series` in the window `[windowStart, windowStart + resolution)`.
///
/// In a ``FlushBatch`` the stats are a delta: what the aggregation worker added since the
/// previous flush, which ``SensorStore/write(_:report:)`` merges into the stored bucket (or
/// inserts), so it may be partial (a bucket still open, a late reading for an old window).
/// What `write` returns for live subscribers are buckets as stored after that merge.
/// `windowStart` must be epoch-aligned to `resolution` (the write rejects it otherwise).
public struct Bucket: Sendable {
    public var series: SeriesKey
    public var resolution: Resolution
    /// Start of the window in microseconds since the epoch, a multiple of `resolution`.
    public var windowStart: Int64
    public var stats: BucketStats

    public init(series: SeriesKey, resolution: Resolution, windowStart: Int64, stats: BucketStats) {
        self.series = series
        self.resolution = resolution
        self.windowStart = windowStart
        self.stats = stats
    }

    /// End of the window (exclusive), µs.
    public var windowEnd: Int64 { windowStart + resolution.microseconds }
}
