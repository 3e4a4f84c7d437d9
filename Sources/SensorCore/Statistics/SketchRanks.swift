/// Values at ranks from bin counts: the one rank-to-value walk of every form the bins
/// come in, a decoded ``QuantileSketch`` (``QuantileSketch/quantile(_:clampedTo:)`` and
/// ``QuantileSketch/percentiles(clampedTo:)``), an encoded one read in place
/// (``EncodedSketchReader``) and a ``SlidingSketch``, so all of them answer alike.
enum SketchRanks {
    /// The four percentiles of values held as negative magnitudes (`negativeTotal` values,
    /// bins read by `negativeKeys`), exact zeros, and positives (`positiveTotal`, read by
    /// `positiveKeys`). Nil when there are no values.
    static func percentiles(
        negativeTotal: UInt64, zeroCount: UInt64, positiveTotal: UInt64, clampedTo bounds: ClosedRange<Double>?,
        negativeKeys: (SIMD4<UInt64>) -> SIMD4<Int32>, positiveKeys: (SIMD4<UInt64>) -> SIMD4<Int32>
    ) -> Percentiles? {
        let total = negativeTotal + zeroCount + positiveTotal
        guard total > 0 else { return nil }
        return Percentiles(values(
            atRanks: Percentiles.ranks(count: total), negativeTotal: negativeTotal, zeroCount: zeroCount,
            positiveTotal: positiveTotal, clampedTo: bounds, negativeKeys: negativeKeys, positiveKeys: positiveKeys))
    }

    /// The values of four 0-based ranks (monotonic, each below the total) among values
    /// held as above. Each `…Keys` maps four ranks, in ascending key order, to the keys
    /// holding them.
    static func values(
        atRanks ranks: SIMD4<UInt64>, negativeTotal: UInt64, zeroCount: UInt64, positiveTotal: UInt64,
        clampedTo bounds: ClosedRange<Double>?,
        negativeKeys: (SIMD4<UInt64>) -> SIMD4<Int32>, positiveKeys: (SIMD4<UInt64>) -> SIMD4<Int32>
    ) -> SIMD4<Double> {
        // Negatives come first, most negative first: value rank r is key rank
        // (negativeTotal − 1 − r) among the ascending keys of their magnitudes.
        var negativeRanks = SIMD4<UInt64>(repeating: 0)
        var positiveRanks = SIMD4<UInt64>(repeating: 0)
        for index in 0..<4 {
            let rank = ranks[index]
            if rank < negativeTotal {
                negativeRanks[index] = negativeTotal - 1 - rank
            } else if rank >= negativeTotal + zeroCount {
                positiveRanks[index] = rank - negativeTotal - zeroCount
            }
        }
        let negative = negativeTotal > 0 ? negativeKeys(negativeRanks) : SIMD4(repeating: 0)
        let positive = positiveTotal > 0 ? positiveKeys(positiveRanks) : SIMD4(repeating: 0)
        var values = SIMD4<Double>(repeating: 0)
        for index in 0..<4 {
            let rank = ranks[index]
            var value: Double
            if rank < negativeTotal {
                value = -QuantileSketch.value(ofKey: negative[index])
            } else if rank < negativeTotal + zeroCount {
                value = 0
            } else {
                value = QuantileSketch.value(ofKey: positive[index])
            }
            if let bounds { value = Swift.min(bounds.upperBound, Swift.max(bounds.lowerBound, value)) }
            values[index] = value
        }
        return values
    }

    /// The keys holding the values of four 0-based `ranks` among `bins` (ascending keys,
    /// each with its count), in one walk. The ranks must be monotonic, as quantiles' are
    /// (ascending, or descending for negatives); a rank past the last value gives
    /// `lastKey`, the last bin's key.
    static func keys(atRanks ranks: SIMD4<UInt64>, bins: some Sequence<(key: Int32, count: UInt64)>, lastKey: Int32) -> SIMD4<Int32> {
        var keys = SIMD4<Int32>(repeating: lastKey)
        let order: SIMD4<Int> = ranks[0] <= ranks[3] ? SIMD4(0, 1, 2, 3) : SIMD4(3, 2, 1, 0)
        var next = 0
        var seen: UInt64 = 0
        for (key, count) in bins {
            seen += count
            while next < 4, seen > ranks[order[next]] {
                keys[order[next]] = key
                next += 1
            }
            if next == 4 { break }
        }
        return keys
    }

    /// ``keys(atRanks:bins:lastKey:)`` over dense bins: `counts` of keys `offset`,
    /// `offset + 1`, …
    static func keys(atRanks ranks: SIMD4<UInt64>, offset: Int32, counts: [UInt64]) -> SIMD4<Int32> {
        let bins = counts.indices.lazy.map { (key: offset + Int32($0), count: counts[$0]) }
        return keys(atRanks: ranks, bins: bins, lastKey: offset + Int32(Swift.max(0, counts.count - 1)))
    }
}
