public import SensorCore
internal import Metrics

/// Ingest counters, created once so the hot path never looks a metric up by name.
///
/// `sensorhub_readings_ingested_total{transport,format}` counts readings taken;
/// `sensorhub_readings_rejected_total{transport,reason}` counts rejected items — a whole
/// rejected payload counts once, since nothing of it was taken;
/// `sensorhub_readings_duplicate_total` counts readings dropped as duplicates by seq.
public struct IngestMetrics: Sendable {
    private let ingested: [IngestTransport: [PayloadFormat: Counter]]
    private let rejected: [IngestTransport: [RejectReason: Counter]]
    private let duplicates = Counter(label: "sensorhub_readings_duplicate_total")
    private let journalDamage = Counter(label: "sensorhub_journal_damaged_records_total")
    private let lateDropped = Counter(label: "sensorhub_readings_late_dropped_total")

    public init() {
        var ingested: [IngestTransport: [PayloadFormat: Counter]] = [:]
        var rejected: [IngestTransport: [RejectReason: Counter]] = [:]
        for transport in IngestTransport.allCases {
            var byFormat: [PayloadFormat: Counter] = [:]
            for format in PayloadFormat.allCases {
                byFormat[format] = Counter(
                    label: "sensorhub_readings_ingested_total",
                    dimensions: [("transport", transport.rawValue), ("format", format.rawValue)])
            }
            ingested[transport] = byFormat
            var byReason: [RejectReason: Counter] = [:]
            for reason in RejectReason.allCases {
                byReason[reason] = Counter(
                    label: "sensorhub_readings_rejected_total",
                    dimensions: [("transport", transport.rawValue), ("reason", reason.rawValue)])
            }
            rejected[transport] = byReason
        }
        self.ingested = ingested
        self.rejected = rejected
    }

    public func recordIngested(_ count: Int, transport: IngestTransport, format: PayloadFormat) {
        ingested[transport]?[format]?.increment(by: count)
    }

    /// Readings dropped because their (device, metric, seq) was already counted.
    public func recordDuplicates(_ count: Int) {
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

    public func recordRejected(_ reason: RejectReason, transport: IngestTransport) {
        rejected[transport]?[reason]?.increment()
    }
}
