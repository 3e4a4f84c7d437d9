import GRDB
import SensorCore
@testable import SensorStore
import Testing

@Suite struct RetentionTests {
    /// Retention walks the series a page at a time: every series loses exactly its chunks
    /// that end at or before the cutoff, those of the last, partial page included.
    @Test func everySeriesLosesExactlyItsChunksBeforeTheCutoffPageByPage() async throws {
        let dir = try TempDirectory()
        let store = try SQLiteStore(path: dir.file("x.db"), mode: .readWrite)
        let tenSeconds = res("10s")
        try await store.registerResolutions([tenSeconds])
        let series = (0..<7).map { SeriesKey(device: "d\($0)", metric: "t") }
        let windows = (0..<720).map { t0 + Int64($0) * 10 * second } // two hours
        var buckets: [Bucket] = []
        for key in series {
            for start in windows {
                var stats = BucketStats()
                stats.add(1, at: start)
                buckets.append(Bucket(series: key, resolution: tenSeconds, windowStart: start, stats: stats))
            }
        }
        try await store.write(FlushBatch(buckets: buckets, series: series.map { SeriesDelta(series: $0, readings: 720, lastSeen: windows.last!) }))

        let cutoff = t0 + hour + 35 * second
        let span = 32 * 10 * second
        let chunkStarts = Set(windows.map { $0 - (($0 % span) + span) % span })
        let gone = chunkStarts.filter { $0 + span <= cutoff }.count
        #expect(gone > 0 && gone < chunkStarts.count)

        let deleted = try await store.deleteBuckets(of: tenSeconds, startingBefore: cutoff, seriesPerBatch: 3)
        #expect(deleted == gone * series.count)
        let left = try store.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT series_id, count(*) AS n, min(chunk_start_us) AS first FROM chunks GROUP BY series_id")
        }
        #expect(left.count == series.count)
        for row in left {
            #expect(row["n"] as Int == chunkStarts.count - gone)
            #expect((row["first"] as Int64) + span > cutoff)
        }
    }
}
