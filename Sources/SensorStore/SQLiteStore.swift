import Foundation
internal import GRDB
public import Logging
public import SensorCore
import Synchronization

/// The SQLite database of SensorHub: aggregated buckets per series and resolution, series
/// totals, and the resolutions the daemon stores.
///
/// One file in WAL mode through a GRDB `DatabasePool`: a single writer connection (the
/// daemon's flusher, via ``write(_:)``) and concurrent reader connections for queries,
/// which never block the writer and see the last committed flush. Every operation runs on
/// GRDB's own dispatch queues, so awaiting it does not block Swift's cooperative pool.
///
/// Read-write mode creates the file, switches it to WAL and applies the migrations of
/// ``SensorSchema`` (a no-op when they are applied). Read-only mode never creates nor
/// migrates, and works while a daemon writes the same file (the CLI's `--db`).
///
/// One read-write store per file at a time: a second read-write open (in any process) is
/// refused while the first is open, because the writer caches series ids and open buckets.
///
/// Thread-safety: all methods may be called concurrently from any task.
public final class SQLiteStore: SensorStore {
    /// How the file is opened.
    public enum Mode: Sendable, Equatable {
        /// Creates the file if missing, enables WAL, migrates; the daemon's mode.
        case readWrite
        /// Reads an existing SensorHub database; never creates, never migrates.
        case readOnly
    }

    public let path: String
    public let mode: Mode

    let pool: DatabasePool
    let logger: Logger
    /// Ids of rows of `series` (``SeriesIDs``): ``write(_:)`` adds those it finds or
    /// inserts (and takes out those its failed transaction inserted), recovery every row.
    let seriesIDs = Mutex(SeriesIDs())
    /// Newest stored chunk per series and resolution, so flushing into an open chunk
    /// again needs no read, within ``chunkCacheBudget`` of memory. Only ``write(_:)`` fills
    /// it, as its transaction writes chunks; it empties it when that transaction fails.
    let chunkCache = Mutex(ChunkCache(budget: SQLiteStore.chunkCacheBudget))

    /// Memory the chunk cache may take: 4 MiB, the open chunks of some 15,000 series at
    /// three resolutions with a reading or two in each window, or of 1,000 busy ones. A
    /// chunk past it is read back, one indexed lookup, which cost no CPU the harness could
    /// tell apart (the 4,000,000-reading run, and 100,000 series of 16 readings each); at
    /// 64 MiB the busy series' chunks took 11 MB and the long run's peak RSS was 10-20 MiB
    /// higher.
    static let chunkCacheBudget = 4 << 20
    /// Held by read-write stores: the caches above are only sound for the single writer.
    let writerLock: WriterLock?
    /// Rows of `set_aside_buckets`: counted at open, raised by each write that sets some aside.
    let setAsideCount = Atomic<Int>(0)
    /// Rows of `outbox`: counted at open, kept by the writes that add and delete them
    /// (this store is their only writer).
    let outboxCount = Atomic<Int>(0)
    /// Migration identifiers this open applied (empty when the schema was current).
    let migrationsAppliedAtOpen: [String]

    /// Opens (read-write: creates and migrates) the database at `path`.
    /// - Throws: ``StoreError/cannotOpen(path:reason:)`` naming the file and why: missing
    ///   (read-only), not SQLite, not a SensorHub database, newer schema, permissions.
    public init(path: String, mode: Mode, logger: Logger = Logger(label: "sensorhub.store")) throws(StoreError) {
        self.path = path
        self.mode = mode
        self.logger = logger

        var configuration = Configuration()
        configuration.label = "SensorStore"
        // Writers wait for another writer's lock; readers of a WAL file almost never wait.
        configuration.busyMode = .timeout(5)
        configuration.maximumReaderCount = 4
        switch mode {
        case .readWrite:
            configuration.prepareDatabase { db in
                // WAL + FULL: every commit is on disk (one fsync of the WAL) before it
                // returns. A flush commits the journal checkpoint its buckets cover, and the
                // journal segments behind that checkpoint are deleted right after: with
                // NORMAL, a power loss could undo the commit after the segments were gone.
                // One fsync per flush (once a second) costs next to nothing.
                try db.execute(sql: "PRAGMA synchronous = FULL")
                // 16 KiB pages, so a chunk row (a few KiB) sits in its leaf instead of a
                // chain of overflow pages that every rewrite reads to free. Takes effect
                // only when the file is new (before WAL mode is set); older files keep theirs.
                try db.execute(sql: "PRAGMA page_size = 16384")
                // The writer's page cache: 512 KiB instead of SQLite's 2,000 KiB. A flush writes
                // chunks in key order and reads few back, and the long run's peak RSS was 5-10
                // MiB lower for the same CPU. Readers keep the default, for queries.
                if !db.configuration.readonly { try db.execute(sql: "PRAGMA cache_size = -512") }
            }
        case .readOnly:
            configuration.readonly = true
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw .cannotOpen(path: path, reason: "no such file; check the path, or start `sensorhub serve --db \(path)` to create it")
            }
            guard !isDirectory.boolValue else {
                throw .cannotOpen(path: path, reason: "it is a directory; point --db at the database file inside it")
            }
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw .cannotOpen(path: path, reason: "permission denied; check the file's owner and mode")
            }
        }

        let lock: WriterLock?
        if mode == .readWrite {
            do {
                lock = try WriterLock(databasePath: path)
            } catch {
                throw .cannotOpen(path: path, reason: error.reason)
            }
        } else {
            lock = nil
        }
        writerLock = lock

        let migrator = SchemaGuard.makeMigrator(logger: logger)
        do {
            let pool = try DatabasePool(path: path, configuration: configuration)
            let readOnly = mode == .readOnly
            let before = try pool.read { db in
                try SchemaGuard.inspect(db, migrator: migrator, readOnly: readOnly)
            }
            var applied: [String] = []
            if !readOnly {
                try migrator.migrate(pool)
                let after = try pool.read { db in try migrator.appliedIdentifiers(db) }
                applied = after.subtracting(before).sorted()

            }
            self.pool = pool
            self.migrationsAppliedAtOpen = applied
            if !readOnly {
                setAsideCount.store(try pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM set_aside_buckets") ?? 0 }, ordering: .relaxed)
                outboxCount.store(try pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox") ?? 0 }, ordering: .relaxed)
            }
        } catch {
            throw StoreError.opening(path, error, readOnly: mode == .readOnly)
        }
        if !migrationsAppliedAtOpen.isEmpty {
            logger.info("migrated database", metadata: [
                "path": "\(path)", "migrations": "\(migrationsAppliedAtOpen.joined(separator: ","))",
            ])
        }
    }

    /// Closes every connection (read-write: the last close checkpoints the WAL into the
    /// file) and releases the writer lock. Later calls fail with
    /// ``StoreError/database(operation:reason:)``.
    ///
    /// Suspends rather than blocks: GRDB's close waits until every reader connection is
    /// handed back, and an async read hands its connection back on a thread of Swift's
    /// concurrency pool. Waiting on one of those threads (two on a 2-core machine) while
    /// reads are in flight deadlocked the test suite, so the wait runs on a thread of its own.
    public func close() async throws(StoreError) {
        let pool = self.pool
        let closed: Result<Void, any Error> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: Result { try pool.close() })
            }
        }
        do {
            try closed.get()
        } catch {
            throw StoreError.wrapping(error, operation: "close")
        }
        writerLock?.release()
    }

    // MARK: - Resolutions

    /// Records the resolutions the daemon aggregates into, replacing the previous set;
    /// queries pick among them. Call at daemon start, before the first ``write(_:)``.
    ///
    /// Buckets of a resolution dropped from the set stay in the file but are no longer read;
    /// a resolution added later has no buckets for the time before it was added.
    public func registerResolutions(_ resolutions: [Resolution]) async throws(StoreError) {
        try requireWritable()
        let wanted = Set(resolutions.map(\.seconds))
        do {
            try await pool.write { db in
                let current = try Set(Int64.fetchAll(db, sql: "SELECT seconds FROM resolutions"))
                guard current != wanted else { return }
                try db.execute(sql: "DELETE FROM resolutions")
                let insert = try db.cachedStatement(sql: "INSERT INTO resolutions (seconds) VALUES (?)")
                for seconds in wanted.sorted() {
                    try insert.execute(arguments: [seconds])
                }
            }
        } catch {
            throw StoreError.wrapping(error, operation: "registering resolutions")
        }
    }

    /// The resolutions recorded by ``registerResolutions(_:)``, ascending.
    public func storedResolutions() async throws(StoreError) -> [Resolution] {
        do {
            return try await pool.read { db in try Self.fetchResolutions(db) }
        } catch {
            throw StoreError.wrapping(error, operation: "reading resolutions")
        }
    }

    static func fetchResolutions(_ db: Database) throws -> [Resolution] {
        try Int64.fetchAll(db, sql: "SELECT seconds FROM resolutions ORDER BY seconds")
            .compactMap { Resolution(seconds: $0) }
    }

    func requireWritable() throws(StoreError) {
        if mode == .readOnly {
            throw .database(operation: "write", reason: "the database \(path) is open read-only; open it read-write to change it")
        }
    }
}
