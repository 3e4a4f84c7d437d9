internal import SensorCore

/// Series ids known to be committed, so a flush resolves (device, metric) without SQL
/// (``SQLiteStore/seriesIDs``).
///
/// Each committed write adds the series it inserted, on the writer connection before the
/// next write begins there (``SQLiteStore/write(_:report:)``). Recovery adds every row of `series`
/// (``SQLiteStore/recoveryState(batchesSince:)``); from then on the ids hold every series
/// in the file, since the store is its only writer and rows of `series` are never
/// deleted, and a series they lack is new: a flush inserts it without a SELECT to ask.
/// Before, the first flush of 100,000 new series ran 100,000 SELECTs that found nothing,
/// and the first flush after a restart one per series to find its id.
struct SeriesIDs {
    private(set) var ids: [SeriesKey: Int64] = [:]
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

    /// Adds the series a committed write inserted.
    mutating func add(_ committed: [SeriesKey: Int64]) {
        ids.merge(committed) { _, new in new }
    }

    /// Adds every row of the table, read in one snapshot. Rows committed after the
    /// snapshot were added by their own writes, before or after this: either way they stay.
    mutating func addEveryRow(_ rows: [SeriesKey: Int64]) {
        ids.merge(rows) { current, _ in current }
        holdsEveryRow = true
    }
}
