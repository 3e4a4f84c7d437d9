import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization
import Testing

/// Readings stored per series, read from the database file.
private func storedTotals(database: String) async throws -> [String: (count: Int, sum: Double)] {
    try await storedTotals(["--db", database])
}

private func total(_ totals: [String: (count: Int, sum: Double)], prefix: String) -> Int {
    totals.filter { $0.key.hasPrefix(prefix) }.values.reduce(0) { $0 + $1.count }
}

/// Posts numbered batches with seq numbers to whichever daemon is current, retrying a
/// batch until one daemon answered 202 for it: the client side of "acknowledged means
/// kept". A batch whose answer was lost to a crash is sent again; seq makes that safe.
private final class SeqLoader: Sendable {
    static let series = 8
    static let perBatch = 40
    private let target = Mutex<URL?>(nil)

    func point(at url: URL?) { target.withLock { $0 = url } }

    /// Batch `k` holds seq k*perBatch/series+1… of each series: every series gets perBatch/series
    /// readings per batch, value = seq.
    static func body(batch: Int) -> String {
        let per = perBatch / series
        var items: [String] = []
        for series in 0..<series {
            for step in 0..<per {
                let seq = batch * per + step + 1
                items.append(#"{"device":"h-\#(series)","metric":"v","value":\#(seq),"ts":\#(1_764_165_600 + seq),"seq":\#(seq)}"#)
            }
        }
        return "[" + items.joined(separator: ",") + "]"
    }

    /// Sends batches 0..<count, each until acknowledged, giving up at `deadline`; returns
    /// how many were acknowledged.
    func run(batches count: Int, deadline: ContinuousClock.Instant = .now + .seconds(300)) async -> Int {
        var batch = 0
        while batch < count, ContinuousClock.now < deadline {
            guard let url = target.withLock({ $0 }) else {
                try? await Task.sleep(for: .milliseconds(10))
                continue
            }
            var request = URLRequest(url: url.appendingPathComponent("v1/readings"))
            request.httpMethod = "POST"
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(Self.body(batch: batch).utf8)
            request.timeoutInterval = 5
            if let (_, response) = try? await URLSession.shared.data(for: request),
               (response as? HTTPURLResponse)?.statusCode == 202 {
                batch += 1
            } else {
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
        return batch
    }
}

/// Everything held in the journal only: flushes every hour, one shard (one segment to
/// damage).
private let journalOnly = ["SENSORHUB_STORE_FLUSH_INTERVAL": "1h", "SENSORHUB_PIPELINE_SHARDS": "1"]

/// A daemon (``journalOnly``) that acknowledged HTTP batches 0, 1 and 2 and was then
/// killed with SIGKILL before any flush; with the size of each batch's journal record.
private func crashedAfterThreeBatches(name: String) async throws -> (daemon: Daemon, recordSizes: [Int]) {
    let daemon = try await Daemon(name: name, environment: journalOnly)
    var recordSizes: [Int] = []
    let segment = { try newestSegment(journal: daemon.databasePath + ".journal/shard-0") }
    for batch in 0..<3 {
        let before = (try? Data(contentsOf: segment()).count) ?? 0
        #expect(try await daemon.post(SeqLoader.body(batch: batch), contentType: "application/json").status == 202)
        recordSizes.append(try Data(contentsOf: segment()).count - before)
    }
    try await daemon.kill9()
    return (daemon, recordSizes)
}

@Suite(.serialized) struct CrashRecoveryTests {
    /// kill -9 trials (20 here; `scripts/crash-trials.sh N` runs more): while HTTP batches
    /// with seq and MQTT QoS 1 messages with seq flow in, the daemon is killed at a random
    /// moment and restarted on the same database, journal and MQTT session. At the end
    /// every acknowledged reading is counted exactly once.
    @Test func killNineUnderLoadLosesNothingAndCountsNothingTwice() async throws {
        let trials = Int(ProcessInfo.processInfo.environment["SENSORHUB_CRASH_TRIALS"] ?? "") ?? 20
        let broker = try await Broker()
        defer { broker.cleanUp() }
        let environment = ["SENSORHUB_MQTT_CLIENT_ID": "crash-trials", "SENSORHUB_PIPELINE_SHARDS": "2"]
        let arguments = ["--mqtt-url", broker.url]
        let first = try await Daemon(name: "crash-trials", arguments: arguments, environment: environment)
        defer { first.cleanUp() }
        let database = first.databasePath

        // MQTT: the simulator publishes 10 series with seq at a steady rate through all
        // trials; what the broker acknowledged to it, it keeps for SensorHub's session.
        let mqttReadings = 2_000 * max(4, trials / 2)
        let url = broker.url
        async let published = run(Binary.sensorhub.path, [
            "simulate", "--mqtt-url", url, "--devices", "5", "--metrics", "2", "--count", "\(mqttReadings)",
            "--rate", "2000", "--batch", "4", "--qos", "1", "--seq", "--seed", "11",
        ], timeout: .seconds(600))
        let loader = SeqLoader()
        let batches = 60 * trials
        loader.point(at: first.baseURL)
        let loading = Task { await loader.run(batches: batches) }

        var generator = SystemRandomNumberGenerator()
        var current = first
        var restarted: [Daemon] = []
        defer { for daemon in restarted { daemon.cleanUp() } }
        for trial in 0..<trials {
            try await Task.sleep(for: .milliseconds(Int.random(in: 150...600, using: &generator)))
            try await current.kill9()
            loader.point(at: nil)
            current = try await Daemon(name: "crash-trials-\(trial)", arguments: arguments, environment: environment, database: database)
            restarted.append(current)
            loader.point(at: current.baseURL)
        }
        #expect(await loading.value == batches, "every HTTP batch acknowledged by some daemon")
        let sent = try await published
        #expect(sent.status == 0 && sent.stdout.contains("acknowledged=\(mqttReadings)"), "\(sent.stdout)\(sent.stderr)")

        // Let the last daemon take what the broker still holds, then stop it cleanly.
        let httpReadings = batches * SeqLoader.perBatch
        let deadline = ContinuousClock.now + generousDeadline
        var mqttCounted = 0
        while ContinuousClock.now < deadline {
            let body = try await current.request("GET", "/v1/devices").json() as? [[String: Any]] ?? []
            mqttCounted = body.filter { !(($0["device"] as? String) ?? "").hasPrefix("h-") }
                .reduce(0) { $0 + (($1["readings"] as? Int) ?? 0) }
            if mqttCounted >= mqttReadings { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(try await current.stop() == 0)
        let totals = try await storedTotals(database: database)
        #expect(total(totals, prefix: "h-") == httpReadings, "HTTP: every acknowledged reading exactly once")
        #expect(total(totals, prefix: "sim-") == mqttReadings, "MQTT: every acknowledged reading exactly once")
        // value = seq, so each HTTP series sums to 1 + 2 + … + n.
        let perSeries = httpReadings / SeqLoader.series
        for series in 0..<SeqLoader.series {
            let stored = totals["h-\(series)/v"]
            #expect(stored?.count == perSeries)
            #expect(stored?.sum == Double(perSeries * (perSeries + 1) / 2), "h-\(series)")
        }
        #expect(totals.count == SeqLoader.series + 10)
    }

    /// SIGTERM while HTTP and MQTT load flows: exit 0, and after a restart the counts equal
    /// what was acknowledged.
    @Test func sigtermUnderLoadThenRestartCountsWhatWasAcknowledged() async throws {
        let broker = try await Broker()
        defer { broker.cleanUp() }
        let environment = ["SENSORHUB_MQTT_CLIENT_ID": "sigterm-load"]
        let arguments = ["--mqtt-url", broker.url]
        let first = try await Daemon(name: "sigterm-load", arguments: arguments, environment: environment)
        defer { first.cleanUp() }
        let url = broker.url
        async let published = run(Binary.sensorhub.path, [
            "simulate", "--mqtt-url", url, "--devices", "5", "--metrics", "2", "--count", "8000",
            "--rate", "4000", "--qos", "1", "--seq", "--seed", "12",
        ], timeout: .seconds(120))
        let loader = SeqLoader()
        loader.point(at: first.baseURL)
        let loading = Task { await loader.run(batches: 400) }
        try await Task.sleep(for: .milliseconds(700))
        #expect(try await first.stop() == 0, "\(first.output)")
        loader.point(at: nil)
        #expect(first.output.contains("flushed all buckets"))
        let second = try await Daemon(name: "sigterm-load-2", arguments: arguments, environment: environment, database: first.databasePath)
        defer { second.cleanUp() }
        loader.point(at: second.baseURL)
        #expect(await loading.value == 400)
        let sent = try await published
        #expect(sent.status == 0 && sent.stdout.contains("acknowledged=8000"))
        let deadline = ContinuousClock.now + generousDeadline
        while ContinuousClock.now < deadline {
            let body = try await second.request("GET", "/v1/devices").json() as? [[String: Any]] ?? []
            if body.reduce(0, { $0 + (($1["readings"] as? Int) ?? 0) }) >= 8_000 + 400 * SeqLoader.perBatch { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(try await second.stop() == 0)
        let totals = try await storedTotals(database: first.databasePath)
        #expect(total(totals, prefix: "h-") == 400 * SeqLoader.perBatch)
        #expect(total(totals, prefix: "") == 8_000 + 400 * SeqLoader.perBatch)
    }

    /// A crash mid-write leaves half a record at the end of the journal: it is cut with a
    /// log line and every complete record is replayed.
    @Test func tornJournalTailIsCutAndTheRestReplayed() async throws {
        let first = try await crashedAfterThreeBatches(name: "torn-tail").daemon
        defer { first.cleanUp() }
        let segment = try newestSegment(journal: first.databasePath + ".journal/shard-0")
        let handle = try FileHandle(forWritingTo: segment)
        try handle.seekToEnd()
        // A record header promising 1000 bytes, then only 10 of them.
        try handle.write(contentsOf: Data([0x53, 0x48, 0x4A, 0x31, 0xE8, 0x03, 0, 0, 1, 2, 3, 4]) + Data(repeating: 7, count: 10))
        try handle.close()

        let second = try await Daemon(name: "torn-tail-2", environment: journalOnly, database: first.databasePath)
        defer { second.cleanUp() }
        #expect(second.output.contains("cut a torn record of 22 bytes"), "\(second.output)")
        #expect(try await second.stop() == 0)
        let totals = try await storedTotals(database: first.databasePath)
        #expect(total(totals, prefix: "h-") == 3 * SeqLoader.perBatch)
    }

    /// While the journal is replayed the daemon answers, but takes nothing: /healthz is
    /// 503 `recovering` with its reason, ingest is 503 `unavailable`; then it is healthy and
    /// the replayed readings are counted. (The flush that ends recovery is slowed with the
    /// test-only `--testing-flush-delay`, so the phase lasts long enough to be seen.)
    @Test func healthSaysRecoveringWhileTheJournalIsReplayed() async throws {
        let first = try await crashedAfterThreeBatches(name: "recovering").daemon
        defer { first.cleanUp() }

        let second = try await Daemon(
            name: "recovering-2", arguments: ["--testing-flush-delay", "3000"], environment: journalOnly,
            database: first.databasePath, waitUntilHealthy: false)
        defer { second.cleanUp() }
        let health = try await second.request("GET", "/healthz")
        #expect(health.status == 503)
        let body = try #require(try health.json() as? [String: Any])
        #expect(body["status"] as? String == "recovering")
        #expect(body["reason"] as? String == "replaying the ingest journal")
        #expect(body["accepting"] as? Bool == false)
        let refused = try await second.post(SeqLoader.body(batch: 3), contentType: "application/json")
        #expect(refused.status == 503)
        #expect(refused.text.contains("\"reason\":\"unavailable\""), "\(refused.text)")
        #expect(refused.header("Retry-After") != nil)

        let deadline = ContinuousClock.now + generousDeadline
        while try await second.request("GET", "/healthz").status != 200, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(try await second.request("GET", "/healthz").status == 200)
        #expect(try await second.stop() == 0)
        let totals = try await storedTotals(database: first.databasePath)
        #expect(total(totals, prefix: "h-") == 3 * SeqLoader.perBatch)
    }

    /// A flipped byte in the middle of the journal costs exactly that record: it is
    /// skipped, counted and logged, the records around it are replayed, and the next start
    /// is clean (no crash loop).
    @Test func flippedByteInTheMiddleSkipsOneRecordOnly() async throws {
        let (first, recordSizes) = try await crashedAfterThreeBatches(name: "flipped-byte")
        defer { first.cleanUp() }
        let segment = { try newestSegment(journal: first.databasePath + ".journal/shard-0") }
        var bytes = try Data(contentsOf: segment())
        // A byte in the middle of the second record's payload.
        let target = recordSizes[0] + recordSizes[1] / 2
        bytes[target] ^= 0x20
        try bytes.write(to: segment())

        let second = try await Daemon(name: "flipped-byte-2", environment: journalOnly, database: first.databasePath)
        defer { second.cleanUp() }
        #expect(second.output.contains("skipped a damaged record"), "\(second.output)")
        let metrics = try await second.request("GET", "/metrics").text
        #expect(metricValue(metrics, "sensorhub_journal_damaged_records_total") == 1)
        #expect(try await second.stop() == 0)
        let totals = try await storedTotals(database: first.databasePath)
        #expect(total(totals, prefix: "h-") == 2 * SeqLoader.perBatch, "batches 0 and 2 replayed, batch 1 lost to the damage")

        // The damaged segment was replayed and deleted: the next start replays nothing.
        let third = try await Daemon(name: "flipped-byte-3", environment: journalOnly, database: first.databasePath)
        defer { third.cleanUp() }
        #expect(third.output.contains("replayed the ingest journal"))
        #expect(!third.output.contains("damaged"))
        #expect(try await third.stop() == 0)
    }

    /// Readings with seq sent twice (a client retry, or over both transports) count once;
    /// the 202 body says how many were duplicates, and so does /metrics.
    @Test func duplicatesBySeqAreReportedAndNotCounted() async throws {
        let daemon = try await Daemon(name: "dedupe")
        defer { daemon.cleanUp() }
        let batch = #"[{"device":"d","metric":"m","value":1,"ts":1764165600,"seq":1},{"device":"d","metric":"m","value":2,"ts":1764165601,"seq":2},{"device":"d","metric":"m","value":9,"ts":1764165602,"seq":1},{"device":"d","metric":"m","value":5,"ts":1764165603}]"#
        let first = try await daemon.post(batch, contentType: "application/json")
        #expect(first.status == 202)
        #expect(first.text == #"{"accepted":3,"duplicates":1}"#)
        let retry = try await daemon.post(batch, contentType: "application/json")
        #expect(retry.text == #"{"accepted":1,"duplicates":3}"#, "only the reading without seq counts again")
        let metrics = try await daemon.request("GET", "/metrics").text
        #expect(metricValue(metrics, "sensorhub_readings_duplicate_total") == 4)
        #expect(try await daemon.stop() == 0)
        let totals = try await storedTotals(database: daemon.databasePath)
        #expect(totals["d/m"]?.count == 4)
        #expect(totals["d/m"]?.sum == 13.0, "1 + 2 + 5 + 5")
    }

    /// Past the shutdown deadline the daemon exits 1 without its last flush, and the next
    /// start replays what the journal kept.
    @Test func shutdownDeadlineExitsAndTheJournalKeepsTheReadings() async throws {
        let environment = ["SENSORHUB_PIPELINE_SHUTDOWN_DEADLINE": "500ms", "SENSORHUB_STORE_FLUSH_INTERVAL": "1h"]
        let first = try await Daemon(name: "deadline", arguments: ["--testing-flush-delay", "60000"], environment: environment)
        defer { first.cleanUp() }
        #expect(try await first.post(SeqLoader.body(batch: 0), contentType: "application/json").status == 202)
        let started = ContinuousClock.now
        #expect(try await first.stop() == 1)
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(first.output.contains("shutdown deadline exceeded"), "\(first.output)")
        let second = try await Daemon(name: "deadline-2", database: first.databasePath)
        defer { second.cleanUp() }
        #expect(try await second.stop() == 0)
        let totals = try await storedTotals(database: first.databasePath)
        #expect(total(totals, prefix: "h-") == SeqLoader.perBatch)
    }
}

private func newestSegment(journal directory: String) throws -> URL {
    let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".seg") }.sorted()
    return URL(fileURLWithPath: directory).appendingPathComponent(try #require(names.last))
}
