import Foundation
import GRDB
import Logging
import SensorCore
import SensorStore

/// A read-write ``SQLiteStore`` on a fresh database in its own temporary directory, with
/// the daemon's default resolutions registered; ``remove()`` closes it and deletes the files.
struct ScratchStore {
    /// The daemon's default resolutions (10s, 1m, 1h).
    static let resolutions: [Resolution] = [10, 60, 3_600].compactMap { Resolution(seconds: $0) }
    static let quietLogger = Logger(label: "sensorhub.benchmarks", factory: { _ in SwiftLogNoOpLogHandler() })

    let directory: URL
    let store: SQLiteStore
    /// A connection of our own to the same file, only to ask SQLite about its WAL.
    let probe: DatabaseQueue

    static func open() async throws -> ScratchStore {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("sensorhub-bench-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: directory.appendingPathComponent("bench.db").path, mode: .readWrite,
                                    logger: quietLogger)
        try await store.registerResolutions(resolutions)
        let probe = try DatabaseQueue(path: directory.appendingPathComponent("bench.db").path)
        return ScratchStore(directory: directory, store: store, probe: probe)
    }

    /// Readings the store counted over all series (the `devices()` totals).
    func storedReadings() async throws -> Int64 {
        try await store.devices().reduce(0) { $0 + $1.readings }
    }

    /// Size of the database file in bytes (0 when missing).
    func databaseBytes() -> Int {
        let attributes = try? FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent("bench.db").path)
        return (attributes?[.size] as? NSNumber)?.intValue ?? 0
    }

    /// Pages (WAL frames) the last write transaction appended to the write-ahead log.
    ///
    /// SQLite starts the WAL over at the first write after a complete checkpoint, and the
    /// store's commits checkpoint automatically once the WAL passes 1000 pages, so right after
    /// a flush the WAL holds just that flush's frames: `wal_checkpoint(PASSIVE)` reports them
    /// (its second column) and has nothing left to copy. Call it between writes, never timed.
    func walFramesOfLastWrite() -> Int {
        (try? probe.writeWithoutTransaction { db in
            try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(PASSIVE)")?[1] as Int?
        }) ?? -1
    }

    func remove() async {
        try? probe.close()
        try? await store.close()
        try? FileManager.default.removeItem(at: directory)
    }
}
