internal import PostgresNIO
public import SensorCore
public import SensorStore

extension PostgresStore {
    /// Attempts of a flush transaction that a deadlock or serialization failure with
    /// another daemon aborted, before the failure is the caller's (the flusher retries
    /// the batch later anyway; the journal keeps its readings).
    static let flushAttempts = 5

    /// Commits one flush in one transaction (see ``PostgresBatchWriter``): all or nothing,
    /// but for buckets that cannot be stored, which are set aside. Retried at once when
    /// another daemon's transaction deadlocked with it.
    @discardableResult
    public func write(
        _ batch: FlushBatch, report: (@Sendable (SeriesKey, Resolution) -> Bool)?
    ) async throws(StoreError) -> WriteOutcome {
        try requireWritable()
        guard !batch.isEmpty else { return WriteOutcome(written: [], setAside: []) }
        try batch.validate()
        var attempt = 1
        while true {
            do {
                // A large flush (the replay of a long backlog at start) may take its time;
                // a dead connection is still given up within seconds of a small one's.
                let deadline = Self.transactionDeadline + .milliseconds(batch.bucketCount + batch.sequenced.count)
                let committed = try await transaction(deadline: deadline) { connection in
                    var writer = PostgresBatchWriter(connection: connection, store: self, report: report)
                    try await writer.write(batch)
                    return (writer.seriesIDs, WriteOutcome(written: writer.written, setAside: writer.setAside, duplicates: writer.duplicates))
                }
                // Only now, after the commit, may the id cache learn the new series.
                seriesIDs.withLock { $0.merge(committed.0) { _, new in new } }
                if !committed.1.setAside.isEmpty {
                    setAsideCount.add(committed.1.setAside.count, ordering: .relaxed)
                }
                return committed.1
            } catch where attempt < Self.flushAttempts && PostgresFailure.isRetryable(error) {
                logger.info("flush transaction aborted by a concurrent one; running it again", metadata: ["attempt": "\(attempt)"])
                attempt += 1
            } catch {
                throw StoreError.postgres(error, operation: "write")
            }
        }
    }

    /// Always: several daemons may write this database.
    public var deduplicatesAtFlush: Bool { true }

    public var setAsideBuckets: Int { setAsideCount.load(ordering: .relaxed) }

    public func recountSetAsideBuckets() async throws(StoreError) {
        do {
            let count = try await client.query("SELECT count(*) FROM set_aside_buckets", logger: logger).decodeFirst(Int64.self) ?? 0
            setAsideCount.store(Int(count), ordering: .relaxed)
        } catch {
            throw StoreError.postgres(error, operation: "counting set-aside buckets")
        }
    }
}
