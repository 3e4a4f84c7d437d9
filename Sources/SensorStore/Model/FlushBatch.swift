public import SensorCore

/// Everything one flush writes, committed by ``SensorStore/write(_:)`` in a single
/// transaction: either all of it is stored or none of it.
public struct FlushBatch: Sendable {
    public var buckets: [Bucket]
    public var series: [SeriesDelta]
    /// Journal position per journal shard that these buckets cover; a stored checkpoint
    /// only ever moves forward.
    public var checkpoints: [Int: Int64]
    /// De-duplication state of series that send seq numbers, as of the checkpoints.
    public var seqWindows: [SeriesKey: SeqWindow]

    public init(buckets: [Bucket] = [], series: [SeriesDelta] = [], checkpoints: [Int: Int64] = [:], seqWindows: [SeriesKey: SeqWindow] = [:]) {
        self.buckets = buckets
        self.series = series
        self.checkpoints = checkpoints
        self.seqWindows = seqWindows
    }

    public var isEmpty: Bool { buckets.isEmpty && series.isEmpty && checkpoints.isEmpty && seqWindows.isEmpty }

    /// This batch followed by `later`: deltas add up, checkpoints keep the furthest
    /// position, seq windows the later state.
    public mutating func append(_ later: FlushBatch) {
        buckets += later.buckets
        series += later.series
        checkpoints.merge(later.checkpoints, uniquingKeysWith: max)
        seqWindows.merge(later.seqWindows) { _, newer in newer }
    }
}
