import Foundation
import Testing
import SensorCore

/// Parses `sensorhub query --format json` output into rows keyed by "device/metric@start".
private func rowsByKey(_ output: ProcessOutput) throws -> [String: [String: Any]] {
    let array = try #require(JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [[String: Any]], "not a JSON array: \(output.stdout)")
    var rows: [String: [String: Any]] = [:]
    for row in array {
        rows["\(row["device"]!)/\(row["metric"]!)@\(row["window_start"]!)"] = row
    }
    return rows
}

/// Polls the CLI until the summed counts reach `expected` (one flush interval or two).
private func waitForCount(_ daemon: Daemon, _ expected: Int, arguments: [String] = []) async throws -> ProcessOutput {
    let deadline = ContinuousClock.now + generousDeadline
    while true {
        let output = try await daemon.cli(["query", "--window", "1m", "--format", "json"] + arguments)
        let rows = (try? JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [[String: Any]]) ?? []
        let total = rows.reduce(0) { $0 + (($1["count"] as? Int) ?? 0) }
        if total >= expected || ContinuousClock.now > deadline { return output }
        try await Task.sleep(for: .milliseconds(100))
    }
}

private func expectRow(
    _ row: [String: Any]?, count: Int, sum: Double, min: Double, max: Double, mean: Double, stddev: Double,
    first: Double, last: Double, sourceLocation: SourceLocation = #_sourceLocation
) {
    guard let row else {
        Issue.record("row missing", sourceLocation: sourceLocation)
        return
    }
    #expect(row["count"] as? Int == count, "count: \(row)", sourceLocation: sourceLocation)
    for (name, expected) in [("sum", sum), ("min", min), ("max", max), ("mean", mean), ("stddev", stddev), ("first", first), ("last", last)] {
        let actual = row[name] as? Double
        #expect(actual.map { abs($0 - expected) <= 1e-12 * Swift.max(1, abs(expected)) } == true,
                "\(name): expected \(expected), got \(String(describing: actual))", sourceLocation: sourceLocation)
    }
    for percentile in ["p50", "p90", "p95", "p99"] {
        #expect(row.keys.contains(percentile), "\(percentile) key missing", sourceLocation: sourceLocation)
    }
}

@Suite(.serialized) struct IngestAndQueryTests {
    @Test func everyFormatLandsInTheRightBucketsWithExactStats() async throws {
        let daemon = try await Daemon(name: "formats")
        defer { daemon.cleanUp() }

        // Native JSON array: one number ts with a fraction, one RFC 3339 ts.
        var answer = try await daemon.post("""
            [{"device":"json-1","metric":"temp","value":10,"ts":1764165600.25,"seq":1},
             {"device":"json-1","metric":"temp","value":40,"ts":"2025-11-26T14:00:59.5Z","seq":4},
             {"device":"json-1","metric":"temp","value":20,"ts":1764165610},
             {"device":"json-1","metric":"temp","value":30,"ts":"2025-11-26T15:00:20+01:00"}]
            """, contentType: "application/json; charset=utf-8")
        #expect(answer.status == 202, "\(answer.text)")
        #expect((try answer.json() as? [String: Int]) == ["accepted": 4, "duplicates": 0])

        answer = try await daemon.post("""
            {"device":"nd-1","metric":"hum","value":1.5,"ts":1764165660}

            {"device":"nd-1","metric":"hum","value":2.5,"ts":1764165661}
            """, contentType: "application/x-ndjson")
        #expect(answer.status == 202, "\(answer.text)")

        answer = try await daemon.post("""
            [{"bn":"senml-1/","bt":1764165600,"n":"press","v":1000},{"n":"press","t":30,"v":1002}]
            """, contentType: "application/senml+json")
        #expect(answer.status == 202, "\(answer.text)")

        answer = try await daemon.post("""
            power,device=lp-1 value=5,volts=230 1764165605000000000
            power,device=lp-1 value=7i,volts=231 1764165665000000000
            """, contentType: "text/plain")
        #expect(answer.status == 202, "\(answer.text)")
        #expect((try answer.json() as? [String: Int])?["accepted"] == 4)

        let output = try await waitForCount(daemon, 4 + 2 + 2 + 4)
        #expect(output.status == 0, "\(output.stderr)")
        let rows = try rowsByKey(output)
        #expect(rows.count == 7, "\(rows.keys.sorted())")
        expectRow(rows["json-1/temp@2025-11-26T14:00:00Z"], count: 4, sum: 100, min: 10, max: 40, mean: 25,
                  stddev: 125.0.squareRoot(), first: 10, last: 40)
        expectRow(rows["nd-1/hum@2025-11-26T14:01:00Z"], count: 2, sum: 4, min: 1.5, max: 2.5, mean: 2, stddev: 0.5, first: 1.5, last: 2.5)
        expectRow(rows["senml-1/press@2025-11-26T14:00:00Z"], count: 2, sum: 2002, min: 1000, max: 1002, mean: 1001, stddev: 1, first: 1000, last: 1002)
        expectRow(rows["lp-1/power@2025-11-26T14:00:00Z"], count: 1, sum: 5, min: 5, max: 5, mean: 5, stddev: 0, first: 5, last: 5)
        expectRow(rows["lp-1/power@2025-11-26T14:01:00Z"], count: 1, sum: 7, min: 7, max: 7, mean: 7, stddev: 0, first: 7, last: 7)
        expectRow(rows["lp-1/power.volts@2025-11-26T14:00:00Z"], count: 1, sum: 230, min: 230, max: 230, mean: 230, stddev: 0, first: 230, last: 230)
        expectRow(rows["lp-1/power.volts@2025-11-26T14:01:00Z"], count: 1, sum: 231, min: 231, max: 231, mean: 231, stddev: 0, first: 231, last: 231)
        #expect(rows["json-1/temp@2025-11-26T14:00:00Z"]?["window_end"] as? String == "2025-11-26T14:01:00Z")

        // Rows come ordered by device, metric, window_start.
        let ordered = try #require(JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [[String: Any]])
        let keys = ordered.map { [$0["device"] as! String, $0["metric"] as! String, $0["window_start"] as! String] }
        #expect(keys == keys.sorted { $0.lexicographicallyPrecedes($1) })

        // CSV: the contract's header, then exact cells.
        let csv = try await daemon.cli(["query", "--device", "json-*", "--metric", "temp", "--window", "1m", "--format", "csv"])
        #expect(csv.status == 0)
        let lines = csv.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 3 && lines[2].isEmpty, "one header, one row, final newline")
        #expect(lines.first == "device,metric,window_start,window_end,count,sum,min,max,mean,stddev,first,last,p50,p90,p95,p99")
        let cells = lines.count > 1 ? lines[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init) : []
        #expect(cells.prefix(12).joined(separator: ",")
            == "json-1,temp,2025-11-26T14:00:00Z,2025-11-26T14:01:00Z,4,100.0,10.0,40.0,25.0,\(125.0.squareRoot()),10.0,40.0")
        // Percentiles of 10, 20, 30, 40 (rank ⌊q·3⌋): 20, 30, 30, 30, each within 1%.
        let percentiles = cells.dropFirst(12).compactMap(Double.init)
        #expect(percentiles.count == 4)
        for (estimate, exact) in zip(percentiles, [20.0, 30, 30, 30]) {
            #expect(abs(estimate - exact) <= 0.01 * exact, "\(estimate) vs \(exact)")
        }

        // 10 s windows from the same readings, and a 5 m window merged from stored buckets.
        let tenSeconds = try rowsByKey(try await daemon.cli(["query", "--device", "json-1", "--window", "10s", "--format", "json"]))
        #expect(tenSeconds.count == 4)
        expectRow(tenSeconds["json-1/temp@2025-11-26T14:00:50Z"], count: 1, sum: 40, min: 40, max: 40, mean: 40, stddev: 0, first: 40, last: 40)
        let fiveMinutes = try rowsByKey(try await daemon.cli(["query", "--device", "lp-1", "--metric", "power", "--window", "5m", "--format", "json"]))
        expectRow(fiveMinutes["lp-1/power@2025-11-26T14:00:00Z"], count: 2, sum: 12, min: 5, max: 7, mean: 6, stddev: 1, first: 5, last: 7)

        // devices: every device with its metrics and counted readings.
        let devices = try await daemon.cli(["devices", "--format", "json"])
        let list = try #require(JSONSerialization.jsonObject(with: Data(devices.stdout.utf8)) as? [[String: Any]])
        #expect(list.map { $0["device"] as? String } == ["json-1", "lp-1", "nd-1", "senml-1"])
        #expect(list[1]["metrics"] as? [String] == ["power", "power.volts"])
        #expect(list[1]["readings"] as? Int == 4)
        #expect(list[1]["last_seen"] as? String == "2025-11-26T14:01:05Z")

        // The same answers straight from the database file while the daemon runs, once
        // flushed (the daemon's answers include what it has not flushed yet).
        var direct: [String: [String: Any]] = [:]
        let flushed = try await eventually {
            let answer = try await runSensorhub(["query", "--db", daemon.databasePath, "--window", "1m", "--format", "json"])
            guard answer.status == 0 else { return false }
            direct = try rowsByKey(answer)
            return direct.keys.sorted() == rows.keys.sorted()
        }
        #expect(flushed, "\(direct.keys.sorted()) vs \(rows.keys.sorted())")
    }

    @Test func badInputIsRejectedSpecificallyAndTheDaemonKeepsCounting() async throws {
        let daemon = try await Daemon(name: "bad-input", environment: ["SENSORHUB_HTTP_MAX_BODY": "4KiB"])
        defer { daemon.cleanUp() }
        let good = #"{"device":"ok-1","metric":"m","value":1,"ts":1764165600}"#

        var answer = try await daemon.post("[\(good), {\"device\":\"bad device\",\"metric\":\"m\",\"value\":1}]", contentType: "application/json")
        #expect(answer.status == 400)
        var body = try #require(try answer.json() as? [String: Any])
        #expect(body["reason"] as? String == "invalid_device" && body["index"] as? Int == 1, "\(body)")

        answer = try await daemon.post("[\(good), \(good), {\"device\":\"d\",\"metric\":\"m\",\"value\":\"abc\"}]", contentType: "application/json")
        body = try #require(try answer.json() as? [String: Any])
        #expect(answer.status == 400 && body["reason"] as? String == "invalid_value" && body["index"] as? Int == 2, "\(body)")

        answer = try await daemon.post("NaN", contentType: "application/json")
        body = try #require(try answer.json() as? [String: Any])
        #expect(answer.status == 400 && body["reason"] as? String == "malformed" && body["index"] == nil, "\(body)")

        answer = try await daemon.post("{\"device\":", contentType: "application/json")
        #expect(answer.status == 400)

        answer = try await daemon.post(good, contentType: "application/xml")
        body = try #require(try answer.json() as? [String: Any])
        #expect(answer.status == 415 && body["reason"] as? String == "unsupported_media_type")

        answer = try await daemon.post("[" + Array(repeating: good, count: 100).joined(separator: ",") + "]", contentType: "application/json")
        #expect(answer.status == 413)

        answer = try await daemon.post("m,device=lp value=1 1\nm,device=lp value=x 2\n", contentType: "text/plain")
        body = try #require(try answer.json() as? [String: Any])
        #expect(answer.status == 400 && body["index"] as? Int == 1, "\(body)")

        // Nothing of a rejected batch was taken; the good reading after them counts.
        answer = try await daemon.post(good, contentType: "application/json")
        #expect(answer.status == 202)
        let output = try await waitForCount(daemon, 1)
        let rows = try rowsByKey(output)
        #expect(rows.count == 1)
        expectRow(rows["ok-1/m@2025-11-26T14:00:00Z"], count: 1, sum: 1, min: 1, max: 1, mean: 1, stddev: 0, first: 1, last: 1)

        // Every rejection was counted under its reason.
        let metrics = try await daemon.request("GET", "/metrics").text
        for reason in ["invalid_device", "invalid_value", "malformed", "unsupported_media_type", "too_large"] {
            #expect(metrics.contains("reason=\"\(reason)\""), "no reject counter for \(reason)")
        }
        #expect(daemon.isRunning)
        #expect(try await daemon.request("GET", "/healthz").status == 200)
    }

    @Test func tokenGuardsTheAPIButNotHealth() async throws {
        let daemon = try await Daemon(name: "token", environment: ["SENSORHUB_HTTP_TOKEN": "s3cret"])
        defer { daemon.cleanUp() }
        let good = #"{"device":"t","metric":"m","value":1}"#
        #expect(try await daemon.post(good, contentType: "application/json").status == 401)
        #expect(try await daemon.post(good, contentType: "application/json", headers: ["Authorization": "Bearer wrong"]).status == 401)
        #expect(try await daemon.post(good, contentType: "application/json", headers: ["Authorization": "Bearer s3cret"]).status == 202)
        #expect(try await daemon.request("GET", "/metrics").status == 401)
        #expect(try await daemon.request("GET", "/healthz").status == 200)
        #expect(!daemon.output.contains("s3cret"), "the token must not be logged")
    }

    /// 10,000 rows are several of the store's pages: the route streams them as they are
    /// read, and the JSON array must come out whole, in order and exact across the page
    /// boundaries; a one-page answer is sent whole, with its length.
    @Test func anAnswerOfManyPagesIsStreamedWholeAndInOrder() async throws {
        let daemon = try await Daemon(name: "pages")
        defer { daemon.cleanUp() }
        // Each reading alone in its 10 s window: 2,500 windows of 4 series, 8 h ago and on.
        let start = (Int64(Date().timeIntervalSince1970) / 3600 - 8) * 3600
        let series = [("p-1", "a"), ("p-1", "b"), ("p-2", "a"), ("p-2", "b")]
        func value(_ window: Int, _ index: Int) -> Double { Double(window) + Double(index) / 4 }
        var readings: [String] = []
        for window in 0..<2_500 {
            for (index, (device, metric)) in series.enumerated() {
                readings.append(#"{"device":"\#(device)","metric":"\#(metric)","value":\#(value(window, index)),"ts":\#(start + Int64(window) * 10 + 3)}"#)
            }
        }
        let posted = try await daemon.post("[" + readings.joined(separator: ",") + "]", contentType: "application/json")
        #expect(posted.status == 202, "\(posted.text)")

        let path = "/v1/aggregates?device=*&metric=*&window=10s&from=\(start)&to=\(start + 25_000)"
        var rows: [[String: Any]] = []
        var answer: HTTPAnswer?
        let complete = try await eventually {
            answer = try await daemon.request("GET", path)
            guard answer?.status == 200, let body = answer else { return false }
            rows = try #require(try body.json() as? [[String: Any]], "not a JSON array of rows")
            return rows.count == 10_000
        }
        #expect(complete, "\(rows.count) rows")
        #expect(answer?.header("Content-Length") == nil, "a long answer is streamed, its length not known up front")
        var expected: [(String, String, Int, Double)] = []
        for (index, (device, metric)) in series.enumerated() {
            for window in 0..<2_500 { expected.append((device, metric, window, value(window, index))) }
        }
        for (row, (device, metric, window, sum)) in zip(rows, expected) {
            let start = RFC3339.format((start + Int64(window) * 10) * 1_000_000)
            guard row["device"] as? String == device, row["metric"] as? String == metric, row["window_start"] as? String == start,
                  row["count"] as? Int == 1, row["sum"] as? Double == sum else {
                Issue.record("expected \(device)/\(metric) at \(start) with sum \(sum), got \(row)")
                return
            }
        }

        let small = try await daemon.request("GET", "/v1/aggregates?device=p-1&metric=a&window=1h&from=\(start)&to=\(start + 28_800)")
        #expect(small.status == 200)
        #expect(small.header("Content-Length") == String(small.body.count))
        #expect((try small.json() as? [[String: Any]])?.reduce(0) { $0 + ($1["count"] as? Int ?? 0) } == 2_500)
    }

    /// Two clients that stop reading a long answer hold the two streams a daemon sends at
    /// once: a third long answer is refused with 503 and Retry-After, a short one is still
    /// answered, and once the stalled clients leave a long answer streams again.
    @Test func stalledClientsHoldAtMostTwoStreamsAndLeavingFreesThem() async throws {
        let daemon = try await Daemon(name: "stream-slots")
        defer { daemon.cleanUp() }
        // 40,000 rows of 10 s windows (about 13 MB of JSON: more than the socket buffers
        // between a client that stops reading and the daemon).
        let start = (Int64(Date().timeIntervalSince1970) / 3600 - 30) * 3600
        var readings: [String] = []
        for window in 0..<10_000 {
            for metric in ["a", "b", "c", "d"] {
                readings.append(#"{"device":"slots","metric":"\#(metric)","value":\#(window),"ts":\#(start + Int64(window) * 10)}"#)
            }
        }
        #expect(try await daemon.post("[" + readings.joined(separator: ",") + "]", contentType: "application/json").status == 202)
        let path = "/v1/aggregates?device=slots&window=10s&from=\(start)&to=\(start + 100_000)"
        #expect(try await eventually {
            (try await daemon.request("GET", "/v1/aggregates?device=slots&window=1d").json() as? [[String: Any]])?
                .reduce(0) { $0 + ($1["count"] as? Int ?? 0) } == 40_000
        }, "the readings were not all stored")

        var stalled = try (0..<2).map { _ in try RawConnection(port: daemon.port, receiveBuffer: 4_096) }
        for client in stalled {
            try client.sendGET(path)
            let head = try client.readResponseHead(deadline: .now + generousDeadline)
            #expect(head?.status == 200 && head?.headers["transfer-encoding"] == "chunked", "\(String(describing: head))")
        }
        let refused = try await daemon.request("GET", path)
        #expect(refused.status == 503, "\(refused.status) \(refused.text.prefix(200))")
        #expect(refused.header("Retry-After") == "1")
        let short = try await daemon.request("GET", "/v1/aggregates?device=slots&metric=a&window=1h&from=\(start)&to=\(start + 100_000)")
        #expect(short.status == 200, "a short answer does not stream and is answered")

        stalled.removeAll()  // closes both connections
        var rows = 0
        #expect(try await eventually {
            let answer = try await daemon.request("GET", path)
            rows = (try? answer.json() as? [[String: Any]])?.count ?? 0
            return answer.status == 200 && rows == 40_000
        }, "after the stalled clients left: \(rows) rows")
    }

    @Test func sigtermFlushesEverythingAndExitsZero() async throws {
        let daemon = try await Daemon(name: "sigterm", arguments: [], environment: ["SENSORHUB_STORE_FLUSH_INTERVAL": "1h"])
        defer { daemon.cleanUp() }
        let lines = (0..<500).map { #"{"device":"s-\#($0 % 5)","metric":"m","value":\#($0),"ts":1764165600}"# }
        #expect(try await daemon.post(lines.joined(separator: "\n"), contentType: "application/x-ndjson").status == 202)
        #expect(try await daemon.stop() == 0)
        let output = try await runSensorhub(["query", "--db", daemon.databasePath, "--window", "1h", "--format", "json"])
        let rows = try #require(JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [[String: Any]])
        #expect(rows.count == 5 && rows.allSatisfy { $0["count"] as? Int == 100 }, "\(output.stdout)")
    }
}
