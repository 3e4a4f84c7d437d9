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
        let total = count
        guard total > 0 else { return nil }
        let ranks = Percentiles.ranks(count: total)
        var values = SIMD4<Double>(repeating: 0)
        var negativeRanks = SIMD4<UInt64>(repeating: 0)
        var positiveRanks = SIMD4<UInt64>(repeating: 0)
        for index in 0..<4 {
            let rank = ranks[index]
            if rank < negative.total {
                negativeRanks[index] = negative.total - 1 - rank
            } else if rank >= negative.total + zeroCount {
                positiveRanks[index] = rank - negative.total - zeroCount
            }
        }
        let negativeKeys = negative.keys(atRanks: negativeRanks)
        let positiveKeys = positive.keys(atRanks: positiveRanks)
        for index in 0..<4 {
            let rank = ranks[index]
            var value: Double
            if rank < negative.total {
                value = -QuantileSketch.value(ofKey: negativeKeys[index])
            } else if rank < negative.total + zeroCount {
                value = 0
            } else {
                value = QuantileSketch.value(ofKey: positiveKeys[index])
            }
            if let bounds { value = Swift.min(bounds.upperBound, Swift.max(bounds.lowerBound, value)) }
            values[index] = value
        }
        return Percentiles(values)
    }
}

/// Counts per key over `[offset, offset + counts.count)`, grown as keys arrive, never
/// shrunk (a key whose sketches all left the window keeps a zero count).
private struct DenseBins: Sendable {
    var offset: Int32 = 0
    var counts: [UInt64] = []
    var total: UInt64 = 0

    mutating func add(_ store: BinStore, sign: Int) {
        guard !store.counts.isEmpty else { return }
        let low = store.offset
        let high = store.offset + Int32(store.counts.count)
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
        let base = Int(low - offset)
        if sign > 0 {
            for (index, count) in store.counts.enumerated() { counts[base + index] += count }
            total += store.total
        } else {
            for (index, count) in store.counts.enumerated() { counts[base + index] -= count }
            total -= store.total
        }
    }

    /// As `BinStore.key(atRank:)` for four ranks, in one walk.
    func keys(atRanks ranks: SIMD4<UInt64>) -> SIMD4<Int32> {
        var keys = SIMD4<Int32>(repeating: offset + Int32(Swift.max(0, counts.count - 1)))
        // Monotonic ranks (see EncodedSketchReader): resolved in ascending order.
        let order: SIMD4<Int> = ranks[0] <= ranks[3] ? SIMD4(0, 1, 2, 3) : SIMD4(3, 2, 1, 0)
        var next = 0
        var seen: UInt64 = 0
        for (index, count) in counts.enumerated() where count > 0 {
            seen += count
            while next < 4, seen > ranks[order[next]] {
                keys[order[next]] = offset + Int32(index)
                next += 1
            }
            if next == 4 { break }
        }
        return keys
    }
}
