internal import GRDB
internal import Foundation
internal import Logging
import SensorCore

/// What the migrations to schema v4 and v5 do to the `buckets` table of older databases
/// (one row per bucket), in Swift, inside their migration's transaction.
enum LegacyBuckets {
    private static let columns = "count, sum, min, max, mean, m2, first_ts_us, first, last_ts_us, last, sketch"

    /// v4: buckets stored before readings were bounded to ±1e100 can hold an infinite
    /// statistic (1e308 + 1e308), which JSON cannot carry: every query touching one
    /// answered `null` and the CLI could not read the answer. They are moved to
    /// `set_aside_buckets`, like any bucket a flush cannot store. No valid bucket comes
    /// near the bound used (sums stay below 1e119).
    static func setAsideNonFinite(_ db: Database, logger: Logger) throws {
        let rows = try Row.fetchAll(db, sql: """
            SELECT s.device, s.metric, b.resolution_s, b.start_us, \(columns.split(separator: ",").map { "b." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", "))
            FROM buckets AS b JOIN series AS s ON s.id = b.series_id
            WHERE abs(b.sum) > 1e300 OR abs(b.min) > 1e300 OR abs(b.max) > 1e300 OR abs(b.mean) > 1e300
               OR abs(b.m2) > 1e300 OR abs(b.first) > 1e300 OR abs(b.last) > 1e300
            """)
        let delete = try db.makeStatement(sql: """
            DELETE FROM buckets WHERE resolution_s = ? AND start_us = ?
              AND series_id = (SELECT id FROM series WHERE device = ? AND metric = ?)
            """)
        for row in rows {
            let device: String = row[0], metric: String = row[1]
            let resolution: Int64 = row[2], start: Int64 = row[3]
            let stats = try stats(from: row, offset: 4)
            try setAside(db, device: device, metric: metric, resolution: resolution, start: start, stats: stats,
                         reason: "stored before values were bounded to ±1e100: \(stats.storageProblem ?? "a statistic is not finite")")
            try delete.execute(arguments: [resolution, start, device, metric])
        }
        if !rows.isEmpty {
            logger.warning("set aside buckets with a statistic that is not finite, stored before values were bounded", metadata: ["buckets": "\(rows.count)"])
        }
    }

    /// v5: packs the rows of `buckets` into `chunks` (``ChunkLayout``), one chunk at a
    /// time in primary-key order (constant memory), then drops `buckets`. A row that does
    /// not read back (a damaged file) is set aside rather than lost.
    static func moveToChunks(_ db: Database, logger: Logger) throws {
        let started = ContinuousClock.now
        let cursor = try Row.fetchCursor(db, sql: "SELECT series_id, resolution_s, start_us, \(columns) FROM buckets ORDER BY series_id, resolution_s, start_us")
        let insert = try db.makeStatement(sql: "INSERT INTO chunks (series_id, resolution_s, chunk_start_us, data) VALUES (?, ?, ?, ?)")
        var current: (series: Int64, resolution: Resolution, chunkStart: Int64)?
        var bytes: [UInt8] = []
        var sketchBytes: [UInt8] = []
        var buckets = 0, chunks = 0
        func finish() throws {
            guard let current, bytes.count > 1 else { return }
            try insert.execute(arguments: [current.series, current.resolution.seconds, current.chunkStart, Data(bytes)])
            chunks += 1
        }
        while let row = try cursor.next() {
            let series: Int64 = row[0], seconds: Int64 = row[1], start: Int64 = row[2]
            guard let resolution = Resolution(seconds: seconds), resolution.windowStart(containing: start) == start,
                  let stats = try? stats(from: row, offset: 3), stats.storageProblem == nil
            else {
                try setAsideUnreadable(db, row: row)
                continue
            }
            let chunkStart = ChunkLayout.chunkStart(of: start, resolution)
            if current.map({ $0.series != series || $0.resolution != resolution || $0.chunkStart != chunkStart }) ?? true {
                try finish()
                current = (series, resolution, chunkStart)
                bytes = [ChunkCodec.version]
            }
            ChunkCodec.append(index: ChunkLayout.index(of: start, inChunkAt: chunkStart, resolution), windowStart: start, stats: stats,
                              to: &bytes, sketchBytes: &sketchBytes, decimal: true)
            buckets += 1
        }
        try finish()
        try db.execute(sql: "DROP TABLE buckets")
        if buckets > 0 {
            logger.info("packed the stored buckets into chunks", metadata: [
                "buckets": "\(buckets)", "chunks": "\(chunks)", "duration": "\(ContinuousClock.now - started)",
            ])
        }
    }

    /// A row of `buckets` that does not read back, kept in `set_aside_buckets` as far as it goes.
    private static func setAsideUnreadable(_ db: Database, row: Row) throws {
        let series: Int64 = row[0]
        let names = try Row.fetchOne(db, sql: "SELECT device, metric FROM series WHERE id = ?", arguments: [series])
        let stats = (try? stats(from: row, offset: 3)) ?? BucketStats()
        try setAside(db, device: names?[0] ?? "series \(series)", metric: names?[1] ?? "?", resolution: row[1], start: row[2],
                     stats: stats, reason: "a stored bucket that does not read back (a damaged file) met the move to chunks")
    }

    private static func setAside(_ db: Database, device: String, metric: String, resolution: Int64, start: Int64, stats: BucketStats, reason: String) throws {
        try db.execute(sql: """
            INSERT INTO set_aside_buckets (device, metric, resolution_s, start_us, reason, stats, set_aside_us)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """, arguments: [device, metric, resolution, start, reason, Data(stats.encoded), WallClock.microseconds()])
    }

    /// Rebuilds stats from the 11 columns of a `buckets` row starting at `offset` (count …
    /// last, sketch). Throws instead of trapping on a NULL or mistyped value.
    private static func stats(from row: Row, offset: Int) throws -> BucketStats {
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
