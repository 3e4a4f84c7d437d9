import Testing
import SensorCore

/// For any admitted input (finite, |value| ≤ 1e100) split into any parts, merged in any
/// order and grouping: the merge equals the bucket of the whole input, and every field of
/// every bucket on the way stays finite. Exact for count, min, max, first, last and the
/// sketch; sums, means and M2 within the rounding error floating point allows for them
/// in any summation order, whatever the mix of magnitudes.
@Suite struct BucketStatsPropertyTests {
    /// Admitted values of one of several shapes, the extremes of the range included.
    private static func values(shape: Int, count: Int, using generator: inout SeededGenerator) -> [Double] {
        let extremes: [Double] = [1e100, -1e100, 1e-300, -1e-300, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, 2.2250738585072014e-308, 0, 1, -1]
        return (0..<count).map { _ in
            switch shape {
            case 0: return Double.random(in: -1e100...1e100, using: &generator)
            case 1: return extremes.randomElement(using: &generator)!
            case 2: return 1e100
            case 3:  // any magnitude from subnormal to 2^332 (≈ 8.7e99)
                let magnitude = Double(sign: .plus, exponent: Int.random(in: -1_070...332, using: &generator),
                                       significand: Double.random(in: 1..<2, using: &generator))
                return Bool.random(using: &generator) ? magnitude : -magnitude
            case 4: return 1e9 + Double.random(in: 0..<1, using: &generator)
            default: return Double.random(in: -100...100, using: &generator)
            }
        }
    }

    private static func isFinite(_ stats: BucketStats) -> Bool {
        [stats.sum, stats.min, stats.max, stats.mean, stats.m2, stats.first, stats.last, stats.variance].allSatisfy(\.isFinite)
    }

    @Test func anySplitMergedInAnyOrderEqualsTheWholeAndStaysFinite() {
        var generator = SeededGenerator(seed: 0x57A7_5)
        var mismatches: [String] = []
        for trial in 0..<600 {
            let count = Int.random(in: 1...300, using: &generator)
            let values = Self.values(shape: trial % 6, count: count, using: &generator)
            // Event times with ties, so first/last also depend on the tie-break.
            let readings = values.enumerated().map { (value: $1, ts: Int64($0 / 3)) }
            var whole = BucketStats()
            for reading in readings { whole.add(reading.value, at: reading.ts) }

            // Random parts, each filled in a random order, merged pairwise at random.
            let partCount = Int.random(in: 1...8, using: &generator)
            var parts = [BucketStats](repeating: BucketStats(), count: partCount)
            for reading in readings.shuffled(using: &generator) {
                parts[Int.random(in: 0..<partCount, using: &generator)].add(reading.value, at: reading.ts)
            }
            if let broken = parts.first(where: { !$0.isEmpty && !Self.isFinite($0) }) {
                mismatches.append("trial \(trial): a part is not finite: \(broken)")
            }
            while parts.count > 1 {
                let left = parts.remove(at: Int.random(in: 0..<parts.count, using: &generator))
                let index = Int.random(in: 0..<parts.count, using: &generator)
                parts[index] = Bool.random(using: &generator) ? left.merging(parts[index]) : parts[index].merging(left)
                if !parts[index].isEmpty, !Self.isFinite(parts[index]) { mismatches.append("trial \(trial): a merge is not finite: \(parts[index])") }
            }
            let merged = parts[0]

            let largest = values.map(\.magnitude).max() ?? 0
            let spread = (values.max() ?? 0) - (values.min() ?? 0)
            let n = Double(count)
            // Floating-point bounds: a sum of n terms in any order is off by at most about
            // n·ε·Σ|x|; a deviation is off by about ε·|x|, so M2 by about n·ε·|x|·spread
            // per step.
            let magnitudeSum = values.reduce(0) { $0 + $1.magnitude }
            let sumTolerance = 2 * n * magnitudeSum * Double.ulpOfOne
            let m2Tolerance = 8 * n * n * largest * spread * Double.ulpOfOne
            var problems: [String] = []
            if merged.count != whole.count { problems.append("count \(merged.count) vs \(whole.count)") }
            if merged.min != whole.min || merged.max != whole.max { problems.append("min/max") }
            if merged.first != whole.first || merged.firstTimestamp != whole.firstTimestamp { problems.append("first") }
            if merged.last != whole.last || merged.lastTimestamp != whole.lastTimestamp { problems.append("last") }
            if merged.sketch != whole.sketch { problems.append("sketch") }
            if abs(merged.sum - whole.sum) > sumTolerance { problems.append("sum \(merged.sum) vs \(whole.sum)") }
            if abs(merged.mean - whole.mean) > sumTolerance / n + 4 * largest * Double.ulpOfOne { problems.append("mean \(merged.mean) vs \(whole.mean)") }
            if abs(merged.m2 - whole.m2) > m2Tolerance { problems.append("m2 \(merged.m2) vs \(whole.m2)") }
            if !Self.isFinite(whole) || !Self.isFinite(merged) { problems.append("not finite") }
            if !problems.isEmpty { mismatches.append("trial \(trial) (shape \(trial % 6), \(count) values, \(partCount) parts): \(problems.joined(separator: ", "))") }
            if mismatches.count > 5 { break }
        }
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
    }

    /// Millions of equal values at the top of the range: the sum stays finite (below
    /// 1e119 for any count a bucket can hold), the mean is the value, the spread zero.
    @Test func millionsOfEqualHugeValuesStayFinite() {
        var whole = BucketStats()
        var parts = [BucketStats](repeating: BucketStats(), count: 100)
        for index in 0..<3_000_000 {
            whole.add(1e100, at: Int64(index))
            if index < 30_000 { parts[index % 100].add(1e100, at: Int64(index)) }
        }
        #expect(whole.count == 3_000_000 && whole.sum.isFinite && abs(whole.sum - 3e106) <= 3e106 * 1e-9)
        #expect(whole.mean == 1e100 && whole.m2 == 0 && whole.stddev == 0)
        #expect(whole.percentiles.map { abs($0.p99 - 1e100) <= 1e98 } == true)
        var merged = BucketStats()
        for _ in 0..<100 { for part in parts { merged.merge(part) } }
        #expect(merged.count == 3_000_000 && merged.sum.isFinite && merged.mean == 1e100 && merged.m2 == 0)
    }

    /// The widest spread the range allows, again and again: M2 stays finite.
    @Test func alternatingExtremesKeepEverySpreadFinite() {
        var stats = BucketStats()
        for index in 0..<1_000_000 { stats.add(index % 2 == 0 ? 1e100 : -1e100, at: Int64(index)) }
        #expect(stats.m2.isFinite && stats.variance.isFinite && stats.stddev.isFinite)
        #expect(abs(stats.stddev - 1e100) <= 1e100 * 1e-9, "stddev \(stats.stddev)")
        #expect(abs(stats.mean) <= 1e100 * 1e-9)
    }
}
