public import SensorCore

/// What a restart continues from: the journal checkpoints, the de-duplication state
/// committed with them and the series stored so far.
public struct RecoveryState: Sendable {
    /// Journal position per journal shard covered by the stored buckets.
    public var checkpoints: [Int: Int64]
    /// Seq windows of the series that send seq numbers.
    public var seqWindows: [SeriesKey: SeqWindow]
    /// Every stored series (what the series limits count).
    public var series: [SeriesKey]
    /// Parts of identified batches taken since `batchesSince`, with when.
    public var takenBatches: [(mark: BatchMark, takenAt: Int64)] = []

    public init(checkpoints: [Int: Int64], seqWindows: [SeriesKey: SeqWindow], series: [SeriesKey], takenBatches: [(mark: BatchMark, takenAt: Int64)] = []) {
        self.checkpoints = checkpoints
        self.seqWindows = seqWindows
        self.series = series
        self.takenBatches = takenBatches
    }
}
