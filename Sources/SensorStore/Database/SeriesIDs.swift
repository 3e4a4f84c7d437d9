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
/// Kept in an ordered dictionary: its keys and ids are two arrays, indexed by a hash table
/// of as few bits a slot as the count needs. A `Dictionary` keeps each (key, id) in its
/// own table, 40 bytes a slot at up to 3/4 full: 100,000 series took 262,144 slots,
/// 10.5 MB; here they take 4-5 MB.
struct SeriesIDs {
    private(set) var ids: OrderedDictionary<SeriesKey, Int64> = [:]
    /// Whether ``ids`` holds every row of the table.
    private(set) var holdsEveryRow = false

    /// The id of `series`: `.known(id)`, `.new` when the ids hold every row and lack it,
    /// `.unknown` when only the table can tell.
    func lookUp(_ series: SeriesKey) -> Lookup {
        if let id = ids[series] { return .known(id) }
        return holdsEveryRow ? .new : .unknown
    }

    enum Lookup {
        case known(Int64)
        case new
        case unknown
    }

    /// Adds the id of a row a write found or inserted. The table grows as series come, a
    /// doubling now and then over the daemon's life; making room for a flush's new series
    /// first took a lookup of every series of every flush.
    mutating func add(_ series: SeriesKey, id: Int64) {
        ids[series] = id
    }

    /// Takes out the ids from `first` on: the rows a failed transaction inserted. An insert
    /// takes the next rowid, one past the largest in the table (rows are never deleted),
    /// so the rows it inserted are exactly the ids from its first on.
    mutating func forgetIDs(from first: Int64) {
        ids.removeAll { $0.value >= first }
    }

    /// Adds every row of the table, read in one snapshot. Rows committed after the
    /// snapshot were added by their own writes, before or after this: either way they stay.
    mutating func addEveryRow(_ rows: [(key: SeriesKey, value: Int64)]) {
        ids.merge(rows) { current, _ in current }
        holdsEveryRow = true
    }
}
