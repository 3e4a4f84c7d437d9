internal import Foundation
internal import Logging
internal import SensorCore
internal import SensorStore

/// Writes what the shards accumulated to the store, one transaction per flush, together
/// with the journal checkpoint each shard's buckets cover; then deletes the journal
/// segments that checkpoint made redundant.
///
/// A failed write loses nothing: the journal keeps everything after the last committed
/// checkpoint, and the batch is carried and retried alone at every later flush. Nothing
/// new is taken from the shards meanwhile, so while the store cannot be written (disk
/// full, database locked) the workers stop at their pending-bucket limit, the queues fill
/// and ingest waits (HTTP 503, MQTT acknowledgements held back): memory stays within its
/// bounds, and everything is stored once the store works again. A bucket the store cannot
/// take is set aside by the store and never retried. Flushes never overlap: the pipeline
/// calls ``flush(extraCheckpoints:)`` from one sequence at a time (recovery, then the
/// trigger loop, then the last flush once that loop ended); actor isolation alone would
/// not ensure it across the awaits. The ``FlushObserver`` relies on it too.
actor Flusher {
    private let shards: [Shard]
    private let store: any FlushStore
    private let live: LiveFeed
    private let logger: Logger
    /// The batch the store last refused, retried before anything new is taken.
    private var carried: (batch: FlushBatch, oldestAccepted: ContinuousClock.Instant?)?
    /// The pending buckets of the batch being written or carried, per shard: queries
    /// answer them until the store has them (``unflushed(_:)``).
    private var inFlight: [PendingPart] = []
    private let metrics: FlushMetrics
    let health = StoreHealth()

    private let delay: Duration
    /// Told after each committed flush; set once before the pipeline runs.
    private var observer: (any FlushObserver)?
    /// With the `interval` fsync policy: syncs a shard's journal before its seq windows
    /// are committed (``JournalSyncer/startSync(shards:)``). Set once before the pipeline runs.
    private var journalSyncer: JournalSyncer?

    init(shards: [Shard], store: any FlushStore, live: LiveFeed, delay: Duration, logger: Logger) {
        self.shards = shards
        self.live = live
        self.metrics = FlushMetrics(shards: shards.count)
        self.delay = delay
        self.store = store
        self.logger = logger
    }

    func observe(with observer: any FlushObserver) {
        self.observer = observer
    }

    func syncJournals(with syncer: JournalSyncer) {
        self.journalSyncer = syncer
    }

    /// Retries a carried batch, then takes every shard's pending buckets and writes them,
    /// plus `extraCheckpoints` (journal shards replayed at start-up). Returns false when a
    /// write failed (its batch stays carried).
    @discardableResult
    func flush(extraCheckpoints: [Int: Int64] = [:]) async -> Bool {
        // Whatever happens below, the journal gauges say what is on disk after this flush.
        defer { recordJournalBytes() }
        if let (batch, oldestAccepted) = carried {
            guard await write(batch, oldestAccepted: oldestAccepted) else { return false }
            carried = nil
        }
        var batch = FlushBatch()
        var oldestAccepted: ContinuousClock.Instant?
        var shardsWithWindows: [Int] = []
        // Before the buckets are taken: a reading applied after that is not in this flush.
        let completeBefore = completeBefore(WallClock.microseconds())
        // No suspension from the first drain until `inFlight` holds what was drained, so
        // that ``unflushed(_:)`` sees every reading either in a shard or in flight.
        inFlight = []
        let drains = shards.map { $0.aggregator.drain() }
        for (shard, drained) in zip(shards, drains) where !drained.pending.isEmpty {
            inFlight.append(PendingPart(shard: shard.index, position: drained.position, pending: drained.pending))
        }
        for (shard, drained) in zip(shards, drains) {
            // After the drain, so the windows are at or past its checkpoint. A store that
            // judges seqs itself keeps its own windows: nothing to hand it.
            var windows = TakenWindows(pendingSeries: drained.pending.seriesCount)
            if !shard.aggregator.holdsSequenced {
                windows.reserveCapacity(shard.ingress.changedWindowCount)
                shard.ingress.takeChangedWindows { window, number in
                    windows.add(window, number: number, place: drained.pending.place(ofNumber: number))
                }
            }
            metrics.openBuckets[shard.index].record(drained.pending.bucketCount)
            if let accepted = drained.oldestAccepted { oldestAccepted = min(oldestAccepted ?? accepted, accepted) }
            guard !drained.pending.isEmpty || !windows.isEmpty || !drained.marks.isEmpty else { continue }
            if !windows.isEmpty { shardsWithWindows.append(shard.index) }
            drained.pending.addDeltas(to: &batch, windows: windows)
            batch.checkpoints[shard.index] = drained.position
            batch.batchMarks += drained.marks
        }
        batch.checkpoints.merge(extraCheckpoints, uniquingKeysWith: max)
        batch.id = UUID()
        if !batch.isEmpty {
            // A failed sync stops the journal for good, as a failed periodic one does.
            if let journalSyncer, !shardsWithWindows.isEmpty {
                let sync = journalSyncer.startSync(shards: shardsWithWindows)
                batch.seqWindowsDurable = { sync.wait() }
            }
            guard await write(batch, oldestAccepted: oldestAccepted) else { return false }
            // The written buckets are freed first, so that their pages can go back too.
            batch = FlushBatch()
            inFlight = []
            FreedMemory.returnToSystem()
        }
        // Also after an empty flush: windows close as time passes, and silences grow.
        await observer?.flushCommitted(completeBefore: completeBefore)
        return true
    }

    /// The pending buckets of the series `isSelected` picks that the store may not have
    /// yet: those in flight, then each shard's, older first per shard. Between two
    /// suspensions of this actor, so no drain falls between the two (``UnflushedPart``
    /// tells the query which ones its snapshot holds).
    func unflushed(_ isSelected: @Sendable (SeriesKey) -> Bool) -> [any UnflushedPart] {
        var parts: [any UnflushedPart] = inFlight.map { $0.selecting(isSelected) }
        for shard in shards {
            let (pending, position) = shard.aggregator.unflushed(isSelected)
            if !pending.isEmpty { parts.append(PendingPart(shard: shard.index, position: position, pending: pending)) }
        }
        return parts
    }

    /// Each series' reading count and latest event time that the store may not have yet,
    /// taken as ``unflushed(_:)`` takes the buckets, but without them.
    func unflushedTotals() -> [any UnflushedTotals] {
        var parts: [any UnflushedTotals] = inFlight.map { PendingTotals(shard: $0.shard, position: $0.position, pending: $0.pending) }
        for shard in shards {
            let part = shard.aggregator.unflushedTotals(shard: shard.index)
            if part.seriesCount > 0 { parts.append(part) }
        }
        return parts
    }

    /// One store write; on failure the batch is carried.
    private func write(_ batch: FlushBatch, oldestAccepted: ContinuousClock.Instant?) async -> Bool {
        if delay > .zero { try? await Task.sleep(for: delay) }
        let started = ContinuousClock.now
        let outcome: WriteOutcome
        do {
            outcome = try await store.write(batch, report: live.bucketFilter())
        } catch {
            metrics.failures.increment()
            if case .invalidBatch(let problem) = error {
                // Only a bug in the pipeline can build one; retrying would block every flush after it.
                logger.critical("dropped a flush batch the store refused (a bug, please report it)", metadata: ["error": "\(problem)"])
                inFlight = []
                return false
            }
            if health.failed(error.description) {
                logger.error("failed to flush buckets, keeping them for the next flush", metadata: [
                    "error": "\(error)", "buckets": "\(batch.bucketCount)",
                ])
            }
            carried = (batch, oldestAccepted)
            return false
        }
        let committed = ContinuousClock.now
        metrics.duration.recordNanoseconds((committed - started).nanoseconds)
        if let oldestAccepted { metrics.ingestToFlush.recordNanoseconds((committed - oldestAccepted).nanoseconds) }
        metrics.bucketsWritten.increment(by: batch.bucketCount - outcome.setAside.count)
        if outcome.duplicates > 0 { metrics.duplicates.increment(by: outcome.duplicates) }
        live.publish(outcome.written)
        if let failingFor = health.succeeded() {
            logger.notice("flushed again after failures", metadata: ["failing_for": "\(failingFor)"])
        }
        for bucket in outcome.setAside {
            metrics.setAside.increment()
            logger.error("set aside a bucket that cannot be stored; it is kept in the table set_aside_buckets", metadata: [
                "device": "\(bucket.series.device)", "metric": "\(bucket.series.metric)", "resolution": "\(bucket.resolution)",
                "window_start": "\(RFC3339.format(bucket.windowStart))", "reason": "\(bucket.reason)",
            ])
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
    /// `now`, or when the oldest reading some shard has queued or is applying was
    /// accepted, if that is earlier.
    private func completeBefore(_ now: Int64) -> Int64 {
        let clock = ContinuousClock.now
        var complete = now
        for shard in shards {
            if let oldest = shard.queue.oldestUnapplied { complete = min(complete, now - (clock - oldest).microseconds) }
        }
        return complete
    }

    private func recordJournalBytes() {
        for shard in shards { metrics.journalBytes[shard.index].record(shard.ingress.journalBytes) }
    }
}
