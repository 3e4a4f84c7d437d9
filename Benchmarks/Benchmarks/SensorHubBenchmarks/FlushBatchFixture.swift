import SensorCore
import SensorStore

/// The flush a 1-second flusher writes for the harness stream: every one of the 4000
/// series has an open bucket at each of the 3 resolutions (12,000 bucket deltas) plus
/// 4000 series deltas. Each bucket holds the values of the series' first two readings,
/// at times inside the first 10 s window of the stream (series `s`: `s` ms and `s` ms + 500 µs
/// after its start), so one delta per series and resolution.
enum FlushBatchFixture {
    /// `windowShift` moves every window (in whole hours, which every resolution divides),
    /// so each shift gives buckets the database does not hold yet.
    static func batch(_ stream: HarnessReadings, windowShift hours: Int64 = 0) -> FlushBatch {
        let shift = hours * 3_600 * 1_000_000
        var buckets: [Bucket] = []
        buckets.reserveCapacity(stream.seriesCount * ScratchStore.resolutions.count)
        var series: [SeriesDelta] = []
        series.reserveCapacity(stream.seriesCount)
        for index in 0..<stream.seriesCount {
            let key = stream.reading(index).series
            let values = [stream.reading(index).value, stream.reading(index + stream.seriesCount).value]
            let first = stream.startSeconds * 1_000_000 + Int64(index) * 1_000 + shift
            let times = [first, first + 500]
            for resolution in ScratchStore.resolutions {
                var stats = BucketStats()
                for (value, time) in zip(values, times) { stats.add(value, at: time) }
                buckets.append(Bucket(series: key, resolution: resolution,
                                      windowStart: resolution.windowStart(containing: first), stats: stats))
            }
            series.append(SeriesDelta(series: key, readings: Int64(values.count), lastSeen: times[1]))
        }
        return FlushBatch(buckets: buckets, series: series)
    }

    /// The hour before the stream for every series, as a daemon that ran for an hour left
    /// it: one bucket per window at each resolution (360 × 10s, 60 × 1m, 1 × 1h per series,
    /// 1.68 M rows), each holding one reading. Chunked by `seriesPerBatch` series, in the
    /// order the series ids are created.
    static func history(_ stream: HarnessReadings, seriesPerBatch: Int = 250) -> [FlushBatch] {
        let end = stream.startSeconds * 1_000_000
        let hour: Int64 = 3_600 * 1_000_000
        return stride(from: 0, to: stream.seriesCount, by: seriesPerBatch).map { firstSeries in
            var buckets: [Bucket] = []
            var series: [SeriesDelta] = []
            for index in firstSeries..<min(firstSeries + seriesPerBatch, stream.seriesCount) {
                let reading = stream.reading(index)
                for resolution in ScratchStore.resolutions {
                    for start in stride(from: end - hour, to: end, by: Int(resolution.microseconds)) {
                        var stats = BucketStats()
                        stats.add(reading.value, at: start + Int64(index))
                        buckets.append(Bucket(series: reading.series, resolution: resolution, windowStart: start, stats: stats))
                    }
                }
                series.append(SeriesDelta(series: reading.series, readings: 360, lastSeen: end - 1))
            }
            return FlushBatch(buckets: buckets, series: series)
        }
    }
}
