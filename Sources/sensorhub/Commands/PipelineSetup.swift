import Logging
import SensorConfig
import SensorCore
import SensorPipeline
import SensorStore

/// The ingest pipeline as the settings describe it: what `serve` runs, and what
/// `import --db` runs in-process on the same database and journal.
enum PipelineSetup {
    static func pipeline(settings: Settings, store: any FlushStore, logger: Logger, flushDelay: Duration = .zero, journalEnabled: Bool = true) -> Pipeline {
        Pipeline(
            configuration: PipelineConfiguration(
                shards: settings.pipeline.shards, queueCapacity: settings.pipeline.queueCapacity,
                resolutions: settings.store.resolutions, flushInterval: settings.store.flushInterval,
                maxPendingBuckets: settings.pipeline.maxPendingBuckets, maxPendingBytes: settings.pipeline.maxPendingBytes,
                flushDelay: flushDelay,
                timeRules: TimeRules(maxFutureSkew: settings.pipeline.maxFutureSkew, retention: settings.store.effectiveRetention),
                retentionInterval: settings.store.retentionInterval,
                liveBufferCapacity: settings.http.streamBuffer, maxLiveSubscribers: settings.http.maxStreams,
                limits: IngestLimits(
                    maxSeries: settings.limits.maxSeries, maxMetricsPerDevice: settings.limits.maxMetricsPerDevice,
                    maxReadingsPerPayload: settings.limits.maxReadingsPerPayload)),
            journal: JournalConfiguration(
                directory: settings.journalDirectory,
                sync: syncPolicy(settings.journal),
                segmentBytes: Int64(settings.journal.segmentSize),
                enabled: journalEnabled),
            store: store, logger: logger)
    }

    private static func syncPolicy(_ journal: Settings.Journal) -> JournalConfiguration.SyncPolicy {
        switch journal.fsync {
        case .never: .never
        case .interval: .interval(journal.fsyncInterval)
        case .always: .always
        }
    }
}
