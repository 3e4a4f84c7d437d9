import Testing
@testable import SensorCore

/// Reference statistics computed directly, two passes, independently of BucketStats.
private struct TwoPass {
    let count: Int
    let sum: Double
    let min: Double
    let max: Double
    let mean: Double
    let variance: Double
    let first: Double
    let last: Double

    init(_ samples: [(value: Double, ts: Int64)]) {
        count = samples.count
        let values = samples.map(\.value)
        // Kahan-compensated sum so the reference is better than the code under test.
        var total = 0.0, compensation = 0.0
        for value in values {
            let y = value - compensation
            let t = total + y
            compensation = (t - total) - y
            total = t
        }
        sum = total
        min = values.min()!
        max = values.max()!
        mean = total / Double(count)
        let mean = self.mean
        variance = values.reduce(0) { $0 + (($1 - mean) * ($1 - mean)) } / Double(count)
        first = samples.min { $0.ts < $1.ts }!.value
        last = samples.max { $0.ts < $1.ts }!.value
    }
}

private func close(_ a: Double, _ b: Double, relative: Double = 1e-9, floor: Double = 1e-12) -> Bool {
    abs(a - b) <= Swift.max(relative * Swift.max(abs(a), abs(b)), floor)
}

private func expectMatches(_ stats: BucketStats, _ reference: TwoPass, relative: Double = 1e-9, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(stats.count == Int64(reference.count), sourceLocation: sourceLocation)
    #expect(close(stats.sum, reference.sum, relative: relative), "sum \(stats.sum) vs \(reference.sum)", sourceLocation: sourceLocation)
    #expect(stats.min == reference.min, sourceLocation: sourceLocation)
    #expect(stats.max == reference.max, sourceLocation: sourceLocation)
    #expect(close(stats.mean, reference.mean, relative: relative), "mean \(stats.mean) vs \(reference.mean)", sourceLocation: sourceLocation)
    #expect(close(stats.variance, reference.variance, relative: 1e-7, floor: 1e-12),
            "variance \(stats.variance) vs \(reference.variance)", sourceLocation: sourceLocation)
    #expect(stats.first == reference.first, sourceLocation: sourceLocation)
    #expect(stats.last == reference.last, sourceLocation: sourceLocation)
}

/// Distinct shuffled timestamps so first/last are well defined.
private func samples(_ count: Int, seed: UInt64, value: (inout SeededGenerator) -> Double) -> [(value: Double, ts: Int64)] {
    var generator = SeededGenerator(seed: seed)
    var timestamps = (0..<Int64(count)).map { 1_764_165_600_000_000 + $0 * 1_000 }
    timestamps.shuffle(using: &generator)
    return timestamps.map { (value(&generator), $0) }
}

@Suite struct BucketStatsTests {
    @Test func addMatchesTwoPassOnRandomData() {
        let data = samples(10_000, seed: 1) { Double.random(in: -50...150, using: &$0) }
        var stats = BucketStats()
        for sample in data { stats.add(sample.value, at: sample.ts) }
        expectMatches(stats, TwoPass(data))
        #expect(close(stats.stddev, TwoPass(data).variance.squareRoot()))
    }

    @Test func varianceStaysAccurateAroundOneBillion() {
        // Values 1e9 + U(0, 1): the true variance is about 1/12. Sum of squares would
        // subtract two numbers near 1e22 and keep no correct digit.
        let data = samples(100_000, seed: 2) { 1e9 + Double.random(in: 0..<1, using: &$0) }
        var stats = BucketStats()
        for sample in data { stats.add(sample.value, at: sample.ts) }
        let reference = TwoPass(data)
        expectMatches(stats, reference)

        let n = Double(data.count)
        let sumOfSquares = data.reduce(0) { $0 + $1.value * $1.value }
        let naive = sumOfSquares / n - (reference.sum / n) * (reference.sum / n)
        #expect(!close(naive, reference.variance, relative: 1e-3), "the data set must defeat sum-of-squares to prove anything")
        #expect(abs(reference.variance - 1.0 / 12.0) < 0.01)
    }

    @Test func mergeEqualsSequentialAddInAnyGroupingAndOrder() {
        let data = samples(5_000, seed: 3) { Double.random(in: -1e6...1e6, using: &$0) }
        let reference = TwoPass(data)
        var generator = SeededGenerator(seed: 4)
        for _ in 0..<50 {
            // Random chunking into partial buckets.
            var parts: [BucketStats] = []
            var index = 0
            while index < data.count {
                let length = Int.random(in: 1...400, using: &generator)
                var part = BucketStats()
                for sample in data[index..<Swift.min(index + length, data.count)] { part.add(sample.value, at: sample.ts) }
                parts.append(part)
                index += length
            }
            parts.shuffle(using: &generator)
            // Random tree of merges: repeatedly merge two random neighbours.
            while parts.count > 1 {
                let position = Int.random(in: 0..<(parts.count - 1), using: &generator)
                let merged = Bool.random(using: &generator)
                    ? parts[position].merging(parts[position + 1])
                    : parts[position + 1].merging(parts[position])
                parts.replaceSubrange(position...(position + 1), with: [merged])
            }
            expectMatches(parts[0], reference)
        }
    }

    @Test func mergeIsAssociative() {
        let data = samples(3_000, seed: 5) { Double.random(in: 0...1, using: &$0) * 1e3 }
        var a = BucketStats(), b = BucketStats(), c = BucketStats()
        for (offset, sample) in data.enumerated() {
            switch offset % 3 {
            case 0: a.add(sample.value, at: sample.ts)
            case 1: b.add(sample.value, at: sample.ts)
            default: c.add(sample.value, at: sample.ts)
            }
        }
        let left = a.merging(b).merging(c)
        let right = a.merging(b.merging(c))
        #expect(left.count == right.count && left.min == right.min && left.max == right.max)
        #expect(left.first == right.first && left.last == right.last)
        #expect(close(left.mean, right.mean) && close(left.m2, right.m2, relative: 1e-9) && close(left.sum, right.sum))
    }

    @Test func emptyBucketIsTheMergeIdentity() {
        var stats = BucketStats()
        stats.add(4, at: 10)
        stats.add(8, at: 20)
        #expect(stats.merging(BucketStats()) == stats)
        #expect(BucketStats().merging(stats) == stats)
        #expect(BucketStats().isEmpty && BucketStats().variance == 0)
    }

    @Test func firstAndLastFollowEventTimeNotArrival() {
        var stats = BucketStats()
        stats.add(3, at: 300)
        stats.add(1, at: 100)
        stats.add(5, at: 500)
        stats.add(2, at: 200)
        #expect(stats.first == 1 && stats.firstTimestamp == 100)
        #expect(stats.last == 5 && stats.lastTimestamp == 500)
    }

    @Test func equalEventTimesBreakTiesByValueWhateverTheOrder() {
        var forward = BucketStats()
        forward.add(7, at: 100)
        forward.add(3, at: 100)
        var backward = BucketStats()
        backward.add(3, at: 100)
        backward.add(7, at: 100)
        #expect(forward == backward)
        #expect(forward.first == 3 && forward.last == 7)
    }

    @Test func singleReadingHasZeroSpread() {
        var stats = BucketStats()
        stats.add(-2.5, at: 0)
        #expect(stats.count == 1 && stats.sum == -2.5 && stats.mean == -2.5 && stats.stddev == 0)
        #expect(stats.min == -2.5 && stats.max == -2.5 && stats.first == -2.5 && stats.last == -2.5)
    }

    /// `isStorable` (the flush's inlinable test) says yes exactly when `storageProblem` has
    /// nothing to say, also when every field is finite but their sum overflows.
    @Test func isStorableAgreesWithStorageProblem() {
        func stats(sum: Double = 1, min: Double = 1, max: Double = 1, m2: Double = 0, count: Int64 = 1) -> BucketStats {
            BucketStats(count: count, sum: sum, min: min, max: max, mean: sum / Double(count), m2: m2,
                        firstTimestamp: 0, first: min, lastTimestamp: 1, last: max)
        }
        let cases: [(BucketStats, String?)] = [
            (stats(), nil),
            (stats(sum: 1.5e308, min: 1e308, max: 1.7e308, count: 2), nil),
            (stats(sum: .nan), "its sum is nan, not a finite number"),
            (stats(sum: .infinity, max: .infinity), "its sum is inf, not a finite number"),
            (stats(m2: -.infinity), "its m2 is -inf, not a finite number"),
            (stats(count: 0), "the bucket counts 0 readings"),
            (BucketStats(), "the bucket counts 0 readings"),
        ]
        for (bucket, problem) in cases {
            #expect(bucket.storageProblem == problem)
            #expect(bucket.isStorable == (problem == nil))
        }
    }

    /// `isBuilt(byAdding:then:)` decides without building; it must answer what building
    /// the bucket and comparing gives, for buckets that are and are not built that way.
    @Test func isBuiltAgreesWithBuildingTheBucket() {
        var rng = SeededGenerator(seed: 4_211)
        let values: [Double] = [0, -0.0, 21.5, 21.5001, 21.6, -3, -3.0001, 1e-300, 1e9, -1e9, 150]
        func built(_ readings: [(value: Double, timestamp: Int64)]) -> BucketStats {
            var stats = BucketStats()
            for reading in readings { stats.add(reading.value, at: reading.timestamp) }
            return stats
        }
        for _ in 0..<2_000 {
            let first = (value: values.randomElement(using: &rng)!, timestamp: Int64.random(in: 0...3, using: &rng))
            let second = (value: values.randomElement(using: &rng)!, timestamp: Int64.random(in: 0...3, using: &rng))
            let third = (value: values.randomElement(using: &rng)!, timestamp: Int64.random(in: 0...3, using: &rng))
            // Built by adding, by merging, with another sketch or none, with three readings.
            let candidates = [
                built([first]), built([first, second]), built([second, first]),
                built([first]).merging(built([second])), built([second]).merging(built([first])),
                built([first, second]).with(sketch: built([first, third]).sketch), built([first]).withoutSketch,
                built([first, second, third]),
            ]
            for stats in candidates {
                #expect(stats.isBuilt(byAdding: first) == (stats == built([first])), "\(stats) from \(first)")
                #expect(stats.isBuilt(byAdding: first, then: second) == (stats == built([first, second])), "\(stats) from \(first), \(second)")
            }
        }
    }
}
