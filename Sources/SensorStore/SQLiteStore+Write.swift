public import SensorCore

extension SQLiteStore {
    /// Commits one flush in ONE transaction: each bucket delta is merged
    /// (`BucketStats.merge`) into its stored bucket, or stored when there is none; each
    /// series delta adds its readings and keeps the maximum last-seen time. All or nothing,
    /// with one exception: a bucket that cannot be stored (stats that are not finite, a
    /// stored chunk that does not decode) is set aside, kept whole in the
    /// `set_aside_buckets` table, and the rest is stored; it is never retried.
    ///
    /// Runs on the pool's single writer connection (serialised with other writes), never on
    /// the cooperative pool, through cached prepared statements; series ids and the newest
    /// stored chunk per series and resolution are cached in memory once committed.
    ///
    /// Cost: one UPSERT per chunk touched (``ChunkLayout``: a series' 32 windows of one
    /// resolution), whatever the number of its buckets the flush changed; a SELECT before
    /// it only for a chunk this store did not write last (late readings, after a restart).
    ///
    /// - Parameter report: which written buckets to return as now stored (for live
    ///   subscribers); nil returns none and collects nothing.
    /// - Throws: ``StoreError/invalidBatch(_:)`` for a window start not aligned to its
    ///   resolution or negative readings; ``StoreError/database(operation:reason:)`` when
    ///   the database itself cannot be written (nothing of the batch is then stored).
    @discardableResult
    public func write(
        _ batch: FlushBatch, report: (@Sendable (SeriesKey, Resolution) -> Bool)?
    ) async throws(StoreError) -> WriteOutcome {
        try requireWritable()
        guard !batch.isEmpty else { return WriteOutcome(written: [], setAside: []) }
        try batch.validate()
        guard batch.sequenced.isEmpty else {
            throw .invalidBatch("\(batch.sequenced.count) readings with a seq left to the store; SQLite takes them judged at ingest")
        }
        let outcome: WriteOutcome
        do {
            outcome = try await pool.writeWithoutTransaction { db in
                var writer = BatchWriter(db: db, store: self, report: report)
                do {
                    try db.inTransaction {
                        try writer.write(batch)
                        return .commit
                    }
                } catch {
                    // Before the next write on this connection: it would take the ids of
                    // the rows rolled back for rows that exist.
                    if let first = writer.firstInsertedID { self.seriesIDs.withLock { $0.forgetIDs(from: first) } }
                    throw error
                }
                return WriteOutcome(written: writer.written, setAside: writer.setAside)
            }
        } catch {
            // The chunk cache holds chunks as the failed transaction wrote them.
            chunkCache.withLock { $0.removeAll() }
            throw StoreError.wrapping(error, operation: "write")
        }
        chunkCache.withLock { $0.makeRoom() }
        if !outcome.setAside.isEmpty {
            setAsideCount.add(outcome.setAside.count, ordering: .relaxed)
        }
        return outcome
    }

    /// Never: the daemon that holds the file's writer lock is its only writer, and judges
    /// readings with a seq at ingest.
    public var deduplicatesAtFlush: Bool { false }

    /// Buckets in `set_aside_buckets`: counted at open and by ``recountSetAsideBuckets()``,
    /// plus those this store added since.
    public var setAsideBuckets: Int { setAsideCount.load(ordering: .relaxed) }

    /// Counts `set_aside_buckets` again, so rows an operator deleted stop counting.
    public func recountSetAsideBuckets() async throws(StoreError) {
        do {
            let count = try await pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM set_aside_buckets") ?? 0 }
            setAsideCount.store(count, ordering: .relaxed)
        } catch {
            throw StoreError.wrapping(error, operation: "counting set-aside buckets")
        }
    }
}
