public import SensorCore

/// Buckets one shard of the pipeline holds that the store may not have yet: what a query
/// merges into its stored answer, so that a reading is answered as soon as it is
/// aggregated instead of after the next flush.
///
/// Whether the store has a part is told by the shard's journal checkpoint, read in the
/// query's own snapshot: a part covers the shard's readings up to journal position
/// `position`, every flush commits the position it covers with its buckets, and positions
/// only grow. So the part is stored when the stored checkpoint of `shard` is at or past
/// `position`, and merged into the answer when it is not; a flush committing while the
/// query runs cannot make it count twice or not at all.
///
/// A part builds a series' buckets only when the query reaches that series, so a query
/// over a whole fleet never holds all of them at once.
public protocol UnflushedPart: UnflushedTotals {
    /// At most how many buckets of `resolution` starting in `starts` the series at `index`
    /// (``series(at:)``) has.
    func bucketCount(ofSeriesAt index: Int, resolution: Resolution, startingIn starts: Range<Int64>) -> Int
    /// The buckets of `resolution` starting in `starts` of the series at `index`
    /// (``series(at:)``), windows ascending; nil when there are none.
    func group(ofSeriesAt index: Int, resolution: Resolution, startingIn starts: Range<Int64>) -> BucketGroup?
}

/// Of a part the store may not have yet (``UnflushedPart``), what a device listing needs:
/// each series' reading count and latest event time. Taken without the buckets, so
/// listing devices never makes the workers copy their pending windows.
public protocol UnflushedTotals: Sendable {
    /// The pipeline shard the part comes from.
    var shard: Int { get }
    /// The journal position of the last reading the part holds.
    var position: Int64 { get }
    /// How many series the part holds readings of.
    var seriesCount: Int { get }
    /// The series at `index`, one of `0..<seriesCount`: asked for by index, so a query
    /// over 100,000 pending series takes no list of their keys (3.2 MB).
    func series(at index: Int) -> SeriesKey
    /// The readings the part counts of the series at `index` (``series(at:)``), and their
    /// latest event time (µs).
    func totals(ofSeriesAt index: Int) -> (readings: Int64, lastSeen: Int64)
}

extension UnflushedTotals {
    /// Whether a snapshot whose journal checkpoints (shard → position) are `checkpoints`
    /// holds this part.
    package func isStored(by checkpoints: [Int: Int64]) -> Bool {
        position <= checkpoints[shard] ?? .min
    }
}
