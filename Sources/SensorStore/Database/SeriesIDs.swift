internal import OrderedCollections
internal import SensorCore

/// The ids of rows of `series`, so a flush resolves (device, metric) without SQL
/// (``SQLiteStore/seriesIDs``).
///
/// A write adds the series it inserts as it inserts them; they are not committed until
/// its transaction is, which is sound because only writes read the ids, one at a time on
/// the writer connection, and a write whose transaction fails takes its ids out again
/// (``forgetIDs(from:)``) before the next begins (``SQLiteStore/write(_:report:)``).
/// Recovery adds every row of `series`
/// (``SQLiteStore/recoveryState(batchesSince:)``); from then on the ids hold every series
/// in the file, since the store is its only writer and rows of `series` are never
/// deleted, and a series they lack is new: a flush inserts it without a SELECT to ask.
/// Before, the first flush of 100,000 new series ran 100,000 SELECTs that found nothing,
/// and the first flush after a restart one per series to find its id.
///
/// A series the writer tags (``SeriesTag``: the pipeline's pending series) is kept by its
/// tag, 8 bytes in an array of its shard; other series (the rows recovery read, a batch of
/// plain buckets) by name, in an ordered dictionary: its keys and ids are two arrays,
/// indexed by a hash table of as few bits a slot as the count needs. Kept by name, the
/// ids of 100,000 new series took 5.8 MB at the peak of their first flush (the names a
/// second time, the pipeline's registry holding them too); by tag, 0.8 MB.
struct SeriesIDs {
    private(set) var ids: OrderedDictionary<SeriesKey, Int64> = [:]
    /// By shard, then by the tag's index: the id, or ``unknownID``.
    private var idsByTag: [[Int64]] = []
    private static let unknownID = Int64.min
    /// Whether ``ids`` and ``idsByTag`` together hold every row of the table.
    private(set) var holdsEveryRow = false
    /// Whether a row's id is kept by its tag alone: ``ids`` then lacks it, so a lookup by
    /// name alone cannot tell that a series it lacks is new.
    private var keptByTagAlone = false

    /// The id of `series`: `.known(id)`, `.new` when the ids hold every row and lack it,
    /// `.unknown` when only the table can tell. A tagged series found by its name (a row
    /// recovery read) is kept by its tag too, so it is found without hashing from then on.
    mutating func lookUp(_ series: SeriesKey, tag: SeriesTag?) -> Lookup {
        if let tag {
            if let id = id(of: tag) { return .known(id) }
            if let id = ids[series] {
                keep(id, for: tag)
                return .known(id)
            }
            return holdsEveryRow ? .new : .unknown
        }
        if let id = ids[series] { return .known(id) }
        return holdsEveryRow && !keptByTagAlone ? .new : .unknown
    }

    enum Lookup {
        case known(Int64)
        case new
        case unknown
    }

    /// Adds the id of a row a write found or inserted, by its tag when it has one. The
    /// tables grow as series come, a doubling now and then over the daemon's life; making
    /// room for a flush's new series first took a lookup of every series of every flush.
    mutating func add(_ series: SeriesKey, tag: SeriesTag?, id: Int64) {
        if let tag {
            keep(id, for: tag)
            keptByTagAlone = true
        } else {
            ids[series] = id
        }
    }

    /// Takes out the ids from `first` on: the rows a failed transaction inserted. An insert
    /// takes the next rowid, one past the largest in the table (rows are never deleted),
    /// so the rows it inserted are exactly the ids from its first on.
    mutating func forgetIDs(from first: Int64) {
        ids.removeAll { $0.value >= first }
        for shard in idsByTag.indices {
            for index in idsByTag[shard].indices where idsByTag[shard][index] >= first {
                idsByTag[shard][index] = Self.unknownID
            }
        }
    }

    /// Adds every row of the table, read in one snapshot. Rows committed after the
    /// snapshot were added by their own writes, before or after this: either way they stay.
    mutating func addEveryRow(_ rows: [(key: SeriesKey, value: Int64)]) {
        ids.merge(rows) { current, _ in current }
        holdsEveryRow = true
    }

    private func id(of tag: SeriesTag) -> Int64? {
        let shard = Int(tag.shard), index = Int(tag.index)
        guard shard < idsByTag.count, index < idsByTag[shard].count else { return nil }
        let id = idsByTag[shard][index]
        return id == Self.unknownID ? nil : id
    }

    private mutating func keep(_ id: Int64, for tag: SeriesTag) {
        let shard = Int(tag.shard), index = Int(tag.index)
        if shard >= idsByTag.count { idsByTag += Array(repeating: [], count: shard + 1 - idsByTag.count) }
        if index >= idsByTag[shard].count {
            idsByTag[shard] += repeatElement(Self.unknownID, count: index + 1 - idsByTag[shard].count)
        }
        idsByTag[shard][index] = id
    }
}
