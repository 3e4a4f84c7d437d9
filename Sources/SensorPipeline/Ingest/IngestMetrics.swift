internal import Metrics
internal import SensorCore

/// The pipeline's own ingest counters, created once so the hot path never looks a metric
/// up by name: `sensorhub_readings_duplicate_total` (readings dropped as duplicates by
/// seq), `sensorhub_readings_late_dropped_total` (older than every retention) and
/// `sensorhub_journal_damaged_records_total` (skipped on replay). The per-transport ones
/// are ``TransportCounters``.
struct IngestMetrics: Sendable {
    private let duplicates = Counter(label: "sensorhub_readings_duplicate_total")
    private let journalDamage = Counter(label: "sensorhub_journal_damaged_records_total")
    private let lateDropped = Counter(label: "sensorhub_readings_late_dropped_total")

    /// Readings dropped because their (device, metric, seq) was already counted.
    func recordDuplicates(_ count: Int) {
        duplicates.increment(by: count)
    }

    /// Readings refused because they are older than every resolution's retention.
    func recordLateDropped(_ count: Int) {
        lateDropped.increment(by: count)
    }

    /// Damaged journal records skipped during replay.
    func recordJournalDamage(_ count: Int) {
        journalDamage.increment(by: count)
    }
}

/// One transport's counters: `sensorhub_readings_ingested_total{transport,format}` counts
/// readings taken; `sensorhub_readings_rejected_total{transport,reason}` counts rejected
/// payloads and requests (a whole rejected payload counts once, since nothing of it was
/// taken). Every label value exists from the start, so each series prints from 0.
struct TransportCounters: Sendable {
    private let ingested: [PayloadFormat: Counter]
    private let rejected: [RejectReason: Counter]

    init(transport: IngestTransport) {
        ingested = Dictionary(uniqueKeysWithValues: PayloadFormat.allCases.map { format in
            (format, Counter(label: "sensorhub_readings_ingested_total", dimensions: [("transport", transport.name), ("format", format.rawValue)]))
        })
        rejected = Dictionary(uniqueKeysWithValues: RejectReason.allCases.map { reason in
            (reason, Counter(label: "sensorhub_readings_rejected_total", dimensions: [("transport", transport.name), ("reason", reason.rawValue)]))
        })
    }

    func recordIngested(_ count: Int, format: PayloadFormat) {
        ingested[format]?.increment(by: count)
    }

    func recordRejected(_ reason: RejectReason) {
        rejected[reason]?.increment()
    }
}
