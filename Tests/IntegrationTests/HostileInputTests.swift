import Foundation
import Testing

/// The `sensorhub_readings_rejected_total` sample of one transport and reason.
private func rejected(_ daemon: Daemon, _ reason: String, transport: String = "http") async throws -> Double? {
    metricValue(try await daemon.request("GET", "/metrics").text, #"sensorhub_readings_rejected_total{transport="\#(transport)",reason="\#(reason)"}"#)
}

/// A JSON array of readings, one per (device, metric, value) at `ts`, with optional seqs.
private func readings(_ items: [(device: String, metric: String, value: String)], ts: Int, seq: [Int]? = nil) -> String {
    "[" + items.enumerated().map { index, item in
        let seqText = seq.map { ",\"seq\":\($0[index])" } ?? ""
        return #"{"device":"\#(item.device)","metric":"\#(item.metric)","value":\#(item.value),"ts":\#(ts)\#(seqText)}"#
    }.joined(separator: ",") + "]"
}

/// The reason and index of a 400/413 body.
private func refusal(_ answer: HTTPAnswer) -> (reason: String?, index: Int?) {
    let body = (try? answer.json()) as? [String: Any]
    return (body?["reason"] as? String, body?["index"] as? Int)
}

/// CONTRACT §4: nothing a client sends may stop the store, crash the daemon or grow its
/// memory past its settings; every limit answers with a reason, counted, and the readings
/// around it still count.
@Suite struct HostileInputTests {
    private let now = Int(Date().timeIntervalSince1970)

    /// The three finite readings that used to stop every flush for good: now refused at
    /// the door, and other readings, extremes within the range included, are stored.
    @Test func valuesBeyondTheRangeAreRefusedAndEverythingElseIsStored() async throws {
        let daemon = try await Daemon(name: "poison", environment: ["SENSORHUB_STORE_FLUSH_INTERVAL": "100ms"])
        defer { daemon.cleanUp() }
        let poison = readings([("p", "m", "1.7e308"), ("p", "m", "-1.7e308"), ("p", "m", "0")], ts: now - 60)
        let refused = try await daemon.post(poison, contentType: "application/json")
        #expect(refused.status == 400)
        #expect(refused.text.contains("outside the accepted range of ±1e100"), "\(refused.text)")
        #expect(refusal(refused) == ("value_out_of_range", 0))
        let lineProtocol = try await daemon.post("p,device=p value=2e200 \(UInt64(now - 60) * 1_000_000_000)", contentType: "text/plain")
        #expect(refusal(lineProtocol) == ("value_out_of_range", 0))

        // The extremes the range allows, in one bucket: every statistic stays finite.
        let extremes = readings([("p", "m", "1e100"), ("p", "m", "-1e100"), ("p", "m", "1e-300"), ("p", "m", "5e-324"), ("p", "m", "0")], ts: now - 60)
        #expect(try await daemon.post(extremes, contentType: "application/json").status == 202)
        let others = readings([("q", "m", "1"), ("q", "m", "2"), ("r", "m", "3")], ts: now - 60)
        #expect(try await daemon.post(others, contentType: "application/json").status == 202)
        let stored = try await waitForTotal(daemon, 8)
        #expect(stored["p/m"]?.count == 5 && stored["q/m"]?.count == 2 && stored["r/m"]?.count == 1, "\(stored)")

        let rows = try await daemon.cli(["query", "--device", "p", "--window", "1m", "--format", "json"])
        #expect(rows.status == 0, "\(rows.stderr)")
        let row = try #require((try JSONSerialization.jsonObject(with: Data(rows.stdout.utf8)) as? [[String: Any]])?.first)
        for key in ["sum", "min", "max", "mean", "stddev", "first", "last", "p50", "p90", "p95", "p99"] {
            let value = row[key] as? Double
            #expect(value?.isFinite == true, "\(key) is \(String(describing: row[key]))")
        }
        #expect(row["max"] as? Double == 1e100 && row["min"] as? Double == -1e100)
        #expect(try await daemon.request("GET", "/healthz").status == 200)
        #expect(try await rejected(daemon, "value_out_of_range") == 2)
    }

    /// Past limits.max_series no new series is taken (the batch is refused whole, with the
    /// index of the first new reading); existing series keep working, also after a restart.
    @Test func theSeriesLimitRefusesNewSeriesOnly() async throws {
        let environment = ["SENSORHUB_LIMITS_MAX_SERIES": "3", "SENSORHUB_STORE_FLUSH_INTERVAL": "100ms"]
        let first = try await Daemon(name: "series-limit", environment: environment)
        defer { first.cleanUp() }
        let fill = readings([("a", "x", "1"), ("a", "y", "1"), ("b", "x", "1")], ts: now - 60)
        #expect(try await first.post(fill, contentType: "application/json").status == 202)
        let over = try await first.post(readings([("a", "x", "5"), ("c", "x", "1")], ts: now - 60), contentType: "application/json")
        #expect(over.status == 400)
        #expect(refusal(over) == ("series_limit", 1))
        #expect(over.text.contains("limits.max_series"), "\(over.text)")
        #expect(try await first.post(readings([("b", "x", "2")], ts: now - 60), contentType: "application/json").status == 202)
        let stored = try await waitForTotal(first, 4)
        #expect(stored["a/x"]?.count == 1, "nothing of the refused batch was taken: \(stored)")
        #expect(stored["c/x"] == nil)
        #expect(try await rejected(first, "series_limit") == 1)
        #expect(try await first.stop() == 0)

        // The stored series count against the limit after a restart.
        let second = try await Daemon(name: "series-limit-2", environment: environment, database: first.databasePath)
        defer { second.cleanUp() }
        #expect(refusal(try await second.post(readings([("d", "x", "1")], ts: now - 60), contentType: "application/json")) == ("series_limit", 0))
        #expect(try await second.post(readings([("a", "y", "1")], ts: now - 60), contentType: "application/json").status == 202)
    }

    @Test func theMetricsPerDeviceLimitRefusesNewMetricsOfThatDeviceOnly() async throws {
        let daemon = try await Daemon(name: "metric-limit", environment: ["SENSORHUB_LIMITS_MAX_METRICS_PER_DEVICE": "2"])
        defer { daemon.cleanUp() }
        #expect(try await daemon.post(readings([("a", "x", "1"), ("a", "y", "1")], ts: now - 60), contentType: "application/json").status == 202)
        let over = try await daemon.post(readings([("b", "x", "1"), ("a", "z", "1")], ts: now - 60), contentType: "application/json")
        #expect(refusal(over) == ("series_limit", 1))
        #expect(over.text.contains("limits.max_metrics_per_device"), "\(over.text)")
        #expect(try await daemon.post(readings([("b", "x", "1"), ("b", "y", "1")], ts: now - 60), contentType: "application/json").status == 202)
    }

    /// limits.max_readings_per_payload: 413 too_large past it, in every format (a line of
    /// line protocol with many fields gives many readings).
    @Test func payloadsPastTheReadingLimitAreRefusedWith413() async throws {
        let daemon = try await Daemon(name: "payload-limit", environment: ["SENSORHUB_LIMITS_MAX_READINGS_PER_PAYLOAD": "100"])
        defer { daemon.cleanUp() }
        let items = (0..<101).map { (device: "d", metric: "m\($0 % 10)", value: "\($0)") }
        let tooMany = try await daemon.post(readings(items, ts: now - 60), contentType: "application/json")
        #expect(tooMany.status == 413)
        #expect(refusal(tooMany).reason == "too_large")
        #expect(tooMany.text.contains("more than 100 readings"), "\(tooMany.text)")
        #expect(try await daemon.post(readings(Array(items.prefix(100)), ts: now - 60), contentType: "application/json").status == 202)
        let fields = (0..<101).map { "f\($0)=1" }.joined(separator: ",")
        let line = try await daemon.post("m,device=d \(fields) \(UInt64(now - 60) * 1_000_000_000)", contentType: "text/plain")
        #expect(line.status == 413)
        #expect(try await rejected(daemon, "too_large") == 2)
    }

    /// limits.max_query_rows: a query whose answer could pass it is refused before any work
    /// (HTTP 400 too_many_rows, CLI exit 64); a narrower one is answered.
    @Test func queriesThatCouldPassTheRowLimitAreRefused() async throws {
        let daemon = try await Daemon(name: "query-rows", environment: ["SENSORHUB_LIMITS_MAX_QUERY_ROWS": "100", "SENSORHUB_STORE_FLUSH_INTERVAL": "100ms"])
        defer { daemon.cleanUp() }
        // Two series with a reading every 10 s for 10 minutes: 60 10s buckets each.
        let start = (now - 3_600) / 600 * 600
        for device in ["a", "b"] {
            let items = (0..<60).map { #"{"device":"\#(device)","metric":"m","value":\#($0),"ts":\#(start + 10 * $0)}"# }
            #expect(try await daemon.post("[" + items.joined(separator: ",") + "]", contentType: "application/json").status == 202)
        }
        _ = try await waitForTotal(daemon, 120)
        let broad = try await daemon.request("GET", "/v1/aggregates?window=10s")
        #expect(broad.status == 400)
        #expect(refusal(broad).reason == "too_many_rows")
        #expect(broad.text.contains("limits.max_query_rows"), "\(broad.text)")
        let one = try await daemon.request("GET", "/v1/aggregates?window=10s&device=a")
        #expect(one.status == 200)
        #expect((try one.json() as? [Any])?.count == 60)
        let cli = try await daemon.cli(["query", "--window", "10s", "--format", "json"])
        #expect(cli.status == 64, "\(cli.stdout)\(cli.stderr)")
        #expect(cli.stderr.contains("too_many_rows") || cli.stderr.contains("limits.max_query_rows"), "\(cli.stderr)")
        // Sparse data over a long span: few rows, so answered.
        let sliding = try await daemon.request("GET", "/v1/aggregates?window=1m&step=10s&device=a")
        #expect(sliding.status == 200, "\(sliding.text)")
    }

    /// http.idle_timeout: a connection stalled halfway through its request, and one left
    /// idle, are closed; requests on other connections are served meanwhile.
    @Test func stalledAndIdleConnectionsAreClosedWhileOthersAreServed() async throws {
        let daemon = try await Daemon(name: "idle-timeout", environment: ["SENSORHUB_HTTP_IDLE_TIMEOUT": "1s"])
        defer { daemon.cleanUp() }
        let stalled = try RawConnection(port: daemon.port)
        try stalled.send(Array("POST /v1/readings HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n[{\"device\":".utf8))
        let idle = try RawConnection(port: daemon.port)
        // A connection each (Connection: close): one kept by the client between two requests
        // may be closed by the daemon's idle timeout just as it is reused, on a loaded
        // machine, and the request gets no answer.
        let close = ["Connection": "close"]
        for second in 0..<3 {
            let answer = try await daemon.post(readings([("o", "m", "\(second)")], ts: now - 60), contentType: "application/json", headers: close)
            #expect(answer.status == 202)
        }
        for connection in [stalled, idle] {
            // EOF, or a reset if the server closed with bytes unread: either way, closed.
            let closed = await eventually { ((try? connection.receive(timeout: .milliseconds(100))) ?? false) == false }
            #expect(closed, "the daemon must close a connection idle past http.idle_timeout")
        }
        #expect(try await daemon.request("GET", "/healthz", headers: close).status == 200)
    }

    /// http.max_connections: a connection past the limit waits until another one closes.
    @Test func connectionsPastTheLimitWaitForARoom() async throws {
        let daemon = try await Daemon(name: "max-connections", environment: ["SENSORHUB_HTTP_MAX_CONNECTIONS": "2"])
        defer { daemon.cleanUp() }
        var held = try (0..<2).map { _ in try RawConnection(port: daemon.port) }
        for connection in held {
            try connection.sendGET("/healthz")
            #expect(try connection.readResponseHead(deadline: .now + generousDeadline)?.status == 200)
        }
        let waiting = try RawConnection(port: daemon.port)
        try waiting.sendGET("/healthz")
        // Not answered while both rooms are taken (a wrong answer here could only pass).
        #expect(try waiting.readResponseHead(deadline: .now + .seconds(1)) == nil)
        held.removeFirst()
        #expect(try waiting.readResponseHead(deadline: .now + generousDeadline)?.status == 200)
        _ = held
    }

    /// CONTRACT §2 v2: a device that restarts its sequence counts again; redeliveries of
    /// the old sequence stay duplicates, across a restart of the daemon too; an absurd seq
    /// does not mute the device.
    @Test func aDeviceThatRestartsItsSequenceIsCounted() async throws {
        let first = try await Daemon(name: "seq-restart", environment: ["SENSORHUB_STORE_FLUSH_INTERVAL": "100ms"])
        defer { first.cleanUp() }
        let base = now - 6_000
        func batch(_ seqs: ClosedRange<Int>, at time: (Int) -> Int) -> String {
            "[" + seqs.map { #"{"device":"dev","metric":"m","value":1,"ts":\#(time($0)),"seq":\#($0)}"# }.joined(separator: ",") + "]"
        }
        #expect(try await first.post(batch(1...1_500, at: { base + $0 }), contentType: "application/json").text == #"{"accepted":1500,"duplicates":0}"#)
        // The reboot: seq 1 again, stamped after everything counted.
        #expect(try await first.post(batch(1...3, at: { base + 2_000 + $0 }), contentType: "application/json").text == #"{"accepted":3,"duplicates":0}"#)
        // A late redelivery of the old sequence, with its old time.
        #expect(try await first.post(batch(1_200...1_201, at: { base + $0 }), contentType: "application/json").text == #"{"accepted":0,"duplicates":2}"#)
        #expect(try await first.stop() == 0)

        let second = try await Daemon(name: "seq-restart-2", environment: ["SENSORHUB_STORE_FLUSH_INTERVAL": "100ms"], database: first.databasePath)
        defer { second.cleanUp() }
        #expect(try await second.post(batch(2...4, at: { base + 2_000 + $0 }), contentType: "application/json").text == #"{"accepted":1,"duplicates":2}"#)
        #expect(try await second.post(batch(7...7, at: { base + $0 }), contentType: "application/json").text == #"{"accepted":0,"duplicates":1}"#)
        // seq 2^64 - 1 once, then the device's next readings: still counted.
        let absurd = #"[{"device":"dev","metric":"m","value":1,"ts":\#(base + 3_000),"seq":18446744073709551615}]"#
        #expect(try await second.post(absurd, contentType: "application/json").text == #"{"accepted":1,"duplicates":0}"#)
        #expect(try await second.post(batch(5...6, at: { base + 3_000 + $0 }), contentType: "application/json").text == #"{"accepted":2,"duplicates":0}"#)
        let stored = try await waitForTotal(second, 1_500 + 3 + 1 + 1 + 2)
        #expect(stored["dev/m"]?.count == 1_507)
    }

    /// A flood of new series past the limit is refused batch after batch without the
    /// daemon's memory growing with it, and the series it holds keep being taken.
    @Test func aFloodOfNewSeriesIsRefusedWithinBoundedMemory() async throws {
        let daemon = try await Daemon(name: "series-flood", environment: ["SENSORHUB_LIMITS_MAX_SERIES": "1000"])
        defer { daemon.cleanUp() }
        func batch(_ round: Int) -> String {
            "[" + (0..<1_000).map { #"{"device":"flood-\#(round)-\#($0)","metric":"m","value":1,"ts":\#(now - 60)}"# }.joined(separator: ",") + "]"
        }
        #expect(try await daemon.post(batch(0), contentType: "application/json").status == 202)
        var samples: [Int] = []
        for round in 1...300 {
            let answer = try await daemon.post(batch(round), contentType: "application/json")
            #expect(answer.status == 400 && refusal(answer) == ("series_limit", 0), "round \(round): \(answer.status)")
            if round % 20 == 0, let bytes = daemon.residentBytes { samples.append(bytes) }
        }
        #expect(try await daemon.post(batch(0), contentType: "application/json").status == 202, "the held series still count")
        #expect(try await rejected(daemon, "series_limit") == 300)
        let early = samples.first ?? 0, peak = samples.max() ?? 0
        #expect(peak - early < 32 << 20, "resident memory grew from \(early >> 20) MiB to \(peak >> 20) MiB while 300,000 new series were refused")
    }
}
