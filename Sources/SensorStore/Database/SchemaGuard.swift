internal import GRDB
internal import Logging
internal import SensorSchema

/// Decides whether a database file is one this build may use, and migrates it.
///
/// A SensorHub database carries `PRAGMA application_id` = ``SensorSchema/applicationID``
/// (set by migration v1). Read-write mode accepts that, or an empty file (a fresh
/// database); anything else is refused rather than written into. Both modes refuse a
/// database migrated by a newer build (unknown migration identifiers); read-only mode also
/// refuses one whose migrations are not all applied, since it must never migrate.
enum SchemaGuard {
    /// Tables every SensorHub database has: `series`, `resolutions`, and its buckets in
    /// `buckets` (schema v1–v4) or `chunks` (v5 on).
    static func requiredTables(applied: Set<String>) -> [String] {
        ["series", applied.contains("v5_chunks") ? "chunks" : "buckets", "resolutions"]
    }

    /// Versions of the compiled-in migrations, in registration order (must be 1, 2, 3, …).
    static var versions: [Int] { SensorSchema.migrations.map(\.version) }

    /// GRDB migration identifiers, `v<N>_<name>`, in order.
    static var identifiers: [String] { SensorSchema.migrations.map { "v\($0.version)_\($0.name)" } }

    /// GRDB's migrator with every migration of ``SensorSchema``, identified `v<N>_<name>`.
    /// Migrations v4 and v5 also move data in Swift (``LegacyBuckets``), in the same
    /// transaction as their SQL.
    static func makeMigrator(logger: Logger) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for (identifier, migration) in zip(identifiers, SensorSchema.migrations) {
            let sql = migration.sql
            let version = migration.version
            migrator.registerMigration(identifier) { db in
                try db.execute(sql: sql)
                switch version {
                case 4: try LegacyBuckets.setAsideNonFinite(db, logger: logger)
                case 5: try LegacyBuckets.moveToChunks(db, logger: logger)
                default: break
                }
            }
        }
        return migrator
    }

    /// Reasons a file is refused, with the fix; thrown from ``inspect(_:migrator:readOnly:)``.
    struct Refusal: Error {
        let reason: String
    }

    /// Checks the open database; returns the migration identifiers already applied.
    /// - Throws: ``Refusal`` for a foreign, newer, older (read-only) or damaged database;
    ///   `DatabaseError` when SQLite cannot read the file at all.
    static func inspect(_ db: Database, migrator: DatabaseMigrator, readOnly: Bool) throws -> Set<String> {
        let applicationID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
        let tables = try String.fetchAll(
            db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        let applied = try migrator.appliedIdentifiers(db)

        if applicationID != SensorSchema.applicationID {
            if !readOnly && applicationID == 0 && tables.isEmpty {
                return applied // a fresh, empty database: ours to create
            }
            if tables.isEmpty {
                throw Refusal(reason: "not a SensorHub database (it is empty); point --db at the file `sensorhub serve` writes")
            }
            let shown = tables.prefix(5).joined(separator: ", ") + (tables.count > 5 ? ", …" : "")
            throw Refusal(reason: "not a SensorHub database (it holds other tables: \(shown)); point --db at the file `sensorhub serve` writes")
        }
        if try migrator.hasBeenSuperseded(db) {
            let unknown = applied.subtracting(identifiers).sorted().joined(separator: ", ")
            throw Refusal(reason: "written by a newer SensorHub (schema migrations \(unknown) are unknown to this build); upgrade sensorhub")
        }
        if readOnly, !(try migrator.hasCompletedMigrations(db)) {
            throw Refusal(reason: "its schema is older than this build expects; start `sensorhub serve` on it once to upgrade it")
        }
        if !applied.isEmpty || readOnly {
            let missing = requiredTables(applied: applied).filter { !tables.contains($0) }
            if !missing.isEmpty {
                throw Refusal(reason: "damaged SensorHub database (missing tables: \(missing.joined(separator: ", "))); restore it from a backup")
            }
        }
        return applied
    }
}
