internal import SensorCore

/// One pending window of a resolution readings are added to, kept as small as it can be:
/// its readings while it has one or two, else the place of its stats among the full
/// buckets of its list (``WindowList``).
///
/// Between two flushes most 10 s windows of a fleet hold one or two readings. As stats
/// they took 184 bytes each (``BucketStats``), as readings they take 40: the flush builds
/// their stats, adding the readings in the order they came, so the stats are exactly
/// those adding them as they came would have given.
enum PendingWindow: Sendable {
    case one(timestamp: Int64, value: Double)
    case two(timestamp: Int64, value: Double, secondTimestamp: Int64, second: Double)
    /// The window's stats are `full[index]` of its list.
    case full(index: Int)

    /// The window's stats: `full`'s for a full window, built for one of readings.
    func bucket(full: [BucketStats]) -> BucketStats {
        var bucket = BucketStats()
        switch self {
        case .one(let timestamp, let value):
            bucket.add(value, at: timestamp)
        case .two(let timestamp, let value, let secondTimestamp, let second):
            bucket.add(value, at: timestamp)
            bucket.add(second, at: secondTimestamp)
        case .full(let index):
            return full[index]
        }
        return bucket
    }
}
