internal import Logging
internal import SensorCore
internal import SensorStore

/// Writes what the shards accumulated to the store, one transaction per flush, together
/// with the journal checkpoint each shard's buckets cover; then deletes the journal
/// segments that checkpoint made redundant.
///
/// A failed write loses nothing: the batch is carried over and written together with the
/// next one (bucket deltas are mergeable, so writing them later gives the same result),
/// and the journal keeps everything after the last committed checkpoint meanwhile.
/// Only one flush runs at a time (actor isolation).
actor Flusher {
    private let shards: [Shard]
    private let store: SensorStore
    private let live: LiveFeed
    private let logger: Logger
    private var carried: FlushBatch?
    /// Acceptance time of the oldest reading in `carried`.
    private var carriedOldest: ContinuousClock.Instant?
    private var failingSince: ContinuousClock.Instant?
    private let metrics: FlushMetrics

    private let delay: Duration

    init(shards: [Shard], store: SensorStore, live: LiveFeed, delay: Duration, logger: Logger) {
        self.shards = shards
        self.live = live
        self.metrics = FlushMetrics(shards: shards.count)
        self.delay = delay
        self.store = store
        self.logger = logger
    }

    /// Takes every shard's pending buckets and writes them with whatever an earlier failed
    /// flush carried, plus `extraCheckpoints` (journal shards replayed at start-up).
    /// Returns false when the write failed (the data stays carried).
    @discardableResult
    func flush(extraCheckpoints: [Int: Int64] = [:]) async -> Bool {
        var batch = carried ?? FlushBatch()
        var oldestAccepted = carriedOldest
        carried = nil
        carriedOldest = nil
        // Whatever happens below, the journal gauges say what is on disk after this flush.
        defer { recordJournalBytes() }
        for shard in shards {
            let drained = shard.aggregator.drain()
            metrics.openBuckets[shard.index].record(drained.pending.bucketCount)
            if let accepted = drained.oldestAccepted { oldestAccepted = min(oldestAccepted ?? accepted, accepted) }
            guard !drained.pending.isEmpty || !drained.windows.isEmpty else { continue }
            var part = drained.pending.flushBatch(resolutions: shard.aggregator.resolutions)
            part.checkpoints = [shard.index: drained.position]
            part.seqWindows = drained.windows
            batch.append(part)
        }
        batch.checkpoints.merge(extraCheckpoints, uniquingKeysWith: max)
        guard !batch.isEmpty else { return true }
        if delay > .zero { try? await Task.sleep(for: delay) }
        let started = ContinuousClock.now
        let written: [Bucket]
        do {
            written = try await store.write(batch, report: live.bucketFilter())
        } catch {
            metrics.failures.increment()
            if case .invalidBatch(let problem) = error {
                // Only a bug in the pipeline can build one; retrying would block every flush after it.
                logger.critical("dropped a flush batch the store refused (a bug, please report it)", metadata: ["error": "\(problem)"])
                return false
            }
            if failingSince == nil {
                failingSince = started
                logger.error("failed to flush buckets, keeping them for the next flush", metadata: [
                    "error": "\(error)", "buckets": "\(batch.buckets.count)",
                ])
            }
            carried = batch
            carriedOldest = oldestAccepted
            return false
        }
        let committed = ContinuousClock.now
        metrics.duration.recordNanoseconds((committed - started).nanoseconds)
        if let oldestAccepted { metrics.ingestToFlush.recordNanoseconds((committed - oldestAccepted).nanoseconds) }
        metrics.bucketsWritten.increment(by: batch.buckets.count)
        live.publish(written)
        if let since = failingSince {
            logger.notice("flushed again after failures", metadata: ["failing_for": "\(ContinuousClock.now - since)"])
            failingSince = nil
        }
        for shard in shards {
            guard let checkpoint = batch.checkpoints[shard.index] else { continue }
            for failure in shard.ingress.removeSegments(coveredBy: checkpoint) {
                logger.warning("cannot delete a journal segment behind the checkpoint", metadata: ["error": "\(failure)"])
            }
        }
        return true
    }
}

extension Flusher {
    private func recordJournalBytes() {
        for shard in shards { metrics.journalBytes[shard.index].record(shard.ingress.journalBytes) }
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
