public import SensorCore

/// The change to one stored bucket produced by one flush: the stats of the readings the
/// aggregation worker added to the window `[windowStart, windowStart + resolution)` of
/// `series` since the previous flush.
///
/// ``SensorStore/write(_:)`` merges it into the stored bucket (or inserts it), so a delta
/// may be partial: a bucket that is still open, or a late reading for an old window.
/// `windowStart` must be epoch-aligned to `resolution` (the write rejects it otherwise).
public struct BucketDelta: Sendable {
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
}
