package import SensorCore

/// Merges the buckets of one series, fed in ascending start order, into the windows of a
/// ``WindowPlan``, each with its percentiles.
///
/// Buckets are first folded into chunks of `plan.chunk` µs (the gcd of window and step:
/// every window is a whole run of chunks).
/// - Tumbling windows are single chunks, emitted as soon as the next chunk starts. When a
///   window is one stored bucket, the caller passes its percentiles read straight from
///   the stored sketch (``addSingleBucket(start:stats:percentiles:of:into:)``) and no
///   sketch is built at all.
/// - Sliding windows keep the series' chunks. Count, sum, min, max, mean, M2, first and
///   last come from epoch-aligned blocks one window long: any window is a suffix of one
///   block followed by a prefix of the next, so with every chunk's block suffix and block
///   prefix precomputed (sketches left out) a window costs one merge. Percentiles come
///   from a ``SlidingSketch`` that each chunk's sketch enters and leaves once.
package struct WindowMerger {
    package let plan: WindowPlan
    private let isTumbling: Bool
    private var chunkStarts: [Int64] = []
    private var chunkStats: [BucketStats] = []

    package init(plan: WindowPlan) {
        self.plan = plan
        isTumbling = plan.window == plan.chunk && plan.step == plan.chunk
    }

    /// Whether every window is exactly one stored bucket, so the caller may use
    /// ``addSingleBucket(start:stats:percentiles:of:into:)``.
    package var windowsAreSingleBuckets: Bool { isTumbling && plan.window == plan.resolution.microseconds }

    /// A stored bucket that is a whole window (``windowsAreSingleBuckets``), with the
    /// percentiles of its sketch.
    package func addSingleBucket(start: Int64, stats: consuming BucketStats, percentiles: Percentiles?, of series: SeriesKey,
                         into rows: inout [AggregateRow]) {
        let k = start / plan.step  // exact: bucket starts are multiples of the resolution = step
        guard k >= plan.firstWindow && k <= plan.lastWindow else { return }
        rows.append(AggregateRow(series: series, windowStart: start, windowEnd: start + plan.window, stats: stats, percentiles: percentiles))
    }

    /// Adds one stored bucket of `series`; `start` must not decrease between calls for one
    /// series, and a series' buckets must come together, before ``finish(series:into:)``.
    package mutating func add(bucketStart start: Int64, stats: BucketStats, of series: SeriesKey, into rows: inout [AggregateRow]) {
        let chunkStart = WindowPlan.floorDiv(start, plan.chunk) * plan.chunk
        if let last = chunkStarts.last, last == chunkStart {
            chunkStats[chunkStats.count - 1].merge(stats)
            return
        }
        if isTumbling && !chunkStarts.isEmpty {
            emitTumbling(series: series, into: &rows)
        }
        chunkStarts.append(chunkStart)
        chunkStats.append(stats)
    }

    /// Appends the remaining windows of `series` in ascending start order and resets for
    /// the next series.
    package mutating func finish(series: SeriesKey, into rows: inout [AggregateRow]) {
        if isTumbling {
            if !chunkStarts.isEmpty { emitTumbling(series: series, into: &rows) }
        } else {
            appendSliding(series: series, into: &rows)
            chunkStarts.removeAll(keepingCapacity: true)
            chunkStats.removeAll(keepingCapacity: true)
        }
    }

    /// Window = step = chunk: the one held chunk is a row if it is inside the returnable range.
    private mutating func emitTumbling(series: SeriesKey, into rows: inout [AggregateRow]) {
        let start = chunkStarts.removeLast()
        let stats = chunkStats.removeLast()
        let k = start / plan.step  // exact: chunk starts are multiples of the step
        guard k >= plan.firstWindow && k <= plan.lastWindow else { return }
        rows.append(AggregateRow(
            series: series, windowStart: start, windowEnd: start + plan.window, stats: stats.withoutSketch,
            percentiles: stats.percentiles))
    }

    private func appendSliding(series: SeriesKey, into rows: inout [AggregateRow]) {
        let (window, step, chunk) = (plan.window, plan.step, plan.chunk)
        let (prefix, suffix) = blockPrefixesAndSuffixes()
        var sketch = SlidingSketch()
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
                while chunkStarts[low] < windowStart {
                    if low < high { sketch.remove(chunkStats[low].sketch) }
                    low += 1
                }
                if high < low { high = low }
                while high < chunkStarts.count, chunkStarts[high] < windowEnd {
                    sketch.add(chunkStats[high].sketch)
                    high += 1
                }
                // Chunks low..<high: those before the next block boundary are suffix[low],
                // the others (if any) are the prefix of the next block up to high - 1.
                let boundary = (WindowPlan.floorDiv(windowStart, window) + 1) * window
                var stats = suffix[low]
                if chunkStarts[high - 1] >= boundary {
                    stats = chunkStarts[low] >= boundary ? prefix[high - 1] : stats.merging(prefix[high - 1])
                }
                let complete = sketch.count == UInt64(stats.count)
                rows.append(AggregateRow(
                    series: series, windowStart: windowStart, windowEnd: windowEnd, stats: stats,
                    percentiles: complete ? sketch.percentiles(clampedTo: stats.min...stats.max) : nil))
            }
            nextWindow = kHigh + 1
        }
    }

    /// For each chunk i, without sketches: the merge of the chunks from the start of its
    /// block (epoch-aligned, one window long) up to i, and the merge from i to the end of
    /// its block.
    private func blockPrefixesAndSuffixes() -> (prefix: [BucketStats], suffix: [BucketStats]) {
        let window = plan.window
        let scalars = chunkStats.map(\.withoutSketch)
        var prefix = scalars
        var suffix = scalars
        let block = { (index: Int) in WindowPlan.floorDiv(self.chunkStarts[index], window) }
        for index in scalars.indices.dropFirst() where block(index) == block(index - 1) {
            prefix[index] = prefix[index - 1].merging(scalars[index])
        }
        for index in scalars.indices.dropLast().reversed() where block(index) == block(index + 1) {
            suffix[index] = scalars[index].merging(suffix[index + 1])
        }
        return (prefix, suffix)
    }
}
