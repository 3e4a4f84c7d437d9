import SensorCore

/// The newest stored bucket per (series, resolution) that this process wrote, so the next
/// flush of a still-open bucket merges in memory and issues one UPDATE, without reading
/// the row back.
///
/// Sound only while this process is the file's single writer, which ``WriterLock``
/// enforces; entries are added only after their transaction committed. Size: one entry
/// per series and resolution (about 100 bytes each).
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

    /// The stored stats of bucket `start` in `slot`, if it is the cached one.
    func stored(_ slot: Slot, start: Int64) -> BucketStats? {
        guard let entry = entries[slot], entry.start == start else { return nil }
        return entry.stats
    }

    /// Records stored stats; an older window than the cached one (a late reading) is not kept.
    mutating func record(_ slot: Slot, start: Int64, stats: BucketStats) {
        if let entry = entries[slot], entry.start > start { return }
        entries[slot] = Entry(start: start, stats: stats)
    }

    /// Drops entries of `resolution` for buckets starting before `cutoff` (deleted by retention).
    mutating func forget(resolution: Int64, before cutoff: Int64) {
        entries = entries.filter { $0.key.resolution != resolution || $0.value.start >= cutoff }
    }

    /// Applies what a committed transaction recorded in `other`.
    mutating func absorb(_ other: BucketCache) {
        for (slot, entry) in other.entries {
            record(slot, start: entry.start, stats: entry.stats)
        }
    }
}
