internal import GRDB

/// Plain SQL on a database file outside of any ``SQLiteStore``: lets the tests build
/// foreign SQLite files and inspect what the store wrote, without depending on GRDB.
enum RawSQLite {
    /// Runs `sql` (one or more statements) on the file at `path`, creating it if missing.
    static func execute(path: String, sql: String) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in try db.execute(sql: sql) }
        try queue.close()
    }

    /// The single integer `sql` selects from the file at `path`, read-only.
    static func integer(path: String, sql: String) throws -> Int64? {
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        let value = try queue.read { db in try Int64.fetchOne(db, sql: sql) }
        try queue.close()
        return value
    }
}
