/// The SQL migrations of the SensorHub database, compiled into the binary from
/// `schema/migrations/v<N>_<name>.sql` (SwiftPM `embedInCode`).
///
/// SensorStore applies them in order at open with GRDB's migrator, each once, identified
/// as `v<N>_<name>`. To change the schema, add a file with the next version and a line
/// below; never edit a migration that has shipped.
public enum SensorSchema {
    /// Every migration, ascending by version.
    public static let migrations: [(version: Int, name: String, sql: String)] = [
        (1, "initial", String(decoding: PackageResources.v1_initial_sql, as: UTF8.self)),
        (2, "journal", String(decoding: PackageResources.v2_journal_sql, as: UTF8.self)),
        (3, "sketch", String(decoding: PackageResources.v3_sketch_sql, as: UTF8.self)),
        (4, "set_aside", String(decoding: PackageResources.v4_set_aside_sql, as: UTF8.self)),
        (5, "chunks", String(decoding: PackageResources.v5_chunks_sql, as: UTF8.self)),
        (6, "batch_ledger", String(decoding: PackageResources.v6_batch_ledger_sql, as: UTF8.self)),
        (7, "rules", String(decoding: PackageResources.v7_rules_sql, as: UTF8.self)),
        (8, "decimal_records", String(decoding: PackageResources.v8_decimal_records_sql, as: UTF8.self)),
    ]

    /// The PostgreSQL migrations (`schema/postgres/pg<N>_<name>.sql`), ascending; applied by
    /// PostgresStore, each once, recorded in `sensorhub_migrations`.
    public static let postgresMigrations: [(version: Int, name: String, sql: String)] = [
        (1, "initial", String(decoding: PackageResources.pg1_initial_sql, as: UTF8.self)),
    ]

    /// The value of `PRAGMA application_id` in every SensorHub database ('SHub').
    public static let applicationID: Int32 = 0x5348_7562
}
