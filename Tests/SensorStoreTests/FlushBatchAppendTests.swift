import Foundation
import SensorCore
@testable import SensorStore
import Testing

/// A flush joins its shards' parts with `FlushBatch.append`: into an empty batch the first
/// part is taken whole, and the result must be what joining part by part gives.
@Suite struct FlushBatchAppendTests {
    let tenSeconds = Resolution(seconds: 10)!

    func part(_ device: String, shard: Int, position: Int64, window: Int64) -> FlushBatch {
        var stats = BucketStats()
        stats.add(Double(position), at: window)
        var seqWindows = EncodedSeqWindows()
        seqWindows.append(SeqWindow(first: UInt64(position), at: window), of: SeriesKey(device: device, metric: "m"))
        return FlushBatch(
            groups: [BucketGroup(series: SeriesKey(device: device, metric: "m"), resolution: tenSeconds, windowStarts: [window], stats: [stats])],
            series: [SeriesDelta(series: SeriesKey(device: device, metric: "m"), readings: 1, lastSeen: window)],
            checkpoints: [shard: position], seqWindows: seqWindows, resolutions: [tenSeconds])
    }

    @Test func anEmptyBatchTakesItsFirstPartWholeAndKeepsItsId() throws {
        let first = part("a", shard: 0, position: 7, window: 10_000_000)
        let second = part("b", shard: 1, position: 3, window: 20_000_000)
        var joined = FlushBatch()
        let id = UUID()
        joined.id = id
        joined.append(first)
        joined.append(second)

        #expect(joined.id == id)
        #expect(joined.buckets.map(\.series) == [SeriesKey(device: "a", metric: "m"), SeriesKey(device: "b", metric: "m")])
        #expect(joined.buckets.map(\.windowStart) == [10_000_000, 20_000_000])
        #expect(joined.buckets.map(\.stats) == (first.buckets + second.buckets).map(\.stats))
        #expect(joined.series.map(\.series) == (first.series + second.series).map(\.series))
        #expect(joined.checkpoints == [0: 7, 1: 3])
        #expect(joined.seqWindows.series == first.seqWindows.series + second.seqWindows.series)
        #expect(joined.resolutions == [tenSeconds])

        // A batch that already holds something is added to, not replaced.
        var withCheckpoint = FlushBatch(checkpoints: [1: 9])
        withCheckpoint.append(second)
        #expect(withCheckpoint.checkpoints == [1: 9] && withCheckpoint.buckets.map(\.stats) == second.buckets.map(\.stats))
    }
}
