internal import Logging
internal import Metrics
internal import SensorCore
internal import SensorStore

/// Writes what the shards accumulated to the store, one transaction per flush.
///
/// A failed write loses nothing: the batch is carried over and written together with the
/// next one (bucket deltas are mergeable, so writing them later gives the same result).
/// Only one flush runs at a time (actor isolation).
actor Flusher {
    private let shards: [Shard]
    private let store: SensorStore
    private let logger: Logger
    private var carried: [FlushBatch] = []
    private var failingSince: ContinuousClock.Instant?
    private let duration = Metrics.Timer(label: "sensorhub_flush_duration_seconds", preferredDisplayUnit: .seconds)
    private let bucketsWritten = Counter(label: "sensorhub_buckets_written_total")
    private let failures = Counter(label: "sensorhub_flush_failures_total")

    init(shards: [Shard], store: SensorStore, logger: Logger) {
        self.shards = shards
        self.store = store
        self.logger = logger
    }

    /// Takes every shard's pending buckets and writes them with whatever an earlier failed
    /// flush carried. Returns false when the write failed (the data stays carried).
    @discardableResult
    func flush() async -> Bool {
        for shard in shards {
            let pending = shard.aggregator.drain()
            if !pending.isEmpty {
                carried.append(pending.flushBatch(resolutions: shard.aggregator.resolutions))
            }
        }
        guard !carried.isEmpty else { return true }
        let batch = carried.count == 1 ? carried[0] : FlushBatch(
            buckets: carried.flatMap(\.buckets), series: carried.flatMap(\.series))
        let started = ContinuousClock.now
        do {
            try await store.write(batch)
        } catch {
            failures.increment()
            if case .invalidBatch(let problem) = error {
                // Only a bug in the pipeline can build one; retrying would block every flush after it.
                logger.critical("dropped a flush batch the store refused", metadata: ["error": "\(problem)"])
                carried = []
                return false
            }
            if failingSince == nil {
                failingSince = started
                logger.error("failed to flush buckets, keeping them for the next flush", metadata: [
                    "error": "\(error)", "buckets": "\(batch.buckets.count)",
                ])
            }
            carried = [batch]
            return false
        }
        let elapsed = ContinuousClock.now - started
        duration.recordNanoseconds(elapsed.nanoseconds)
        bucketsWritten.increment(by: batch.buckets.count)
        if let since = failingSince {
            logger.notice("flushed again after failures", metadata: ["failing_for": "\(ContinuousClock.now - since)"])
            failingSince = nil
        }
        carried = []
        return true
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
