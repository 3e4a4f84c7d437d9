internal import GRDB
internal import Foundation
import SensorCore

/// Buckets written before readings were bounded to ±1e100 (schema v3 and older) can hold
/// an infinite statistic (1e308 + 1e308), which JSON cannot carry: every query touching
/// one answered `null` and the CLI could not read the answer. When a database is migrated
/// to v4, such buckets are moved to `set_aside_buckets` once, like any bucket a flush
/// cannot store. No valid bucket comes near the bound used (sums stay below 1e119).
enum LegacyBuckets {
    private static let selectNonFinite = """
        SELECT s.device, s.metric, b.resolution_s, b.start_us,
               b.count, b.sum, b.min, b.max, b.mean, b.m2, b.first_ts_us, b.first, b.last_ts_us, b.last, b.sketch
        FROM buckets AS b JOIN series AS s ON s.id = b.series_id
        WHERE abs(b.sum) > 1e300 OR abs(b.min) > 1e300 OR abs(b.max) > 1e300 OR abs(b.mean) > 1e300
           OR abs(b.m2) > 1e300 OR abs(b.first) > 1e300 OR abs(b.last) > 1e300
        """

    /// Moves every bucket with a non-finite statistic to `set_aside_buckets`; returns how many.
    static func setAsideNonFinite(_ db: Database) throws -> Int {
        let rows = try Row.fetchAll(db, sql: selectNonFinite)
        let insert = try db.makeStatement(sql: """
            INSERT INTO set_aside_buckets (device, metric, resolution_s, start_us, reason, stats, set_aside_us)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """)
        let delete = try db.makeStatement(sql: """
            DELETE FROM buckets WHERE resolution_s = ? AND start_us = ?
              AND series_id = (SELECT id FROM series WHERE device = ? AND metric = ?)
            """)
        for row in rows {
            let device: String = row[0], metric: String = row[1]
            let resolution: Int64 = row[2], start: Int64 = row[3]
            let stats = try BatchWriter.stats(from: row, offset: 4)
            let reason = "stored before values were bounded to ±1e100: \(stats.storageProblem ?? "a statistic is not finite")"
            try insert.execute(arguments: [device, metric, resolution, start, reason, Data(stats.encoded), WallClock.microseconds()])
            try delete.execute(arguments: [resolution, start, device, metric])
        }
        return rows.count
    }
}
