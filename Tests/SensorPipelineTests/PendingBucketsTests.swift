import Testing
import SensorCore
@testable import SensorPipeline

@Suite struct PendingBucketsTests {
    /// One series spread over tens of thousands of windows in random order (a backlog):
    /// every window gets exactly its readings, however many are pending.
    @Test func manyWindowsOfOneSeriesKeepExactlyTheirReadings() throws {
        let resolutions = [try Resolution(parsing: "10s"), try Resolution(parsing: "1m")]
        var generator = SeededGenerator(seed: 42)
        var pending = PendingBuckets()
        var expected: [Int64: (count: Int64, sum: Double)] = [:]
        for _ in 0..<100_000 {
            let second = Int64.random(in: 0..<400_000, using: &generator)
            let value = Double(Int.random(in: 0..<100, using: &generator))
            pending.add(Reading(device: "d", metric: "m", value: value, timestamp: second * 1_000_000), resolutions: resolutions)
            let window = second / 10 * 10_000_000
            expected[window, default: (0, 0)].count += 1
            expected[window, default: (0, 0)].sum += value
        }
        let tenSeconds = pending.flushBatch(resolutions: resolutions).buckets.filter { $0.resolution == resolutions[0] }
        #expect(tenSeconds.count == expected.count)
        #expect(Set(tenSeconds.map(\.windowStart)).count == tenSeconds.count, "one bucket per window")
        let wrong = tenSeconds.filter { bucket in
            guard let truth = expected[bucket.windowStart] else { return true }
            return truth.count != bucket.stats.count || truth.sum != bucket.stats.sum
        }
        #expect(wrong.isEmpty, "\(wrong.count) windows differ")
        #expect(pending.bucketCount == expected.count + Set(expected.keys.map { $0 / 60_000_000 }).count)
    }
}

@Suite struct PendingMemoryTests {
    /// Values at both ends of the range give a sketch of thousands of bins: the pending
    /// bytes grow with them, so the shard's byte limit is reached long before its bucket
    /// limit.
    @Test func wideSketchesReachTheByteLimitBeforeTheBucketLimit() throws {
        let resolutions = [try Resolution(parsing: "10s")]
        let aggregator = ShardAggregator(resolutions: resolutions, limit: PendingLimit(buckets: 100_000, bytes: 1 << 20))
        var reached = false
        var series = 0
        while !reached, series < 10_000 {
            let readings = [1e100, 1e-300, -1e100, -1e-300].map {
                Reading(device: "d\(series)", metric: "m", value: $0, timestamp: 0)
            }
            reached = aggregator.apply([JournaledBatch(readings: readings, position: 0, acceptedAt: nil)])
            series += 1
        }
        #expect(reached)
        // Four values per bucket, two full stores of 2048 bins: about 32 KiB each.
        #expect(series < 40, "the byte limit took \(series) buckets")
        var typical = PendingBuckets()
        typical.add(Reading(device: "t", metric: "m", value: 21.5, timestamp: 0), resolutions: resolutions)
        #expect(typical.bytes < 200)
    }
}
