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
