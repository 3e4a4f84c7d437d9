public import SensorCore

/// One bucket as stored after a flush: the merge of everything written to it so far (not
/// the flush's delta). What live subscribers are sent.
public struct StoredBucket: Sendable {
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
