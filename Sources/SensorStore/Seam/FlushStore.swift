public import SensorCore

/// What the pipeline needs of a store: it writes each flush with its journal checkpoint
/// and seq windows in one transaction, starts again from what the last one committed, and
/// applies retention.
public protocol FlushStore: AggregateReader {
    /// Whether this store judges readings with a seq itself, in the flush transaction
    /// (``FlushBatch/sequenced``), because several daemons may count into it: a reading
    /// redelivered to another daemon must still be counted once. A store with one writer
    /// takes them bucketed, judged at ingest.
    var deduplicatesAtFlush: Bool { get }

    /// Records the resolutions the daemon aggregates into; called once at start, before
    /// the first ``write(_:report:)``.
    func registerResolutions(_ resolutions: [Resolution]) async throws(StoreError)

    /// Commits one flush in one transaction: every bucket delta merged into what is
    /// stored, the series totals, the checkpoints, seq windows and batch marks. A bucket
    /// that cannot be stored is set aside, the rest committed. `report` picks the written
    /// buckets to return (for live subscribers).
    func write(_ batch: FlushBatch, report: (@Sendable (SeriesKey, Resolution) -> Bool)?) async throws(StoreError) -> WriteOutcome

    /// The checkpoints, seq windows, series and batch marks (taken at or after
    /// `batchesSince`, µs) of the last committed flush.
    func recoveryState(batchesSince: Int64) async throws(StoreError) -> RecoveryState

    /// Buckets set aside so far (what `/healthz` reports as degraded).
    var setAsideBuckets: Int { get }

    /// Counts the set-aside buckets again, so those an operator removed stop counting.
    func recountSetAsideBuckets() async throws(StoreError)

    /// Deletes the buckets of `resolution` whose window starts before `cutoff` (µs);
    /// returns how many stored units (rows) went.
    func deleteBuckets(of resolution: Resolution, startingBefore cutoff: Int64) async throws(StoreError) -> Int

    /// Forgets batch marks taken before `cutoff` (µs); returns how many.
    func forgetBatches(takenBefore cutoff: Int64) async throws(StoreError) -> Int
}

extension FlushStore {
    /// Commits one flush and reports none of its buckets.
    @discardableResult
    public func write(_ batch: FlushBatch) async throws(StoreError) -> WriteOutcome {
        try await write(batch, report: nil)
    }

    /// The whole recovery state, every batch mark included.
    public func recoveryState() async throws(StoreError) -> RecoveryState {
        try await recoveryState(batchesSince: .min)
    }
}
