import ArgumentParser
import Foundation
import SensorStore

/// Where query commands read from: a running daemon (`--server`) or the database file
/// (`--db`, read-only, works while the daemon runs).
struct SourceOptions: ParsableArguments {
    @Option(help: "URL of a running daemon.")
    var server: String = "http://127.0.0.1:8080"

    @Option(help: "Read this database file (or postgres:// URL) directly instead of asking a daemon.")
    var db: String?

    @Option(help: "Bearer token for the daemon (default: $SENSORHUB_TOKEN).")
    var token: String?

    @Option(help: "PEM file of the CA to trust for an https:// --server (default: $SENSORHUB_CACERT, else the system's).")
    var cacert: String?

    func validate() throws {
        if db == nil { _ = try DaemonClient(server: server, token: token, cacert: cacert) }
    }

    var daemonClient: DaemonClient? {
        db == nil ? try? DaemonClient(server: server, token: token, cacert: cacert) : nil
    }

    /// Opens the database read-only, failing with exit status 1 and the store's reason.
    func openStore() async throws -> any AggregateReader {
        guard let db else { throw CommandFailure.fail("no database given") }
        do {
            return try await StoreOpening.openForReading(db)
        } catch {
            throw CommandFailure.fail("\(error)")
        }
    }
}
