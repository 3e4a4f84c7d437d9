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

    /// The values of four 0-based ranks (each below the total, in any order) among values
    /// held as above. Each `…Keys` maps four ranks, counted in ascending key order, to the
    /// keys holding them.
    static func values(
        atRanks ranks: SIMD4<UInt64>, negativeTotal: UInt64, zeroCount: UInt64, positiveTotal: UInt64,
        clampedTo bounds: ClosedRange<Double>?,
        negativeKeys: (SIMD4<UInt64>) -> SIMD4<Int32>, positiveKeys: (SIMD4<UInt64>) -> SIMD4<Int32>
    ) -> SIMD4<Double> {
        // Negatives come first, most negative first: value rank r is key rank
        // (negativeTotal − 1 − r) among the ascending keys of their magnitudes.
        let isNegative = ranks .< SIMD4(repeating: negativeTotal)
        let isPositive = ranks .>= SIMD4(repeating: negativeTotal + zeroCount)
        var negativeRanks = SIMD4<UInt64>(repeating: 0)
        negativeRanks.replace(with: SIMD4(repeating: negativeTotal &- 1) &- ranks, where: isNegative)
        var positiveRanks = SIMD4<UInt64>(repeating: 0)
        positiveRanks.replace(with: ranks &- (negativeTotal + zeroCount), where: isPositive)
        let negative = negativeTotal > 0 ? negativeKeys(negativeRanks) : SIMD4(repeating: 0)
        let positive = positiveTotal > 0 ? positiveKeys(positiveRanks) : SIMD4(repeating: 0)
        // Neighbouring ranks often share a bin (all four do in a bucket of three readings):
        // each bin's value is computed once.
        var lastKey = Int32.min
        var lastMagnitude = 0.0
        func value(_ lane: Int) -> Double {
            var value = 0.0
            if isNegative[lane] || isPositive[lane] {
                let key = isNegative[lane] ? negative[lane] : positive[lane]
                if key != lastKey { (lastKey, lastMagnitude) = (key, QuantileSketch.value(ofKey: key)) }
                value = isNegative[lane] ? -lastMagnitude : lastMagnitude
            }
            if let bounds { value = Swift.min(bounds.upperBound, Swift.max(bounds.lowerBound, value)) }
            return value
        }
        // Lane by lane with constant lanes: a lane written through a variable index goes
        // through memory (see RankWalk).
        return SIMD4(value(0), value(1), value(2), value(3))
    }

    /// The keys holding the values of four 0-based `ranks` among `bins` (ascending keys,
    /// each with its count), in one walk (``RankWalk``). A rank past the last value gives
    /// `lastKey`, the last bin's key.
    static func keys(atRanks ranks: SIMD4<UInt64>, bins: some Sequence<(key: Int32, count: UInt64)>, lastKey: Int32) -> SIMD4<Int32> {
        var walk = RankWalk(ranks: ranks, lastKey: lastKey)
        for (key, count) in bins where walk.take(key: key, count: count) { break }
        return walk.keys
    }

    /// ``keys(atRanks:bins:lastKey:)`` over dense bins: `counts` of keys `offset`,
    /// `offset + 1`, …
    static func keys(atRanks ranks: SIMD4<UInt64>, offset: Int32, counts: [UInt64]) -> SIMD4<Int32> {
        var walk = RankWalk(ranks: ranks, lastKey: offset + Int32(Swift.max(0, counts.count - 1)))
        for index in counts.indices where walk.take(key: offset + Int32(index), count: counts[index]) { break }
        return walk.keys
    }
}
