internal import Metrics

/// What the flusher reports in /metrics.
struct FlushMetrics: Sendable {
    /// Wall time of each store write (histogram).
    let duration = Metrics.Timer(label: "sensorhub_flush_duration_seconds", preferredDisplayUnit: .seconds)
    /// Per flush, the time from accepting its oldest reading to committing it: an upper
    /// bound of how long any reading of that flush waited to be stored (histogram).
    let ingestToFlush = Metrics.Timer(label: "sensorhub_ingest_to_flush_seconds", preferredDisplayUnit: .seconds)
    let bucketsWritten = Counter(label: "sensorhub_buckets_written_total")
    let failures = Counter(label: "sensorhub_flush_failures_total")
    /// Buckets the store could not take and kept in `set_aside_buckets`.
    let setAside = Counter(label: "sensorhub_buckets_set_aside_total")
    /// Readings the store found counted already when it judged them at flush (another
    /// daemon took a redelivery of them): the same counter as ingest's duplicates.
    let duplicates = Counter(label: "sensorhub_readings_duplicate_total")
    /// Per shard, the buckets the last flush took from the worker: those that changed
    /// during one flush interval (a failed write carries them; they are not counted again).
    let openBuckets: [Gauge]
    /// Per shard, bytes of journal segments on disk after the last flush's clean-up.
    let journalBytes: [Gauge]

    init(shards: Int) {
        openBuckets = (0..<shards).map { Gauge(label: "sensorhub_open_buckets", dimensions: [("shard", "\($0)")]) }
        journalBytes = (0..<shards).map { Gauge(label: "sensorhub_journal_bytes", dimensions: [("shard", "\($0)")]) }
    }
}
