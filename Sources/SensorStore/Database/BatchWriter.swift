internal import GRDB
internal import Foundation
import SensorCore

/// Applies one ``FlushBatch`` inside the writer's open transaction, with cached prepared
/// statements only (no SQL text is built per row).
///
/// Series ids come from the committed id cache, else one indexed lookup, else an insert.
/// A bucket delta costs one statement in the steady state:
/// - the bucket is the cached open one (``BucketCache``): merge in memory, one UPDATE;
/// - otherwise INSERT … ON CONFLICT DO NOTHING, which stores a new window;
/// - only when that finds an existing row (a late reading, or the first flush after a
///   restart): SELECT it, `BucketStats.merge`, UPDATE.
///
/// A bucket that cannot be stored (stats that are not finite, a stored row that does not
/// read back, a value SQLite refuses) is set aside: written whole to `set_aside_buckets`
/// and left out, while the rest of the flush is stored. SQLite undoes only the failed
/// statement, so the transaction goes on. Errors of the database itself (disk full, I/O,
/// locked) still fail the whole write.
///
/// What this transaction created or stored is collected in `createdIDs` / `touched` and
/// reaches the store's caches only after the commit, so a rollback leaves them exact.
struct BatchWriter {
    let db: Database
    /// Owner of the committed caches (read here under their locks, never written).
    let store: SensorStore
    private(set) var createdIDs: [SeriesKey: Int64] = [:]
    private(set) var touched = BucketCache()
    /// The written buckets, as stored, that `report` asked for.
    private(set) var written: [Bucket] = []
    /// The buckets left out, with why.
    private(set) var setAside: [SetAsideBucket] = []
    /// One encoding buffer for every bucket's sketch.
    private var sketchBytes: [UInt8] = []
    let report: (@Sendable (SeriesKey, Resolution) -> Bool)?

    init(db: Database, store: SensorStore, report: (@Sendable (SeriesKey, Resolution) -> Bool)?) {
        self.db = db
        self.store = store
        self.report = report
    }

    mutating func write(_ batch: FlushBatch) throws {
        let updateSeries = BoundStatement(try db.cachedStatement(sql: """
            UPDATE series SET readings = readings + ?, last_seen_us = max(last_seen_us, ?) WHERE id = ?
            """), in: db)
        for delta in batch.series {
            let id = try seriesID(delta.series, lastSeen: delta.lastSeen)
            updateSeries.bind(1, delta.readings)
            updateSeries.bind(2, delta.lastSeen)
            updateSeries.bind(3, id)
            try updateSeries.run()
        }

        let statements = Statements(
            insert: BoundStatement(try db.cachedStatement(sql: """
                INSERT INTO buckets (count, sum, min, max, mean, m2, first_ts_us, first, last_ts_us, last, sketch,
                                     series_id, resolution_s, start_us)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT DO NOTHING
                """), in: db),
            select: try db.cachedStatement(sql: """
                SELECT count, sum, min, max, mean, m2, first_ts_us, first, last_ts_us, last, sketch
                FROM buckets WHERE series_id = ? AND resolution_s = ? AND start_us = ?
                """),
            update: BoundStatement(try db.cachedStatement(sql: """
                UPDATE buckets SET count = ?, sum = ?, min = ?, max = ?, mean = ?, m2 = ?,
                                   first_ts_us = ?, first = ?, last_ts_us = ?, last = ?, sketch = ?
                WHERE series_id = ? AND resolution_s = ? AND start_us = ?
                """), in: db))
        for delta in batch.buckets where delta.stats.count > 0 {
            do {
                try write(delta, with: statements)
            } catch let error where Self.isBucketProblem(error) {
                try setAside(delta, because: Self.describe(error))
            }
        }

        if !batch.seqWindows.isEmpty {
            let updateWindow = try db.cachedStatement(sql: "UPDATE series SET seq_window = ? WHERE id = ?")
            for (series, window) in batch.seqWindows {
                let id = try seriesID(series, lastSeen: 0)
                try updateWindow.execute(arguments: [Data(window.encoded), id])
            }
        }
        if !batch.checkpoints.isEmpty {
            let upsert = try db.cachedStatement(sql: """
                INSERT INTO journal_checkpoints (shard, position) VALUES (?, ?)
                ON CONFLICT (shard) DO UPDATE SET position = max(position, excluded.position)
                """)
            for (shard, position) in batch.checkpoints {
                try upsert.execute(arguments: [shard, position])
            }
        }
    }

    /// The three bucket statements, prepared once per write.
    private struct Statements {
        let insert: BoundStatement
        let select: Statement
        let update: BoundStatement
    }

    /// Merges one delta into its stored bucket, or inserts it.
    private mutating func write(_ delta: Bucket, with statements: Statements) throws {
        if let problem = delta.stats.storageProblem { throw BucketProblem(description: problem) }
        let id = try seriesID(delta.series, lastSeen: delta.stats.lastTimestamp)
        let slot = BucketCache.Slot(seriesID: id, resolution: delta.resolution.seconds)
        let start = delta.windowStart
        let cached = touched.stored(slot, start: start)
            ?? store.bucketCache.withLock { $0.stored(slot, start: start) }
        var stats: BucketStats
        if let cached {
            stats = try Self.merged(cached, delta.stats)
            try run(statements.update, stats, id, slot.resolution, start)
            guard db.changesCount == 1 else {
                throw StoreError.database(operation: "write", reason: "bucket \(delta.series) \(delta.resolution) at \(start) µs vanished from the database while this store was writing it; reopen the store")
            }
        } else {
            stats = delta.stats
            try run(statements.insert, stats, id, slot.resolution, start)
            if db.changesCount == 0 {
                guard let row = try Row.fetchOne(statements.select, arguments: [id, slot.resolution, start]) else {
                    throw BucketProblem(description: "it is neither insertable nor readable")
                }
                stats = try Self.merged(try Self.stats(from: row), delta.stats)
                try run(statements.update, stats, id, slot.resolution, start)
            }
        }
        touched.record(slot, start: start, stats: stats)
        if let report, report(delta.series, delta.resolution) {
            written.append(Bucket(series: delta.series, resolution: delta.resolution, windowStart: start, stats: stats))
        }
    }

    /// `stored` with `delta` merged in, checked to be storable.
    private static func merged(_ stored: BucketStats, _ delta: BucketStats) throws -> BucketStats {
        let merged = stored.merging(delta)
        if let problem = merged.storageProblem { throw BucketProblem(description: "merged with the stored bucket, \(problem)") }
        return merged
    }

    /// Keeps a delta that cannot be stored in `set_aside_buckets`, whole.
    private mutating func setAside(_ delta: Bucket, because reason: String) throws {
        let insert = try db.cachedStatement(sql: """
            INSERT INTO set_aside_buckets (device, metric, resolution_s, start_us, reason, stats, set_aside_us)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """)
        try insert.execute(arguments: [
            delta.series.device, delta.series.metric, delta.resolution.seconds, delta.windowStart, reason,
            Data(delta.stats.encoded), WallClock.microseconds(),
        ])
        setAside.append(SetAsideBucket(series: delta.series, resolution: delta.resolution, windowStart: delta.windowStart, reason: reason))
    }

    /// Whether `error` is about one bucket (its values or its stored row) rather than about
    /// the database as a whole.
    private static func isBucketProblem(_ error: any Error) -> Bool {
        switch error {
        case is BucketProblem, is RowDecodingError:
            return true
        case let error as DatabaseError:
            return [.SQLITE_CONSTRAINT, .SQLITE_TOOBIG, .SQLITE_MISMATCH, .SQLITE_RANGE].contains(error.resultCode)
        default:
            return false
        }
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError { return "SQLite refused it: \(error.message ?? "error \(error.extendedResultCode.rawValue)")" }
        return "\(error)"
    }

    /// The id of `series`, inserting the row (0 readings, `lastSeen`) when it is new.
    private mutating func seriesID(_ series: SeriesKey, lastSeen: Int64) throws -> Int64 {
        if let id = createdIDs[series] ?? store.seriesIDs.withLock({ $0[series] }) { return id }
        let select = try db.cachedStatement(sql: "SELECT id FROM series WHERE device = ? AND metric = ?")
        let id: Int64
        if let existing = try Int64.fetchOne(select, arguments: [series.device, series.metric]) {
            id = existing
        } else {
            let insert = try db.cachedStatement(sql: """
                INSERT INTO series (device, metric, readings, last_seen_us) VALUES (?, ?, 0, ?)
                """)
            try insert.execute(arguments: [series.device, series.metric, lastSeen])
            id = db.lastInsertedRowID
        }
        createdIDs[series] = id
        return id
    }

    /// Binds the stats columns (count … last, sketch: 1...11) then the key (12...14), in
    /// the order of the INSERT and UPDATE statements above, and runs the statement.
    @inline(__always)
    private mutating func run(_ statement: BoundStatement, _ stats: BucketStats, _ seriesID: Int64, _ resolution: Int64, _ start: Int64) throws {
        statement.bind(stats, sketchBytes: &sketchBytes)
        statement.bind(12, seriesID)
        statement.bind(13, resolution)
        statement.bind(14, start)
        try statement.run()
    }

    /// Rebuilds stats from 11 columns starting at `offset` (count … last, sketch, as stored).
    /// Throws instead of trapping on a NULL or mistyped value in a damaged file.
    static func stats(from row: Row, offset: Int = 0) throws -> BucketStats {
        BucketStats(
            count: try row.decode(Int64.self, atIndex: offset),
            sum: try row.decode(Double.self, atIndex: offset + 1),
            min: try row.decode(Double.self, atIndex: offset + 2),
            max: try row.decode(Double.self, atIndex: offset + 3),
            mean: try row.decode(Double.self, atIndex: offset + 4),
            m2: try row.decode(Double.self, atIndex: offset + 5),
            firstTimestamp: try row.decode(Int64.self, atIndex: offset + 6),
            first: try row.decode(Double.self, atIndex: offset + 7),
            lastTimestamp: try row.decode(Int64.self, atIndex: offset + 8),
            last: try row.decode(Double.self, atIndex: offset + 9),
            sketch: (row[offset + 10] as Data?).flatMap { $0.withUnsafeBytes { QuantileSketch(encoded: $0) } } ?? QuantileSketch())
    }
}

/// Why one bucket cannot be stored.
private struct BucketProblem: Error, CustomStringConvertible {
    let description: String
}
