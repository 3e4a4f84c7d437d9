internal import SensorCore
internal import SensorStore

/// Pending buckets of one shard that a query merges into its stored answer: those of a
/// batch being written (or carried after a failed write), or those still accumulating.
struct PendingPart: UnflushedPart {
    let shard: Int
    let position: Int64
    let pending: PendingBuckets

    var seriesCount: Int { pending.seriesCount }

    func series(at index: Int) -> SeriesKey {
        pending.key(ofSeriesAt: index)
    }

    func bucketCount(ofSeriesAt index: Int, resolution: Resolution, startingIn starts: Range<Int64>) -> Int {
        pending.bucketCount(ofSeriesAt: index, resolution: resolution, startingIn: starts)
    }

    func group(ofSeriesAt index: Int, resolution: Resolution, startingIn starts: Range<Int64>) -> BucketGroup? {
        pending.group(ofSeriesAt: index, resolution: resolution, startingIn: starts)
    }

    func totals(ofSeriesAt index: Int) -> (readings: Int64, lastSeen: Int64) {
        pending.totals(ofSeriesAt: index)
    }

    /// The part with only the series `isSelected` picks.
    func selecting(_ isSelected: (SeriesKey) -> Bool) -> PendingPart {
        PendingPart(shard: shard, position: position, pending: pending.selecting(isSelected))
    }
}

/// Pending reading counts and latest event times of one shard's series, for a device
/// listing (``UnflushedTotals``): copied out, so the worker's windows stay unshared.
struct PendingTotals: UnflushedTotals {
    let shard: Int
    let position: Int64
    private let keys: [SeriesKey]
    private let totals: [(readings: Int64, lastSeen: Int64)]

    init(shard: Int, position: Int64, pending: PendingBuckets) {
        self.shard = shard
        self.position = position
        self.keys = pending.seriesKeys
        self.totals = keys.indices.map { pending.totals(ofSeriesAt: $0) }
    }

    var seriesCount: Int { keys.count }

    func series(at index: Int) -> SeriesKey {
        keys[index]
    }

    func totals(ofSeriesAt index: Int) -> (readings: Int64, lastSeen: Int64) {
        totals[index]
    }
}
