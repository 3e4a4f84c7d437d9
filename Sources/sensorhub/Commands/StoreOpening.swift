import Logging
import PostgresStore
import SensorConfig
import SensorStore

/// Opens the store the settings or `--db` name: a `postgres://` URL is PostgreSQL
/// (CONTRACT §8), anything else a SQLite file.
enum StoreOpening {
    /// Where the settings keep the aggregates, safe to print (no password).
    static func location(of settings: Settings) -> String {
        guard let url = settings.store.url else { return settings.store.path }
        return (try? PostgresLocation(url: url))?.description ?? "a PostgreSQL database (store.url)"
    }

    /// The daemon's store (also `import --db`'s): read-write, migrated, the resolutions registered.
    /// In PostgreSQL the daemon is known by its `mqtt.client_id`, which keys its journal checkpoints.
    static func openForWriting(_ settings: Settings, logger: Logger) async throws -> any SensorStore {
        let store: any SensorStore
        if let url = settings.store.url {
            let location: PostgresLocation
            do {
                location = try PostgresLocation(url: url)
            } catch {
                throw StoreError.cannotOpen(path: "store.url", reason: error.reason)
            }
            store = try await PostgresStore.open(location, instance: settings.mqtt.clientID, mode: .readWrite, logger: logger)
        } else {
            store = try SQLiteStore(path: settings.store.path, mode: .readWrite)
        }
        do {
            try await store.registerResolutions(settings.store.resolutions)
        } catch {
            try? await store.close()
            throw error
        }
        return store
    }

    /// A store for queries (`query`, `devices`, `alerts` with `--db`): read-only.
    static func openForReading(_ db: String) async throws -> any AggregateReader {
        guard PostgresLocation.isURL(db) else { return try SQLiteStore(path: db, mode: .readOnly) }
        let location: PostgresLocation
        do {
            location = try PostgresLocation(url: db)
        } catch {
            throw StoreError.cannotOpen(path: "--db", reason: error.reason)
        }
        return try await PostgresStore.open(location, instance: "", mode: .readOnly, logger: Logger(label: "sensorhub.store"))
    }

    /// The flag values `--db` sets: `store.url` for a URL, else `store.path`.
    static func flags(db: String?) -> [String: String] {
        guard let db else { return [:] }
        return PostgresLocation.isURL(db) ? ["store.url": db] : ["store.path": db]
    }
}
