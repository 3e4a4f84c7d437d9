import ArgumentParser
import Foundation
import SensorStore

/// Where query commands read from: a running daemon (`--server`) or the database file
/// (`--db`, read-only, works while the daemon runs).
struct SourceOptions: ParsableArguments {
    @Option(help: "URL of a running daemon.")
    var server: String = "http://127.0.0.1:8080"

    @Option(help: "Read this database file directly instead of asking a daemon.")
    var db: String?

    @Option(help: "Bearer token for the daemon (default: $SENSORHUB_HTTP_TOKEN).")
    var token: String?

    func validate() throws {
        if db == nil {
            guard let url = URL(string: server), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
                throw ValidationError("invalid --server \"\(server)\": expected a URL like http://127.0.0.1:8080")
            }
        }
    }

    var daemonClient: DaemonClient? {
        guard db == nil, let url = URL(string: server) else { return nil }
        return DaemonClient(baseURL: url, token: token ?? ProcessInfo.processInfo.environment["SENSORHUB_HTTP_TOKEN"])
    }

    /// Opens the database read-only, failing with exit status 1 and the store's reason.
    func openStore() throws -> SensorStore {
        guard let db else { throw CommandFailure.fail("no database given") }
        do {
            return try SensorStore(path: db, mode: .readOnly)
        } catch {
            throw CommandFailure.fail(error.description)
        }
    }
}
