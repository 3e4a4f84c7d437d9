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

        let insertBucket = BoundStatement(try db.cachedStatement(sql: """
            INSERT INTO buckets (count, sum, min, max, mean, m2, first_ts_us, first, last_ts_us, last, sketch,
                                 series_id, resolution_s, start_us)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT DO NOTHING
            """), in: db)
        let selectBucket = try db.cachedStatement(sql: """
            SELECT count, sum, min, max, mean, m2, first_ts_us, first, last_ts_us, last, sketch
            FROM buckets WHERE series_id = ? AND resolution_s = ? AND start_us = ?
            """)
        let updateBucket = BoundStatement(try db.cachedStatement(sql: """
            UPDATE buckets SET count = ?, sum = ?, min = ?, max = ?, mean = ?, m2 = ?,
                               first_ts_us = ?, first = ?, last_ts_us = ?, last = ?, sketch = ?
            WHERE series_id = ? AND resolution_s = ? AND start_us = ?
            """), in: db)
        for delta in batch.buckets where delta.stats.count > 0 {
            let id = try seriesID(delta.series, lastSeen: delta.stats.lastTimestamp)
            let slot = BucketCache.Slot(seriesID: id, resolution: delta.resolution.seconds)
            let start = delta.windowStart
            let cached = touched.stored(slot, start: start)
                ?? store.bucketCache.withLock { $0.stored(slot, start: start) }
            var stats: BucketStats
            if let cached {
                stats = cached.merging(delta.stats)
                try run(updateBucket, stats, id, slot.resolution, start)
                guard db.changesCount == 1 else {
                    throw StoreError.database(operation: "write", reason: "bucket \(delta.series) \(delta.resolution) at \(start) µs vanished from the database while this store was writing it; reopen the store")
                }
            } else {
                stats = delta.stats
                try run(insertBucket, stats, id, slot.resolution, start)
                if db.changesCount == 0 {
                    guard let row = try Row.fetchOne(selectBucket, arguments: [id, slot.resolution, start]) else {
                        throw StoreError.database(operation: "write", reason: "bucket \(delta.series) \(delta.resolution) at \(start) µs is neither insertable nor readable")
                    }
                    stats = try Self.stats(from: row)
                    stats.merge(delta.stats)
                    try run(updateBucket, stats, id, slot.resolution, start)
                }
            }
            touched.record(slot, start: start, stats: stats)
            if let report, report(delta.series, delta.resolution) {
                written.append(Bucket(series: delta.series, resolution: delta.resolution, windowStart: start, stats: stats))
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
