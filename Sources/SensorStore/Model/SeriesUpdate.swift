public import SensorCore

/// What one flush changes in one series' row: its counts (``SeriesDelta``), its seq
/// window (encoded, ``SeqWindow/encode(into:)``), or both.
public struct SeriesUpdate {
    public var series: SeriesKey
    /// The writer's tag of the series, when it has one (the pipeline's pending series).
    public var tag: SeriesTag?
    /// Nil when only the window changed: every reading of the series since the last flush
    /// was a duplicate, or came after the flush took its buckets.
    public var delta: SeriesDelta?
    public var window: ArraySlice<UInt8>?

    public init(series: SeriesKey, tag: SeriesTag? = nil, delta: SeriesDelta?, window: ArraySlice<UInt8>?) {
        self.series = series
        self.tag = tag
        self.delta = delta
        self.window = window
    }
}

/// Series updates built only as a store walks them (the aggregation workers' pending
/// series, each window already beside its series' counts): a flush of many series then
/// holds no list of their deltas, nor a copy of each key to join windows to counts by.
///
/// Walking a source again gives the same updates, so a batch whose write failed is
/// written again from the same source.
public protocol SeriesUpdateSource: Sendable {
    /// Calls `body` with each update: one per series, each series once.
    func forEachUpdate(_ body: (SeriesUpdate) throws -> Void) rethrows
}
