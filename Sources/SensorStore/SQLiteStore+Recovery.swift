internal import GRDB
internal import Foundation
internal import SensorCore

extension SQLiteStore {
    /// Reads the checkpoints, seq windows, series and batch ledger (rows taken at or after
    /// `batchesSince`, µs) of the last committed flush.
    /// - Throws: ``StoreError/database(operation:reason:)``, also for a seq window that
    ///   does not decode (a damaged file or one written by a newer build).
    ///
    /// A read-write store also learns every series id here (``SeriesIDs``).
    public func recoveryState(batchesSince: Int64) async throws(StoreError) -> RecoveryState {
        do {
            let (state, ids) = try await pool.read { db in
                var state = RecoveryState(checkpoints: try Self.fetchCheckpoints(db))
                var ids: [(key: SeriesKey, value: Int64)] = []
                let rows = try Row.fetchCursor(db, sql: "SELECT device, metric, seq_window, last_seen_us, id FROM series")
                while let row = try rows.next() {
                    let series = SeriesKey(device: row[0], metric: row[1])
                    ids.append((series, row[4]))
                    guard let bytes = row[2] as Data? else {
                        state.add(series, window: nil)
                        continue
                    }
                    // Windows written before v2 of their encoding lack the latest event
                    // time; the series' last-seen time stands in for it.
                    guard let window = SeqWindow(encoded: [UInt8](bytes), latestTimestamp: row[3]) else {
                        throw StoreError.database(operation: "recover", reason: "the seq window of \(series) does not decode (damaged, or written by a newer SensorHub)")
                    }
                    state.add(series, window: window)
                }
                let ledger = try Row.fetchCursor(db, sql: "SELECT stream, ordinal, parts, taken_us FROM batch_ledger WHERE taken_us >= ?", arguments: [batchesSince])
                while let row = try ledger.next() {
                    let stream: String = row[0]
                    guard let identity = BatchIdentity(stream: stream, ordinal: UInt64(bitPattern: row[1])),
                          let parts = LedgerParts.parse(row[2])
                    else {
                        throw StoreError.database(operation: "recover", reason: "the batch_ledger row \(stream)/\(row[1] as Int64) does not decode (damaged, or written by a newer SensorHub)")
                    }
                    for part in parts { state.takenBatches.append((BatchMark(identity: identity, part: part), row[3])) }
                }
                return (state, ids)
            }
            // Sound only for the file's one writer (see ``SeriesIDs``).
            if writerLock != nil { seriesIDs.withLock { $0.addEveryRow(ids) } }
            return state
        } catch {
            throw StoreError.wrapping(error, operation: "recover")
        }
    }

    /// The journal position each shard's committed buckets cover.
    static func fetchCheckpoints(_ db: Database) throws -> [Int: Int64] {
        var checkpoints: [Int: Int64] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT shard, position FROM journal_checkpoints") {
            checkpoints[row[0]] = row[1]
        }
        return checkpoints
    }
}
