internal import GRDB
public import SensorCore

extension SQLiteStore {
    /// Deletes the buckets of `resolution` that start before `cutoff` (µs), in whole chunks
    /// (``ChunkLayout``): a chunk goes once all of its windows are before the cutoff, so a
    /// bucket may outlive its retention by up to one chunk's span. A few series per
    /// transaction, so that a flush waiting for the writer never waits long: each
    /// transaction deletes primary-key ranges of `seriesPerBatch` series. Returns the
    /// number of chunks deleted.
    public func deleteBuckets(of resolution: Resolution, startingBefore cutoff: Int64) async throws(StoreError) -> Int {
        try await deleteBuckets(of: resolution, startingBefore: cutoff, seriesPerBatch: 100)
    }

    func deleteBuckets(of resolution: Resolution, startingBefore cutoff: Int64, seriesPerBatch: Int) async throws(StoreError) -> Int {
        try requireWritable()
        do {
            var deleted = 0
            // The series a page at a time, after the last id of the page before: a list of
            // every id was 1.7 MB with 100,000 series, at the peak of that run in heaptrack.
            var last: Int64 = .min
            while true {
                let chunk = try await pool.read { [last] db in
                    try Int64.fetchAll(db, sql: "SELECT id FROM series WHERE id > ? ORDER BY id LIMIT ?", arguments: [last, seriesPerBatch])
                }
                guard let next = chunk.last else { break }
                let first = last == .min
                last = next
                deleted += try await pool.write { db in
                    // Inside the writer, so no flush sees a cached bucket this run deletes;
                    // once is enough (a flush that misses the cache merges from the table).
                    // Chunks that end at or before the cutoff.
                    let before = cutoff - ChunkLayout.span(resolution) + 1
                    if first { self.chunkCache.withLock { $0.forget(resolution: resolution.seconds, before: before) } }
                    let delete = try db.cachedStatement(sql: "DELETE FROM chunks WHERE series_id = ? AND resolution_s = ? AND chunk_start_us < ?")
                    var changes = 0
                    for id in chunk {
                        try delete.execute(arguments: [id, resolution.seconds, before])
                        changes += db.changesCount
                    }
                    return changes
                }
                await Task.yield()
            }
            return deleted
        } catch {
            throw StoreError.wrapping(error, operation: "retention")
        }
    }
}

extension SQLiteStore {
    /// Deletes the `batch_ledger` rows of batches last taken before `cutoff` (µs); returns
    /// how many.
    public func forgetBatches(takenBefore cutoff: Int64) async throws(StoreError) -> Int {
        try requireWritable()
        do {
            return try await pool.write { db in
                try db.execute(sql: "DELETE FROM batch_ledger WHERE taken_us < ?", arguments: [cutoff])
                return db.changesCount
            }
        } catch {
            throw StoreError.wrapping(error, operation: "retention")
        }
    }
}
