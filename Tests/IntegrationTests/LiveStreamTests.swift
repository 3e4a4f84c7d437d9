import Foundation
import Testing

/// Readings as a JSON array body, all in one 10 s bucket a minute ago (start returned).
/// Readings in one 10 s window a minute ago, or in the window at `start` (to add to a
/// window sent before: the clock may have passed a window boundary since).
private func oneBucketOfReadings(_ items: [(device: String, metric: String, value: Double)], at start: Int? = nil) -> (body: String, windowStart: Int) {
    let start = start ?? (Int(Date().timeIntervalSince1970) - 60) / 10 * 10
    let objects = items.enumerated().map { index, item in
        "{\"device\":\"\(item.device)\",\"metric\":\"\(item.metric)\",\"value\":\(item.value),\"ts\":\(start).\(index % 10)}"
    }
    return ("[" + objects.joined(separator: ",") + "]", start)
}

/// POSTs `requests` × 1,000 readings for `devices` series (metric `m`), event times spread
/// over one hour two hours ago, so each flush updates thousands of buckets.
private func postSpreadReadings(_ daemon: Daemon, requests: Int, devices: Int) async throws {
    let base = (Int(Date().timeIntervalSince1970) - 7_200) / 3_600 * 3_600
    for request in 0..<requests {
        let objects = (0..<1_000).map { item -> String in
            let index = request * 1_000 + item
            return "{\"device\":\"dev-\(index % devices)\",\"metric\":\"m\",\"value\":\(index % 97),\"ts\":\(base + index % 3_600)}"
        }
        let answer = try await daemon.post("[" + objects.joined(separator: ",") + "]", contentType: "application/json")
        #expect(answer.status == 202, "request \(request): \(answer.status) \(answer.text)")
    }
}

/// Waits until `/metrics` shows `sensorhub_stream_subscribers` at `expected`.
private func waitForSubscribers(_ daemon: Daemon, _ expected: Int) async throws -> Bool {
    let deadline = ContinuousClock.now + generousDeadline
    while ContinuousClock.now < deadline {
        let metrics = try await daemon.request("GET", "/metrics").text
        if metricValue(metrics, "sensorhub_stream_subscribers") == Double(expected) { return true }
        try await Task.sleep(for: .milliseconds(50))
    }
    return false
}

@Suite(.serialized) struct LiveStreamTests {
    static let fastFlush = ["SENSORHUB_STORE_FLUSH_INTERVAL": "200ms"]

    @Test func serverSentEventsCarryFilteredRowsWithExactStats() async throws {
        let daemon = try await Daemon(name: "sse-rows", environment: Self.fastFlush)
        defer { daemon.cleanUp() }
        let stream = try EventStreamClient(port: daemon.port, query: "?device=kiln-*&metric=temp&resolution=10s")
        #expect(stream.status == 200)
        #expect(stream.headers["content-type"] == "text/event-stream")
        #expect(try await waitForSubscribers(daemon, 1))

        let (body, start) = oneBucketOfReadings([
            ("kiln-1", "temp", 10.5), ("kiln-1", "temp", 20.25), ("kiln-1", "temp", -3),
            ("kiln-1", "rpm", 900), ("oven-1", "temp", 55), ("kiln-2", "temp", 7),
        ])
        #expect(try await daemon.post(body, contentType: "application/json").status == 202)

        let events = try stream.collect(until: .now + generousDeadline) { events in
            Set(events.compactMap { $0.object?["device"] as? String }) == ["kiln-1", "kiln-2"]
        }
        let rows = events.compactMap(\.object)
        #expect(events.allSatisfy { $0.name == "message" })
        // Only the matching device glob, metric and resolution; exact stats of the bucket.
        #expect(rows.allSatisfy { ($0["device"] as? String)?.hasPrefix("kiln-") == true && $0["metric"] as? String == "temp" })
        let kiln1 = try #require(rows.last { $0["device"] as? String == "kiln-1" })
        #expect(kiln1["count"] as? Int == 3)
        #expect(kiln1["sum"] as? Double == 27.75)
        #expect(kiln1["min"] as? Double == -3)
        #expect(kiln1["max"] as? Double == 20.25)
        #expect(kiln1["first"] as? Double == 10.5)
        #expect(kiln1["last"] as? Double == -3)
        let startText = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(start)))
        let endText = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(start + 10)))
        #expect(kiln1["window_start"] as? String == startText)
        #expect(kiln1["window_end"] as? String == endText)
        #expect(abs(try #require(kiln1["p50"] as? Double) - 10.5) <= 0.105)

        // A second flush for the same bucket sends it again, merged: stored state, not a delta.
        let (more, _) = oneBucketOfReadings([("kiln-1", "temp", 1)], at: start)
        #expect(try await daemon.post(more, contentType: "application/json").status == 202)
        let updated = try stream.collect(until: .now + generousDeadline) { events in
            events.contains { $0.object?["count"] as? Int == 4 }
        }
        let merged = try #require(updated.compactMap(\.object).last)
        #expect(merged["sum"] as? Double == 28.75)
    }

    @Test func webSocketCarriesRowsAndClosingUnsubscribes() async throws {
        let daemon = try await Daemon(name: "ws-rows", environment: Self.fastFlush)
        defer { daemon.cleanUp() }
        let socket = try WebSocketTestClient(port: daemon.port, query: "?device=press&resolution=1m")
        #expect(socket.status == 101)
        #expect(try await waitForSubscribers(daemon, 1))

        let (body, _) = oneBucketOfReadings([("press", "bar", 2), ("press", "bar", 4), ("other", "bar", 9)])
        #expect(try await daemon.post(body, contentType: "application/json").status == 202)
        let text = try #require(try socket.nextText(deadline: .now + generousDeadline))
        let row = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(row["device"] as? String == "press")
        #expect(row["count"] as? Int == 2)
        #expect(row["mean"] as? Double == 3)
        let start = try #require(ISO8601DateFormatter().date(from: row["window_start"] as? String ?? ""))
        let end = try #require(ISO8601DateFormatter().date(from: row["window_end"] as? String ?? ""))
        #expect(end.timeIntervalSince(start) == 60, "only 1m buckets were asked for")

        try socket.close()
        #expect(try await waitForSubscribers(daemon, 0), "the subscription must go when the client closes")
    }

    @Test func clientsThatDisconnectAreUnsubscribedAtOnce() async throws {
        let daemon = try await Daemon(name: "sse-disconnect", environment: Self.fastFlush)
        defer { daemon.cleanUp() }
        var streams = try (0..<3).map { _ in try EventStreamClient(port: daemon.port, query: "") }
        #expect(try await waitForSubscribers(daemon, 3))
        streams[0].connection.shutdownWrite()
        #expect(try await waitForSubscribers(daemon, 2))
        streams.removeAll()  // closes the sockets
        #expect(try await waitForSubscribers(daemon, 0))
    }

    @Test func badFiltersAreRefusedAndTheTokenMayComeAsAQueryParameter() async throws {
        let daemon = try await Daemon(name: "sse-token", environment: ["SENSORHUB_HTTP_TOKEN": "s3cret"])
        defer { daemon.cleanUp() }
        let authorized = ["Authorization": "Bearer s3cret"]
        let bad = try await daemon.request("GET", "/v1/stream?resolution=7s", headers: authorized)
        #expect(bad.status == 400)
        #expect(bad.text.contains("7s") && bad.text.contains("10s,1m,1h"), "\(bad.text)")
        #expect(try EventStreamClient(port: daemon.port, query: "").status == 401)
        #expect(try EventStreamClient(port: daemon.port, query: "?access_token=wrong").status == 401)
        #expect(try EventStreamClient(port: daemon.port, query: "?access_token=s3cret").status == 200)
        #expect(try WebSocketTestClient(port: daemon.port, query: "?access_token=s3cret").status == 101)
        #expect(try WebSocketTestClient(port: daemon.port, query: "").status == 401)
        #expect(try WebSocketTestClient(port: daemon.port, query: "?access_token=wrong").status == 401)
        let unauthorized = try await daemon.request("GET", "/metrics", headers: authorized).text
        #expect(metricValue(unauthorized, #"sensorhub_readings_rejected_total{transport="http",reason="unauthorized"}"#) == 4, "two streams and two upgrades refused")
        // The query token is for the streaming routes only.
        #expect(try await daemon.request("GET", "/v1/devices?access_token=s3cret").status == 401)
    }

    @Test func subscribersPastTheLimitAreRefusedWith503() async throws {
        let daemon = try await Daemon(name: "sse-limit", environment: ["SENSORHUB_HTTP_MAX_STREAMS": "2"])
        defer { daemon.cleanUp() }
        let kept = try (0..<2).map { _ in try EventStreamClient(port: daemon.port, query: "") }
        #expect(kept.allSatisfy { $0.status == 200 })
        let refused = try EventStreamClient(port: daemon.port, query: "")
        #expect(refused.status == 503)
        #expect(refused.headers["retry-after"] == "5")
    }

    /// Shutdown must not wait for a client that stopped reading: its stream is cancelled.
    /// A stream blocked on the stalled socket would hold the shutdown until the watchdog's
    /// deadline (60 s in tests) and exit 1; how fast it is on a busy machine is not the point.
    @Test func sigtermWithAStalledSubscriberStillExitsZero() async throws {
        let daemon = try await Daemon(name: "sse-stalled-stop", environment: Self.fastFlush)
        defer { daemon.cleanUp() }
        let stalled = try EventStreamClient(port: daemon.port, query: "", receiveBuffer: 2_048)
        #expect(try await waitForSubscribers(daemon, 1))
        try await postSpreadReadings(daemon, requests: 40, devices: 200)
        // Flushes fill the stalled client's socket until its buffer overflows.
        let stalledForReal = try await eventually {
            metricValue(try await daemon.request("GET", "/metrics").text, "sensorhub_stream_dropped_updates_total") ?? 0 > 0
        }
        #expect(stalledForReal, "the client must really be stalled")
        #expect(try await daemon.stop() == 0, "\(daemon.output)")
        _ = stalled
    }

    /// A client that stops reading: ingest goes on at full speed (no 503, every reading
    /// counted), the client's buffer overflows, and when it reads again it is told how
    /// many updates it lost before the newest ones.
    @Test func stalledSubscriberDoesNotHoldUpIngestAndIsToldItLagged() async throws {
        let daemon = try await Daemon(
            name: "sse-stalled", environment: Self.fastFlush.merging(["SENSORHUB_HTTP_STREAM_BUFFER": "256"]) { $1 })
        defer { daemon.cleanUp() }
        let stalled = try EventStreamClient(port: daemon.port, query: "", receiveBuffer: 4_096)
        #expect(try await waitForSubscribers(daemon, 1))

        // 100,000 readings over 500 series: every flush updates thousands of buckets.
        try await postSpreadReadings(daemon, requests: 100, devices: 500)
        let stored = try await waitForTotal(daemon, 100_000)
        #expect(stored.values.reduce(0) { $0 + $1.count } == 100_000)
        // The daemon answers readings before it flushes them: wait for the flushes, whose
        // published buckets are what the subscriber loses.
        #expect(try await waitForFlushedTotal(daemon, 100_000) == 100_000)

        // Reading again: the lagged notices (one each time the server took from an
        // overflowed buffer, the first ones while the socket still had room) account for
        // every update dropped for this, the only, subscriber. The flush that stored the
        // last readings publishes them just after its commit, so the dropped count may
        // still grow a little after the totals are complete: read until the notices and
        // the counter agree and the counter stays put.
        func lost(_ events: [ServerSentEvent]) -> Int {
            events.filter { $0.name == "lagged" }.reduce(0) { $0 + ($1.object?["dropped"] as? Int ?? 0) }
        }
        func dropped() async throws -> Int {
            Int(metricValue(try await daemon.request("GET", "/metrics").text, "sensorhub_stream_dropped_updates_total") ?? 0)
        }
        var events: [ServerSentEvent] = []
        var settled = 0
        let deadline = ContinuousClock.now + generousDeadline
        while ContinuousClock.now < deadline {
            let target = try await dropped()
            let earlier = events
            events += try stalled.collect(until: deadline) { lost(earlier + $0) >= target }
            settled = try await dropped()
            if settled == target, lost(events) == target { break }
        }
        #expect(settled > 0, "the stalled subscriber's buffer must have overflowed")
        #expect(lost(events) == settled)
        let after = try await daemon.request("GET", "/metrics").text
        #expect(metricValue(after, "sensorhub_stream_lagged_events_total") == Double(events.filter { $0.name == "lagged" }.count))
    }
}
