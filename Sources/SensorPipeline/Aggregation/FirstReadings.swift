internal import SensorCore

/// A series' first few readings since the last flush, kept in the series' own entry (four)
/// and its shard's ``ReadingChains`` (the rest) instead of in window lists.
///
/// Most series of a large fleet send a reading or two between two flushes (a sensor
/// reporting every 10 s, a flush every second). Window lists for such a series took
/// about 600 bytes on the heap in seven allocations (a list per resolution, each with
/// its own arrays); its readings take 12 bytes each here. A series that outgrows this
/// is given its window lists, its readings added to them in the order they came
/// (``SeriesAccumulator``), so the buckets are exactly those adding them as they came
/// would have given.
struct FirstReadings: Sendable {
    /// The most readings kept: with 100,000 series of five to eight readings between two
    /// flushes (a flush of that many series takes over a second), window lists were most
    /// of the pending memory. A series keeping more would scan more on every reading.
    static let capacity = 16

    /// The first kept reading's time: the others keep theirs as 32-bit offsets from it
    /// (about 35 minutes either way), 4 bytes a reading instead of 8, here and in the
    /// chains. A reading farther off is not kept, as one past the capacity is not.
    private var base: Int64 = 0
    // Four readings inline: a fleet's typical series fits without an allocation.
    private var offsets = InlineArray<4, Int32>(repeating: 0)
    private var values = InlineArray<4, Double>(repeating: 0)
    /// The readings past the fourth, in the shard's chains.
    private var more = ReadingChains.Chain()
    /// One byte, last: a series' entry puts the rest of itself right after it, not after
    /// padding (``SeriesAccumulator``).
    private var storedCount: UInt8 = 0

    var count: Int { Int(storedCount) }

    var isEmpty: Bool { count == 0 }

    /// Keeps the reading if there is room, its time is near enough the first's (see
    /// `base`) and no window of a resolution readings are added to would then hold more
    /// than two of them (past two, a pending window holds stats: ``PendingWindow``).
    /// Returns how many windows, over every resolution, the reading is the first in, or
    /// nil when it was not kept.
    mutating func add(_ value: Double, at timestamp: Int64, plan: RollupPlan, chains: inout ReadingChains) -> Int? {
        guard count < Self.capacity else { return nil }
        let offset: Int32
        if count == 0 {
            base = timestamp
            offset = 0
        } else {
            let (difference, overflow) = timestamp.subtractingReportingOverflow(base)
            guard !overflow, let narrow = Int32(exactly: difference) else { return nil }
            offset = narrow
        }
        var opened = 0
        for index in plan.resolutions.indices {
            let resolution = plan.resolutions[index]
            let sharing = countIn(window: resolution.windowStart(containing: timestamp), width: resolution.microseconds, among: count, chains: chains)
            if sharing >= 2, plan.direct.contains(index) { return nil }
            if sharing == 0 { opened += 1 }
        }
        if count < offsets.count {
            offsets[count] = offset
            values[count] = value
        } else {
            chains.append(value, at: offset, to: &more)
        }
        storedCount += 1
        return opened
    }

    /// How many windows of `resolution` starting in `starts` the kept readings lie in:
    /// what a query's row bound counts (``PendingBuckets/bucketCount(ofSeriesAt:resolution:startingIn:)``).
    func windowCount(of resolution: Resolution, startingIn starts: Range<Int64>, chains: ReadingChains) -> Int {
        var windows = 0
        var position = 0
        forEach(chains: chains) { _, timestamp in
            let start = resolution.windowStart(containing: timestamp)
            // Counted at the first reading in it.
            if starts.contains(start), countIn(window: start, width: resolution.microseconds, among: position, chains: chains) == 0 { windows += 1 }
            position += 1
        }
        return windows
    }

    /// How many of the first `among` kept readings fall in the window of `width` µs from
    /// `start`: compared, not divided, since every reading kept asks this of every
    /// resolution.
    private func countIn(window start: Int64, width: Int64, among limit: Int, chains: ReadingChains) -> Int {
        // The difference as unsigned is exact once timestamp >= start.
        func isIn(_ timestamp: Int64) -> Bool { timestamp >= start && UInt64(bitPattern: timestamp &- start) < UInt64(width) }
        var sharing = 0
        for index in 0..<min(limit, offsets.count) where isIn(base + Int64(offsets[index])) { sharing += 1 }
        chains.forEach(of: more, count: limit - offsets.count) { _, offset in if isIn(base + Int64(offset)) { sharing += 1 } }
        return sharing
    }

    /// The latest time of the kept readings; `Int64.min` while there are none.
    func latest(chains: ReadingChains) -> Int64 {
        var latest = Int64.min
        forEach(chains: chains) { _, timestamp in latest = max(latest, timestamp) }
        return latest
    }

    /// The kept readings in the order they came.
    func forEach(chains: ReadingChains, _ body: (_ value: Double, _ timestamp: Int64) -> Void) {
        for index in 0..<min(count, offsets.count) { body(values[index], base + Int64(offsets[index])) }
        chains.forEach(of: more, count: count - offsets.count) { value, offset in body(value, base + Int64(offset)) }
    }
}
