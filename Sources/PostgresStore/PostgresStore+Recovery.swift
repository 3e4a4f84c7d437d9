import NIOCore
internal import PostgresNIO
public import SensorCore
public import SensorStore

extension PostgresStore {
    /// This daemon's journal checkpoints, every series with its shared seq window, and
    /// the batch ledger rows taken at or after `batchesSince` (µs).
    public func recoveryState(batchesSince: Int64) async throws(StoreError) -> RecoveryState {
        do {
            return try await transaction { connection in
                try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: self.logger)
                var state = RecoveryState()
                let checkpoints = try await connection.query(
                    "SELECT shard, position FROM journal_checkpoints WHERE instance = \(self.instance)", logger: self.logger)
                for try await (shard, position) in checkpoints.decode((Int32, Int64).self) {
                    state.checkpoints[Int(shard)] = position
                }
                let series = try await connection.query("SELECT device, metric, seq_window, last_seen_us FROM series", logger: self.logger)
                for try await (device, metric, window, lastSeen) in series.decode((String, String, ByteBuffer?, Int64).self) {
                    let key = SeriesKey(device: device, metric: metric)
                    guard let window else {
                        state.add(key, window: nil)
                        continue
                    }
                    guard let decoded = SeqWindow(encoded: Array(window.readableBytesView), latestTimestamp: lastSeen) else {
                        throw StoreError.database(operation: "recover", reason: "the seq window of \(key) does not decode (damaged, or written by a newer SensorHub)")
                    }
                    state.add(key, window: decoded)
                }
                let ledger = try await connection.query(
                    "SELECT stream, ordinal, parts, taken_us FROM batch_ledger WHERE taken_us >= \(batchesSince)", logger: self.logger)
                for try await (stream, ordinal, text, takenAt) in ledger.decode((String, Int64, String, Int64).self) {
                    guard let identity = BatchIdentity(stream: stream, ordinal: UInt64(bitPattern: ordinal)),
                          let parts = LedgerParts.parse(text)
                    else {
                        throw StoreError.database(operation: "recover", reason: "the batch_ledger row \(stream)/\(ordinal) does not decode (damaged, or written by a newer SensorHub)")
                    }
                    for part in parts { state.takenBatches.append((BatchMark(identity: identity, part: part), takenAt)) }
                }
                return state
            }
        } catch {
            throw StoreError.postgres(error, operation: "recover")
        }
    }

    // MARK: - Retention

    /// Deletes the chunks of `resolution` that end at or before `cutoff` (µs), a hundred
    /// series per statement, so a flush waiting for one of those rows never waits long.
    /// Returns the number of chunks deleted.
    public func deleteBuckets(of resolution: Resolution, startingBefore cutoff: Int64) async throws(StoreError) -> Int {
        try requireWritable()
        do {
            var ids: [Int64] = []
            for try await id in try await client.query("SELECT id FROM series ORDER BY id", logger: logger).decode(Int64.self) {
                ids.append(id)
            }
            let before = cutoff - ChunkLayout.span(resolution) + 1
            var deleted = 0
            for batch in ids.chunked(100) {
                let rows = try await client.query("""
                    DELETE FROM chunks WHERE series_id = ANY(\(batch)::bigint[]) AND resolution_s = \(resolution.seconds) AND chunk_start_us < \(before)
                    RETURNING 1
                    """, logger: logger)
                for try await _ in rows { deleted += 1 }
            }
            return deleted
        } catch {
            throw StoreError.postgres(error, operation: "retention")
        }
    }

    /// Deletes the `batch_ledger` rows of batches last taken before `cutoff` (µs); returns how many.
    public func forgetBatches(takenBefore cutoff: Int64) async throws(StoreError) -> Int {
        try requireWritable()
        do {
            var deleted = 0
            for try await _ in try await client.query("DELETE FROM batch_ledger WHERE taken_us < \(cutoff) RETURNING 1", logger: logger) {
                deleted += 1
            }
            return deleted
        } catch {
            throw StoreError.postgres(error, operation: "retention")
        }
    }
}
