#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import ArgumentParser
import Foundation
import SensorCore

/// `sensorhub tail`: follows the daemon's live bucket updates (`GET /v1/stream`) and prints
/// each updated row as it comes, until Ctrl-C (exit 0). A daemon unreachable at start is
/// exit 1; one that goes away later (a restart) is retried with ``Backoff`` (0.5 s doubling
/// to 5 s, jittered), with one line on stderr per outage rather than per attempt. Rows updated while disconnected are not replayed: the stream is live
/// only, `query` reads what is stored.
struct TailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Print live aggregate updates of the series matching --device and --metric until Ctrl-C.")

    /// How rows are printed; without `--format`, a table on a terminal and JSON lines otherwise.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        /// The `query` table's columns, a header once, then one line per row.
        case table
        /// One JSON row per line, flushed per line.
        case json
    }

    @Option(help: "Device name or glob.") var device: String = "*"
    @Option(help: "Metric name or glob.") var metric: String = "*"
    @Option(help: "Stored resolutions to follow, comma separated (e.g. 10s or 10s,1m; default: all).") var resolution: String?
    @Option(help: "table or json (default: table on a terminal, json otherwise).") var format: Format?
    @Option(help: "URL of a running daemon.") var server: String = "http://127.0.0.1:8080"
    @Option(help: "Bearer token for the daemon (default: $SENSORHUB_TOKEN).") var token: String?
    @Option(help: "PEM file of the CA to trust for an https:// --server (default: $SENSORHUB_CACERT, else the system's).") var cacert: String?

    func validate() throws {
        _ = try DaemonClient(server: server, token: token, cacert: cacert)
        for (name, value) in [("--device", device), ("--metric", metric)] where value.isEmpty {
            throw ValidationError("\(name) must not be empty (use * for all)")
        }
        if let resolution {
            for item in resolution.split(separator: ",", omittingEmptySubsequences: false) {
                guard (try? Resolution(parsing: String(item))) != nil else {
                    throw ValidationError("invalid --resolution \"\(resolution)\": expected stored resolutions like 10s or 10s,1m")
                }
            }
        }
    }

    func run() async throws {
        let stream = try DaemonClient(server: server, token: token, cacert: cacert).liveStream(device: device, metric: metric, resolution: resolution)
        let format = format ?? (isatty(STDOUT_FILENO) != 0 ? .table : .json)
        // A reader that goes away must surface as EPIPE on write (quiet exit), not kill us.
        signal(SIGPIPE, SIG_IGN)
        Self.exitOnInterrupt()
        try await Self.follow(stream, writer: LiveRowWriter(format: format))
    }

    /// Connects, prints, and reconnects after each interruption; ends only by throwing the
    /// exit status of a refusal (400 → 64, 401 → 1, …) or of a failed write.
    private static func follow(_ stream: LiveStream, writer: LiveRowWriter) async throws {
        var writer = writer
        let backoff = Backoff(minimum: .milliseconds(500), maximum: .seconds(5))
        var connectedOnce = false
        /// Failed attempts since the last connection; the first one is reported.
        var failures = 0
        let decoder = JSONDecoder()
        while true {
            var reason = "the daemon closed the stream"
            do {
                try await stream.run { message in
                    switch message {
                    case .connected:
                        connectedOnce = true
                        failures = 0
                    case .event(let event):
                        try show(event, with: &writer, decoder: decoder)
                    }
                }
            } catch let interruption as LiveStream.Interruption {
                reason = interruption.reason
            }
            // Unreachable at start is a failed command (exit 1), as for `query`; once
            // following, an outage is waited out (the daemon restarting).
            guard connectedOnce else { throw CommandFailure.fail("cannot follow \(stream.server): \(reason)") }
            if failures == 0 { CommandFailure.printError("reconnecting to \(stream.server): \(reason)") }
            try await Task.sleep(for: backoff.delay(afterFailures: failures))
            failures += 1
        }
    }

    /// Rows go to stdout; a lag notice (the daemon dropped updates for this slow reader)
    /// goes to stderr; other events are ignored.
    private static func show(_ event: ServerSentEvent, with writer: inout LiveRowWriter, decoder: JSONDecoder) throws {
        switch event.event {
        case "message":
            do {
                try writer.write(decoder.decode(AggregateRecord.self, from: Data(event.data.utf8)))
            } catch is DecodingError {
                CommandFailure.printError("skipped an unreadable row: \(event.data.prefix(200))")
            }
        case "lagged":
            let dropped = (try? decoder.decode(LagNotice.self, from: Data(event.data.utf8)))?.dropped
            CommandFailure.printError("lagged: \(dropped.map(String.init) ?? "some") updates dropped")
        default:
            break
        }
    }

    private struct LagNotice: Decodable {
        let dropped: Int64
    }

    /// Ctrl-C is the normal end: exit 0 at once. Rows are written with `write(2)` as they
    /// come, so no buffer holds anything back. SIGINT is unblocked in this thread in case the
    /// parent started us with it blocked (Foundation's `Process` passes on its mask).
    private static func exitOnInterrupt() {
        signal(SIGINT) { _ in _exit(0) }
        var interrupt = sigset_t()
        sigemptyset(&interrupt)
        sigaddset(&interrupt, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &interrupt, nil)
    }
}
