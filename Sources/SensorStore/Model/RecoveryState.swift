public import SensorCore

/// What a restart continues from: the journal checkpoints, the de-duplication state
/// committed with them and the series stored so far.
public struct RecoveryState: Sendable {
    /// Journal position per journal shard covered by the stored buckets.
    public var checkpoints: [Int: Int64]
    /// Every stored series (what the series limits count).
    public var series: [SeriesKey]
    /// Seq windows of the series that send seq numbers, each with its series' place in
    /// `series`: a table by key took 21 MB for 100,000 series at a restart's peak
    /// (heaptrack), a list 4.8 MB.
    public var windows: [(place: Int, window: SeqWindow)] = []
    /// Parts of identified batches taken since `batchesSince`, with when.
    public var takenBatches: [(mark: BatchMark, takenAt: Int64)] = []

    public init(checkpoints: [Int: Int64] = [:], series: [SeriesKey] = []) {
        self.checkpoints = checkpoints
        self.series = series
    }

    /// Adds a stored series, with its seq window if it has one.
    public mutating func add(_ key: SeriesKey, window: SeqWindow?) {
        if let window { windows.append((series.count, window)) }
        series.append(key)
    }

    /// The seq windows by series, built on each call: for comparing what two stores
    /// recover; recovery itself restores ``windows`` by place.
    public var seqWindows: [SeriesKey: SeqWindow] {
        Dictionary(uniqueKeysWithValues: windows.map { (series[$0.place], $0.window) })
    }
}
