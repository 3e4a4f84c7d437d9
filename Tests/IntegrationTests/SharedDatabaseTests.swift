import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization
import TestProcesses
import Testing

/// Three daemons in one MQTT shared subscription group on one broker, writing one
/// PostgreSQL database (CONTRACT §8), against a reference daemon on SQLite that subscribes
/// normally to the same broker and is sent the same HTTP batches: the aggregates of the
/// three must equal the reference's, also when one of them is killed -9 mid-stream and
/// restarted, and when PostgreSQL restarts mid-stream.
/// Serialized: each test runs a broker, PostgreSQL and four daemons under load, too much to
/// run three at once on a busy 2-core machine.
@Suite(.serialized) struct SharedDatabaseTests {
    enum Trouble {
        case none, killOneDaemon, restartDatabase
    }

    static let mqttReadings = 100_000
    static let httpBatches = 120

    @Test func threeDaemonsInOneGroupCountLikeOne() async throws {
        try await check(trouble: .none)
    }

    @Test func aDaemonKilledMidStreamLosesNothingAndCountsNothingTwice() async throws {
        try await check(trouble: .killOneDaemon)
    }

    @Test func aDatabaseRestartMidStreamLosesNothing() async throws {
        try await check(trouble: .restartDatabase)
    }

    private func check(trouble: Trouble) async throws {
        let server = try await onOwnThread { try PostgresServer() }
        defer { server.cleanUp() }
        let broker = try await Broker()
        defer { broker.cleanUp() }
        let reference = try await Daemon(name: "shared-reference", arguments: ["--mqtt-url", broker.url], environment: ["SENSORHUB_MQTT_CLIENT_ID": "reference"])
        defer { reference.cleanUp() }
        let journals = try (0..<3).map { try temporaryFolder("shared-journal-\($0)") }
        defer { for folder in journals { try? FileManager.default.removeItem(at: folder) } }
        func member(_ index: Int) async throws -> Daemon {
            try await Daemon(
                name: "shared-\(index)", arguments: ["--mqtt-url", broker.url],
                environment: [
                    "SENSORHUB_MQTT_CLIENT_ID": "hub-\(index)", "SENSORHUB_MQTT_SHARED_GROUP": "hubs",
                    "SENSORHUB_JOURNAL_DIRECTORY": journals[index].path,
                ],
                database: server.url)
        }
        var members = [try await member(0), try await member(1), try await member(2)]
        defer { for daemon in members { daemon.cleanUp() } }
        let targets = Targets(members.map(\.baseURL))
        for daemon in members + [reference] {
            #expect(await eventually { daemon.output.contains("connected to broker") }, "\(daemon.output)")
        }

        let brokerURL = broker.url
        async let published = run(Binary.sensorhub.path, [
            "simulate", "--mqtt-url", brokerURL, "--devices", "50", "--metrics", "2", "--count", "\(Self.mqttReadings)",
            "--batch", "10", "--qos", "1", "--seq", "--seed", "17",
        ], timeout: .seconds(900))
        let posting = Task { [referenceURL = reference.baseURL] in await Self.postBatches(to: targets, reference: referenceURL) }

        switch trouble {
        case .none:
            break
        case .killOneDaemon:
            #expect(try await eventually { try await storedCount(["--server", reference.baseURL.absoluteString]) >= Self.mqttReadings / 4 })
            try await members[1].kill9()
            targets.set(1, to: nil)
            members[1].cleanUp()
            members[1] = try await member(1)
            targets.set(1, to: members[1].baseURL)
        case .restartDatabase:
            #expect(try await eventually { try await storedCount(["--server", reference.baseURL.absoluteString]) >= Self.mqttReadings / 4 })
            await onOwnThread { server.stop() }
            try await Task.sleep(for: .seconds(2))
            try await onOwnThread { try server.start() }
        }

        let sent = try await published
        #expect(sent.status == 0 && sent.stdout.contains("acknowledged=\(Self.mqttReadings)"), "\(sent.stdout)\(sent.stderr)")
        #expect(await posting.value == Self.httpBatches, "every HTTP batch taken by a member and the reference")
        let expected = Self.mqttReadings + Self.httpBatches * HTTPBatch.readings
        #expect(try await eventually(timeout: .seconds(300), every: .milliseconds(500)) {
            try await storedCount(["--server", reference.baseURL.absoluteString]) == expected
        })
        var stored = 0
        #expect(try await eventually(timeout: .seconds(300), every: .milliseconds(500)) {
            stored = try await storedCount(["--db", server.url])
            return stored >= expected
        }, "stored \(stored) of \(expected); \(members.map { String($0.output.suffix(3_000)) })")
        for daemon in members { #expect(try await daemon.stop() == 0, "\(daemon.output)") }
        #expect(try await storedCount(["--db", server.url]) == expected, "every acknowledged reading once")

        // Per series and minute, every statistic: merged from three daemons' partial
        // buckets in another order, so sums and moments agree to rounding.
        let shared = try await rows(["--db", server.url])
        let single = try await rows(["--server", reference.baseURL.absoluteString])
        #expect(shared.count == single.count && shared.count > 100)
        for (got, want) in zip(shared, single) {
            for key in ["device", "metric", "start", "end", "count", "min", "max", "first", "last", "p50", "p90", "p95", "p99"] {
                #expect("\(got[key] ?? "")" == "\(want[key] ?? "")", "\(key) of \(want)")
            }
            for key in ["sum", "mean", "stddev"] {
                let (a, b) = ((got[key] as? Double) ?? .nan, (want[key] as? Double) ?? .nan)
                #expect(abs(a - b) <= 1e-9 * max(1, abs(a), abs(b)), "\(key) \(a) of \(want)")
            }
        }
        let devices = try await runSensorhub(["devices", "--format", "csv", "--db", server.url])
        let referenceDevices = try await reference.cli(["devices", "--format", "csv"])
        #expect(devices.stdout == referenceDevices.stdout)
    }

    /// Sends the HTTP batches, each to one member in turn (the next one while that is
    /// down) and to the reference; returns how many both took.
    private static func postBatches(to targets: Targets, reference: URL) async -> Int {
        var taken = 0
        for batch in 0..<httpBatches {
            let body = Data(HTTPBatch.body(batch).utf8)
            var sent = false
            for attempt in 0..<1_200 where !sent {
                if let target = targets.url((batch + attempt) % 3), await post(body, to: target) {
                    sent = true
                } else {
                    try? await Task.sleep(for: .milliseconds(100))
                }
            }
            // The reference too may answer 503 on a busy machine; the seqs make a retry safe.
            var referenceTook = false
            for _ in 0..<300 where sent && !referenceTook {
                referenceTook = await post(body, to: reference)
                if !referenceTook { try? await Task.sleep(for: .milliseconds(100)) }
            }
            if referenceTook { taken += 1 }
        }
        return taken
    }

    private static func post(_ body: Data, to url: URL) async -> Bool {
        var request = URLRequest(url: url.appendingPathComponent("v1/readings"))
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = body
        request.timeoutInterval = 30
        guard let (_, response) = try? await URLSession.shared.data(for: request) else { return false }
        return (response as? HTTPURLResponse)?.statusCode == 202
    }

    private func rows(_ source: [String]) async throws -> [[String: Any]] {
        let output = try await runSensorhub(["query", "--window", "1m", "--format", "json"] + source)
        return try #require(JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [[String: Any]], "\(output.stdout)\(output.stderr)")
    }

    private func storedCount(_ source: [String]) async throws -> Int {
        try await storedTotals(source).values.reduce(0) { $0 + $1.count }
    }
}

/// HTTP readings with seq: batch `k` holds seq k·5+1…k·5+5 of each of 8 series, value = seq.
private enum HTTPBatch {
    static let series = 8
    static let perSeries = 5
    static let readings = series * perSeries

    static func body(_ batch: Int) -> String {
        var items: [String] = []
        for series in 0..<series {
            for step in 1...perSeries {
                let seq = batch * perSeries + step
                items.append(#"{"device":"h-\#(series)","metric":"v","value":\#(seq),"ts":\#(1_764_165_600 + seq),"seq":\#(seq)}"#)
            }
        }
        return "[" + items.joined(separator: ",") + "]"
    }
}

/// Where the HTTP batches go: the members' URLs, nil while one is down.
private final class Targets: Sendable {
    private let urls: Mutex<[URL?]>

    init(_ urls: [URL]) {
        self.urls = Mutex(urls)
    }

    func url(_ index: Int) -> URL? { urls.withLock { $0[index] } }
    func set(_ index: Int, to url: URL?) { urls.withLock { $0[index] = url } }
}
