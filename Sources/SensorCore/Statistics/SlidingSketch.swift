/// The bin counts of a sliding window of sketches: sketches are added as they enter the
/// window and removed as they leave it, so each window's percentiles cost one add, one
/// remove and one walk over the bins, instead of merging every sketch of the window.
///
/// Counts are kept densely over every key seen (a few thousand at most: keys of finite
/// doubles lie within ±37,000, and a series' values rarely span more than a few hundred),
/// so nothing is ever collapsed. Answers are those of the merge of the sketches in the
/// window (``QuantileSketch/percentiles(clampedTo:)``) whenever that merge did not need
/// to collapse bins, and at least as accurate when it did.
public struct SlidingSketch: Sendable {
    private var positive = DenseBins()
    private var negative = DenseBins()
    private var zeroCount: UInt64 = 0

    public init() {}

    /// Values in the window.
    public var count: UInt64 { positive.total + negative.total + zeroCount }

    public mutating func add(_ sketch: QuantileSketch) {
        positive.add(sketch.positive, sign: 1)
        negative.add(sketch.negative, sign: 1)
        zeroCount += sketch.zeroCount
    }

    /// Removes a sketch added before (the caller guarantees it: counts never go negative).
    public mutating func remove(_ sketch: QuantileSketch) {
        positive.add(sketch.positive, sign: -1)
        negative.add(sketch.negative, sign: -1)
        zeroCount -= sketch.zeroCount
    }

    /// p50…p99 of the values in the window, clamped to `bounds`; nil when it is empty.
    public func percentiles(clampedTo bounds: ClosedRange<Double>? = nil) -> Percentiles? {
        SketchRanks.percentiles(
            negativeTotal: negative.total, zeroCount: zeroCount, positiveTotal: positive.total, clampedTo: bounds,
            negativeKeys: negative.keys(atRanks:), positiveKeys: positive.keys(atRanks:))
    }
}

/// Counts per key over `[offset, offset + counts.count)`, grown as keys arrive, never
/// shrunk (a key whose sketches all left the window keeps a zero count).
private struct DenseBins: Sendable {
    var offset: Int32 = 0
    var counts: [UInt64] = []
    var total: UInt64 = 0

    mutating func add(_ store: BinStore, sign: Int) {
        guard let range = store.keyRange else { return }
        let low = range.lowerBound
        let high = range.upperBound + 1
        if counts.isEmpty {
            offset = low
            counts = [UInt64](repeating: 0, count: Int(high - low))
        } else if low < offset || high > offset + Int32(counts.count) {
            let newLow = Swift.min(low, offset)
            let newHigh = Swift.max(high, offset + Int32(counts.count))
            var widened = [UInt64](repeating: 0, count: Int(newHigh - newLow))
            widened.replaceSubrange(Int(offset - newLow)..<Int(offset - newLow) + counts.count, with: counts)
            counts = widened
            offset = newLow
        }
        let base = offset
        if sign > 0 {
            store.forEachBin { key, count in counts[Int(key - base)] += count }
            total += store.total
        } else {
            store.forEachBin { key, count in counts[Int(key - base)] -= count }
            total -= store.total
        }
    }

    func keys(atRanks ranks: SIMD4<UInt64>) -> SIMD4<Int32> {
        SketchRanks.keys(atRanks: ranks, offset: offset, counts: counts)
    }
}
