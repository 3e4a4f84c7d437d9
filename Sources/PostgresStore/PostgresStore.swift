import Foundation
public import Logging
internal import PostgresNIO
public import SensorCore
public import SensorStore
import SensorSchema
import Synchronization

/// SensorHub's aggregates in PostgreSQL: the same tables and chunk bytes as ``SQLiteStore``,
/// for one daemon or several sharing the database (CONTRACT §8).
///
/// Every flush is one transaction that first locks the rows of the series it touches
/// (`SELECT … ORDER BY id FOR UPDATE`, so two daemons never wait on each other in a
/// cycle), then merges its bucket deltas into the stored chunks it reads back under those
/// locks. Partial buckets of several daemons therefore combine exactly, sketches too, and
/// no cache of stored chunks is kept: another daemon may have changed any of them.
/// Journal checkpoints are kept per daemon (``instance``) and shard.
///
/// Thread-safety: all methods may be called concurrently from any task.
public final class PostgresStore: SensorStore {
    /// How the database is opened.
    public enum Mode: Sendable, Equatable {
        /// Migrates the schema; the daemon's mode.
        case readWrite
        /// Reads a database a daemon created; never migrates or writes.
        case readOnly
    }

    public let location: PostgresLocation
    /// The daemon this store writes for: its journal checkpoints are its own.
    public let instance: String
    public let mode: Mode
    let client: PostgresClient
    let logger: Logger
    private let runner: Task<Void, Never>
    /// Series ids known to be committed (ids never change once given).
    let seriesIDs = Mutex<[SeriesKey: Int64]>([:])
    let setAsideCount = Atomic<Int>(0)
    /// Rows of `outbox`, counted at open and kept by this store's own writes.
    let outboxCount = Atomic<Int>(0)

    /// Advisory lock key held while migrating ('SHub'), so daemons starting together
    /// migrate one after the other.
    static let migrationLock: Int64 = Int64(SensorSchema.applicationID)

    private init(location: PostgresLocation, instance: String, mode: Mode, logger: Logger) {
        self.location = location
        self.instance = instance
        self.mode = mode
        self.logger = logger
        let client = PostgresClient(configuration: location.clientConfiguration, backgroundLogger: logger)
        self.client = client
        runner = Task { await client.run() }
    }

    /// Connects, checks the schema and (read-write) migrates it.
    /// - Throws: ``StoreError/cannotOpen(path:reason:)`` naming the database (never the
    ///   password) and why: unreachable, refused login, not a SensorHub database, newer schema.
    public static func open(
        _ location: PostgresLocation, instance: String, mode: Mode, logger: Logger = Logger(label: "sensorhub.store")
    ) async throws(StoreError) -> PostgresStore {
        let store = PostgresStore(location: location, instance: instance, mode: mode, logger: logger)
        do {
            try await store.prepare()
        } catch {
            store.runner.cancel()
            let reason = switch error {
            case .database(_, let reason): reason
            default: error.description
            }
            throw .cannotOpen(path: location.description, reason: reason)
        }
        return store
    }

    private func prepare() async throws(StoreError) {
        do {
            let probe = try await PostgresConnection.connect(configuration: location.connectionConfiguration(), id: 0, logger: logger)
            try await probe.close()
            let connected = try await firstAnswer(within: .seconds(30)) { [client] in
                try await client.query("SELECT to_regclass('sensorhub_migrations') IS NOT NULL").decodeFirst(Bool.self)
            }
            switch mode {
            case .readOnly:
                guard connected == true else {
                    throw StoreError.database(operation: "open", reason: "not a SensorHub database (no sensorhub_migrations table); start `sensorhub serve --db` on it once")
                }
                try await checkSchemaVersion()
            case .readWrite:
                try await migrate()
            }
            setAsideCount.store(try await count("set_aside_buckets"), ordering: .relaxed)
            outboxCount.store(try await count("outbox"), ordering: .relaxed)
        } catch {
            throw StoreError.postgres(error, operation: "open")
        }
    }

    /// Runs `body`, failing when it has not answered within `limit` (an unreachable server
    /// otherwise keeps a query waiting for a connection).
    private func firstAnswer<T: Sendable>(within limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let answer = try await group.next(), let answer else {
                throw StoreError.database(operation: "open", reason: "no answer from \(location) within \(limit); check that the server runs and the URL is right")
            }
            return answer
        }
    }

    private func count(_ table: String) async throws -> Int {
        Int(try await client.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)")).decodeFirst(Int64.self) ?? 0)
    }

    private func checkSchemaVersion() async throws {
        let newest = try await client.query("SELECT max(version) FROM sensorhub_migrations").decodeFirst(Int32?.self) ?? nil
        let known = SensorSchema.postgresMigrations.last?.version ?? 0
        if let newest, Int(newest) > known {
            throw StoreError.database(operation: "open", reason: "the schema is version \(newest), newer than this SensorHub knows (\(known)); upgrade sensorhub")
        }
    }

    /// Applies the migrations not yet applied, in one transaction under the advisory lock.
    private func migrate() async throws {
        try await transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: self.logger)
            try await connection.query("""
                CREATE TABLE IF NOT EXISTS sensorhub_migrations (
                    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_us BIGINT NOT NULL)
                """, logger: self.logger)
            var applied: Set<Int> = []
            for try await version in try await connection.query("SELECT version FROM sensorhub_migrations", logger: self.logger).decode(Int32.self) {
                applied.insert(Int(version))
            }
            let known = SensorSchema.postgresMigrations.last?.version ?? 0
            if let newest = applied.max(), newest > known {
                throw StoreError.database(operation: "open", reason: "the schema is version \(newest), newer than this SensorHub knows (\(known)); upgrade sensorhub")
            }
            for migration in SensorSchema.postgresMigrations where !applied.contains(migration.version) {
                for statement in Self.statements(of: migration.sql) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                }
                let version = Int32(migration.version)
                try await connection.query("""
                    INSERT INTO sensorhub_migrations (version, name, applied_us) VALUES (\(version), \(migration.name), \(WallClock.microseconds()))
                    """, logger: self.logger)
                self.logger.info("applied PostgreSQL migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
            }
        }
    }

    /// The statements of a migration file: `--` comments dropped, split at the `;` that
    /// ends a line (the extended protocol takes one statement at a time).
    static func statements(of sql: String) -> [String] {
        var statements: [String] = []
        var current = ""
        for line in sql.split(separator: "\n", omittingEmptySubsequences: false) {
            let code = line.range(of: "--").map { line[..<$0.lowerBound] } ?? line
            let trimmed = code.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            current += trimmed + "\n"
            if trimmed.hasSuffix(";") {
                statements.append(String(current.dropLast(2)))
                current = ""
            }
        }
        return statements
    }

    /// How long a transaction may take before its connection is given up, unless the
    /// caller allows more (a flush: see ``write(_:report:)``).
    static let transactionDeadline: Duration = .seconds(30)

    /// Runs `body` in a transaction on one connection of the pool, and gives up on it when
    /// it has not finished within `deadline`: the connection is closed (so the transaction
    /// can no longer commit) before it goes back to the pool, and the caller gets an error.
    ///
    /// Why: a server that stops while a statement is running (a restart, a partition) can
    /// leave postgres-nio waiting for rows that never come, and closing the connection
    /// does not always wake it (seen in `SharedDatabaseTests`); the flusher would wait
    /// with it, for ever. The abandoned task then stays suspended; a flush it might still
    /// have been committing is recognised by its id when the flusher retries it
    /// (``PostgresBatchWriter``).
    ///
    /// With `progress`, the deadline counts from the last progress `body` reported instead
    /// of from the start: a long transaction that keeps hearing from the server (a
    /// streamed query) runs as long as it needs; one that hears nothing is given up.
    func transaction<Value: Sendable>(
        deadline: Duration = PostgresStore.transactionDeadline, progress: TransactionProgress? = nil,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Value
    ) async throws -> Value {
        try await client.withConnection { connection in
            let first = FirstOutcome<Value>()
            Task {
                do {
                    first.offer(.success(try await connection.withTransaction(logger: self.logger) { try await body($0) }))
                } catch {
                    first.offer(.failure(error))
                }
            }
            let watchdog = Task {
                var wake = ContinuousClock.now + deadline
                while true {
                    try await Task.sleep(until: wake)
                    guard let progress, progress.last + deadline > .now else { break }
                    wake = progress.last + deadline
                }
                first.offer(.failure(TransactionGivenUp()))
            }
            defer { watchdog.cancel() }
            let outcome = await first.value()
            if case .failure(let error) = outcome, error is TransactionGivenUp {
                // Closed here, not in the watchdog: the pool must not lend it out again.
                self.logger.warning("gave up on a PostgreSQL transaction without an answer; closing its connection", metadata: ["deadline": "\(deadline)"])
                try? await connection.close()
                throw StoreError.database(operation: "transaction", reason: "no answer from \(self.location) for \(deadline); its connection was closed")
            }
            return try outcome.get()
        }
    }

    private struct TransactionGivenUp: Error {}

    /// What a long transaction reports as it goes, so that its watchdog
    /// (``transaction(deadline:progress:_:)``) counts silence, not length.
    final class TransactionProgress: Sendable {
        private let origin = ContinuousClock.now
        /// Nanoseconds from `origin` to the last report.
        private let reported = Atomic<Int64>(0)

        func mark() {
            reported.store((ContinuousClock.now - origin).nanoseconds, ordering: .relaxed)
        }

        var last: ContinuousClock.Instant { origin + .nanoseconds(reported.load(ordering: .relaxed)) }
    }

    /// Closes every connection. Later calls fail.
    public func close() async throws(StoreError) {
        runner.cancel()
        await runner.value
    }

    func requireWritable() throws(StoreError) {
        if mode == .readOnly {
            throw .database(operation: "write", reason: "the database \(location) is open read-only; open it read-write to change it")
        }
    }

    // MARK: - Resolutions

    public func registerResolutions(_ resolutions: [Resolution]) async throws(StoreError) {
        try requireWritable()
        let wanted = Set(resolutions.map(\.seconds))
        do {
            try await transaction { connection in
                try await connection.query("LOCK TABLE resolutions IN EXCLUSIVE MODE", logger: self.logger)
                var current: Set<Int64> = []
                for try await seconds in try await connection.query("SELECT seconds FROM resolutions", logger: self.logger).decode(Int64.self) {
                    current.insert(seconds)
                }
                guard current != wanted else { return }
                try await connection.query("DELETE FROM resolutions", logger: self.logger)
                let seconds = wanted.sorted()
                try await connection.query("INSERT INTO resolutions (seconds) SELECT unnest(\(seconds)::bigint[])", logger: self.logger)
            }
        } catch {
            throw StoreError.postgres(error, operation: "registering resolutions")
        }
    }
}

extension PostgresRowSequence {
    /// The first column of the first row, nil when there is no row.
    func decodeFirst<T: PostgresDecodable & Sendable>(_ type: T.Type) async throws -> T? {
        for try await value in decode(T.self) { return value }
        return nil
    }
}
