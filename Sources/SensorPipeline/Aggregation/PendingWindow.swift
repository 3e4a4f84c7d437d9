internal import SensorCore
internal import SensorStore

/// One pending window of a resolution readings are added to, kept as small as it can be:
/// its readings while it has one or two; the place of its stats among the full buckets of
/// its list (``WindowList``) while readings come to it; once readings moved past it, its
/// stats encoded among its list's sealed bytes.
///
/// Between two flushes most 10 s windows of a fleet hold one or two readings. As stats
/// they took 184 bytes each (``BucketStats``), as readings they take 40: the flush builds
/// their stats, adding the readings in the order they came, so the stats are exactly
/// those adding them as they came would have given. A busy series fills window after
/// window between two flushes (a backlog's replay; the harness's 4,000,000-reading run:
/// about 17 readings in each 10 s window, 20 windows of a series in a flush). A window it
/// moved past keeps its record (``ChunkCodec``, bit for bit), not its stats with their
/// sketch's arrays: in that run the pending windows took 24 MB at the peak instead of 46.
enum PendingWindow: Sendable {
    case one(timestamp: Int64, value: Double)
    case two(timestamp: Int64, value: Double, secondTimestamp: Int64, second: Double)
    /// The window's stats are `full[index]` of its list.
    case full(index: Int)
    /// The window's stats are the record at `offset` of its list's sealed bytes.
    case sealed(offset: Int)

    /// The window's stats: `full`'s for a full window, decoded for a sealed one, built
    /// for one of readings.
    func bucket(full: [BucketStats], sealed: [UInt8], windowStart: Int64, resolution: Resolution) -> BucketStats {
        var bucket = BucketStats()
        switch self {
        case .one(let timestamp, let value):
            bucket.add(value, at: timestamp)
        case .two(let timestamp, let value, let secondTimestamp, let second):
            bucket.add(value, at: timestamp)
            bucket.add(second, at: secondTimestamp)
        case .full(let index):
            return full[index]
        case .sealed(let offset):
            do {
                return try sealed.withUnsafeBytes { bytes throws(ChunkCodec.Damage) in
                    try ChunkCodec.bucket(ofRecordAt: offset, in: bytes, windowStart: windowStart, resolution: resolution)
                }
            } catch {
                // Written by this process from stats it held a moment before (``WindowList``).
                preconditionFailure("a sealed pending window does not decode: \(error)")
            }
        }
        return bucket
    }
}
