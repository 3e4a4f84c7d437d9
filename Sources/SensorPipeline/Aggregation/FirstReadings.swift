internal import SensorCore

/// A series' first few readings since the last flush, kept in the series' own entry
/// instead of in window lists.
///
/// Most series of a large fleet send a reading or two between two flushes (a sensor
/// reporting every 10 s, a flush every second). Window lists for such a series took
/// about 600 bytes on the heap in seven allocations (a list per resolution, each with
/// its own arrays); its readings take 16 bytes each here. A series that outgrows this
/// is given its window lists, its readings added to them in the order they came
/// (``SeriesAccumulator``), so the buckets are exactly those adding them as they came
/// would have given.
struct FirstReadings: Sendable {
    // Four readings: a fleet's typical series fits, and a busy one moves to window lists
    // after a few.
    private var timestamps = InlineArray<4, Int64>(repeating: 0)
    private var values = InlineArray<4, Double>(repeating: 0)
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    /// Keeps the reading if there is room and no window of a resolution readings are
    /// added to would then hold more than two of them (past two, a pending window holds
    /// stats: ``PendingWindow``). Returns how many windows, over every resolution, the
    /// reading is the first in, or nil when it was not kept.
    mutating func add(_ value: Double, at timestamp: Int64, plan: RollupPlan) -> Int? {
        guard count < timestamps.count else { return nil }
        var opened = 0
        for index in plan.resolutions.indices {
            let resolution = plan.resolutions[index]
            let start = resolution.windowStart(containing: timestamp)
            var sharing = 0
            for earlier in 0..<count where resolution.windowStart(containing: timestamps[earlier]) == start {
                sharing += 1
            }
            if sharing >= 2, plan.direct.contains(index) { return nil }
            if sharing == 0 { opened += 1 }
        }
        timestamps[count] = timestamp
        values[count] = value
        count += 1
        return opened
    }

    /// The kept readings in the order they came.
    func forEach(_ body: (_ value: Double, _ timestamp: Int64) -> Void) {
        for index in 0..<count { body(values[index], timestamps[index]) }
    }
}
