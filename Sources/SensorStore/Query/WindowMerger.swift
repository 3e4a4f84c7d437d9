internal import SensorCore

/// Merges the buckets of one series, fed in ascending start order, into the windows of a
/// ``WindowPlan``.
///
/// Buckets are first folded into chunks of `plan.chunk` µs (the gcd of window and step:
/// every window is a whole run of chunks), then each returnable window that holds a chunk
/// is the merge of its chunks, found with two pointers. Cost: one merge per bucket plus
/// `window / chunk` merges per returned window (1 for tumbling windows, 30 for 5m/10s).
struct WindowMerger {
    let plan: WindowPlan
    private var chunkStarts: [Int64] = []
    private var chunkStats: [BucketStats] = []

    init(plan: WindowPlan) {
        self.plan = plan
    }

    var isEmpty: Bool { chunkStarts.isEmpty }

    /// Adds one stored bucket; `start` must not decrease between calls for one series.
    mutating func add(bucketStart start: Int64, stats: BucketStats) {
        let chunkStart = WindowPlan.floorDiv(start, plan.chunk) * plan.chunk
        if let last = chunkStarts.last, last == chunkStart {
            chunkStats[chunkStats.count - 1].merge(stats)
        } else {
            chunkStarts.append(chunkStart)
            chunkStats.append(stats)
        }
    }

    /// Appends the windows of `series` in ascending start order and resets for the next series.
    mutating func finish(series: SeriesKey, into rows: inout [AggregateRow]) {
        defer {
            chunkStarts.removeAll(keepingCapacity: true)
            chunkStats.removeAll(keepingCapacity: true)
        }
        let (window, step, chunk) = (plan.window, plan.step, plan.chunk)
        var nextWindow = plan.firstWindow
        var low = 0
        var high = 0
        for chunkStart in chunkStarts {
            // Windows k holding this chunk wholly: k·step ≤ start and start + chunk ≤ k·step + window.
            let kLow = Swift.max(WindowPlan.ceilDiv(chunkStart + chunk - window, step), nextWindow)
            let kHigh = Swift.min(WindowPlan.floorDiv(chunkStart, step), plan.lastWindow)
            guard kLow <= kHigh else { continue }
            for k in kLow...kHigh {
                let windowStart = k * step
                let windowEnd = windowStart + window
                while chunkStarts[low] < windowStart { low += 1 }
                if high < low { high = low }
                while high < chunkStarts.count, chunkStarts[high] < windowEnd { high += 1 }
                var stats = chunkStats[low]
                for index in (low + 1)..<high { stats.merge(chunkStats[index]) }
                rows.append(AggregateRow(series: series, windowStart: windowStart, windowEnd: windowEnd, stats: stats))
            }
            nextWindow = kHigh + 1
        }
    }
}
