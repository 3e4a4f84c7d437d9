import SensorCore

/// The newest stored bucket per (series, resolution) that this process wrote, so the next
/// flush of a still-open bucket merges in memory and issues one UPDATE, without reading
/// the row back.
///
/// Sound only while this process is the file's single writer, which ``WriterLock``
/// enforces; entries are added only after their transaction committed. Bounded in bytes
/// (``BucketStats/footprint``: a bucket of far-apart values holds a much larger sketch
/// than a typical one): past `budget`, the entries of the oldest windows are dropped, and
/// a later write of such a bucket reads its row back instead.
struct BucketCache: Sendable {
    struct Slot: Hashable, Sendable {
        var seriesID: Int64
        var resolution: Int64
    }

    struct Entry: Sendable {
        var start: Int64
        var stats: BucketStats
    }

    private(set) var entries: [Slot: Entry] = [:]
    /// Footprint of the entries, bytes.
    private(set) var bytes = 0
    let budget: Int

    init(budget: Int = .max) {
        self.budget = budget
    }

    /// The stored stats of bucket `start` in `slot`, if it is the cached one.
    func stored(_ slot: Slot, start: Int64) -> BucketStats? {
        guard let entry = entries[slot], entry.start == start else { return nil }
        return entry.stats
    }

    /// Records stored stats; an older window than the cached one (a late reading) is not kept.
    mutating func record(_ slot: Slot, start: Int64, stats: BucketStats) {
        if let entry = entries[slot] {
            if entry.start > start { return }
            bytes -= entry.stats.footprint
        }
        entries[slot] = Entry(start: start, stats: stats)
        bytes += stats.footprint
    }

    /// Drops entries of `resolution` for buckets starting before `cutoff` (deleted by retention).
    mutating func forget(resolution: Int64, before cutoff: Int64) {
        entries = entries.filter { $0.key.resolution != resolution || $0.value.start >= cutoff }
        bytes = entries.values.reduce(0) { $0 + $1.stats.footprint }
    }

    /// Applies what a committed transaction recorded in `other`, then keeps within budget.
    mutating func absorb(_ other: BucketCache) {
        for (slot, entry) in other.entries {
            record(slot, start: entry.start, stats: entry.stats)
        }
        guard bytes > budget else { return }
        // Down to three quarters, so the sort is not paid at every flush.
        for (slot, entry) in entries.sorted(by: { $0.value.start < $1.value.start }) where bytes > budget / 4 * 3 {
            entries[slot] = nil
            bytes -= entry.stats.footprint
        }
    }
}
