import Foundation
import Testing

/// CONTRACT §7 through the real binary: rules judged on closed windows, alerts fired and
/// resolved once each, webhooks retried until a 2xx (also across a restart), MQTT actions,
/// and forwarded buckets exact and once each across a kill -9.
///
/// Windows close by the wall clock, so the tests use 1 s windows, 200 ms flushes and 500 ms
/// of lateness, and readings stamped a few seconds ahead of now (within the future skew).
@Suite struct RulesTests {
    /// The webhook timeout stays generous: a receiver in this busy test process that
    /// answers a POST after the timeout gets it again (delivery is at least once), and the
    /// tests count deliveries exactly.
    static let fastWindows = """
        store: {resolutions: [1s, 10s, 1m, 1h], flush_interval: 200ms}
        alerts: {lateness: 500ms, retry_min: 100ms, retry_max: 400ms, webhook_timeout: 5s}

        """

    static func configFile(_ yaml: String) throws -> (path: String, folder: URL) {
        let folder = try temporaryFolder("rules-config")
        let path = folder.appendingPathComponent("sensorhub.yaml").path
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: path))
        return (path, folder)
    }

    /// A whole second a few seconds ahead of now, as Unix seconds: readings stamped from
    /// there on arrive before their windows close, also on a slow, loaded machine.
    static func soon() -> Int { Int(Date().timeIntervalSince1970) + 5 }

    static func readings(_ device: String, _ values: [(second: Int, value: Double)]) -> String {
        "[" + values.map { #"{"device":"\#(device)","metric":"temp","value":\#($0.value),"ts":\#($0.second)}"# }.joined(separator: ",") + "]"
    }

    static func rfc3339(_ seconds: Int) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    static func alert(_ rule: String, _ device: String, _ state: String, since: Int, value: Double) -> String {
        #"{"rule":"\#(rule)","device":"\#(device)","metric":"temp","state":"\#(state)","since":"\#(rfc3339(since))","value":\#(value)}"#
    }

    /// `for: 2` fires at the second hot window in a row and resolves at the first cool one,
    /// each exactly once; the webhook fails twice and then gets both in order; a late
    /// reading that would have made a judged window hot changes nothing; live subscribers
    /// get `alert` events; `/v1/alerts`, `sensorhub alerts` and /metrics agree.
    @Test func aRuleFiresAndResolvesOnceEachThroughAWebhookThatFailsTwice() async throws {
        let receiver = try await WebhookReceiver(failFirst: 2)
        defer { receiver.cleanUp() }
        let config = try Self.configFile(Self.fastWindows + """
            rules:
              - {name: hot, device: "gh-*", metric: temp, resolution: 1s, stat: mean, op: ">", threshold: 30, for: 2, webhook: "\(receiver.url)"}
              - {name: marker, device: "marker-*", metric: temp, resolution: 1s, stat: count, op: ">=", threshold: 1}
            """)
        defer { try? FileManager.default.removeItem(at: config.folder) }
        let daemon = try await Daemon(name: "rules-webhook", arguments: ["--config", config.path])
        defer { daemon.cleanUp() }
        let stream = try EventStreamClient(port: daemon.port, query: "?device=gh-*")

        let t = Self.soon()
        // Means per 1 s window: 35, 35, 35 (fires at the second), 20 (resolves), 40, 20 (one hot window: nothing).
        let body = Self.readings("gh-1", [(t, 34), (t, 36), (t + 1, 35), (t + 2, 35), (t + 3, 20), (t + 4, 40), (t + 5, 20)])
        #expect(try await daemon.post(body, contentType: "application/json").status == 202)
        let fired = Self.alert("hot", "gh-1", "firing", since: t, value: 35)
        let resolved = Self.alert("hot", "gh-1", "resolved", since: t + 3, value: 20)
        #expect(await eventually { receiver.delivered.count >= 2 }, "\(receiver.posts) \(daemon.output)")
        #expect(receiver.delivered == [fired, resolved])
        #expect(receiver.posts.map(\.ok) == [false, false, true, true], "two failures, then each transition once")

        // The marker fires once every window up to its own was judged: t + 5 made no alert.
        // Stamped no earlier than soon(): on a loaded machine the deliveries above can take
        // past t + 6's close, and a marker in a window already judged would never fire.
        let marker = max(t + 6, Self.soon())
        #expect(try await daemon.post(Self.readings("marker-1", [(marker, 1)]), contentType: "application/json").status == 202)
        #expect(try await eventually { try await daemon.request("GET", "/v1/alerts?rule=marker").text.contains("firing") }, "\(daemon.output)")
        // Late: t + 4 and t + 5 would now both be hot, but t + 5 was judged already.
        #expect(try await daemon.post(Self.readings("gh-1", [(t + 5, 100)]), contentType: "application/json").status == 202)
        #expect(try await daemon.post(Self.readings("marker-2", [(Self.soon(), 1)]), contentType: "application/json").status == 202)
        #expect(try await eventually { try await daemon.request("GET", "/v1/alerts?device=marker-2").text.contains("firing") }, "\(daemon.output)")
        #expect(receiver.delivered == [fired, resolved], "the late reading re-judged nothing")

        let listed = try await daemon.request("GET", "/v1/alerts?rule=hot")
        #expect(listed.text == "[\(resolved)]")
        #expect(try await daemon.request("GET", "/v1/alerts?state=firing&rule=hot").text == "[]")
        #expect(try await daemon.request("GET", "/v1/alerts?state=open").status == 400)
        let cli = try await daemon.cli(["alerts", "--format", "json", "--rule", "hot"])
        #expect(cli.status == 0 && cli.stdout == "[\(resolved)]\n", "\(cli.stderr)")
        let table = try await daemon.cli(["alerts", "--state", "firing"])
        #expect(table.stdout.contains("marker") && !table.stdout.contains("hot"), "\(table.stdout)")

        let events = try stream.collect(until: .now + generousDeadline) { $0.filter { $0.name == "alert" }.count >= 2 }
        #expect(events.filter { $0.name == "alert" }.map(\.data) == [fired, resolved])

        let metrics = try await daemon.request("GET", "/metrics").text
        #expect(metricValue(metrics, #"sensorhub_alert_transitions_total{rule="hot",state="firing"}"#) == 1)
        #expect(metricValue(metrics, #"sensorhub_alert_transitions_total{rule="hot",state="resolved"}"#) == 1)
        #expect(metricValue(metrics, #"sensorhub_delivery_failures_total{rule="hot",action="webhook"}"#) == 2)
        #expect(metricValue(metrics, #"sensorhub_deliveries_total{rule="hot",action="webhook"}"#) == 2)
        #expect(metricValue(metrics, #"sensorhub_alerts_firing{rule="hot"}"#) == 0)
        #expect(try await daemon.stop() == 0)
        #expect(try await daemon.cli(["alerts", "--db", daemon.databasePath, "--format", "csv", "--rule", "hot"]).stdout
            == "rule,device,metric,state,since,value\nhot,gh-1,temp,resolved,\(Self.rfc3339(t + 3)),20.0\n")
    }

    /// A series silent for the `absent` duration fires once, and resolves when it is heard from.
    @Test func anAbsentRuleFiresOnSilenceAndResolvesOnTheNextReading() async throws {
        let config = try Self.configFile(Self.fastWindows + """
            rules:
              - {name: silent, device: "pump-*", metric: temp, absent: 2s}
            """)
        defer { try? FileManager.default.removeItem(at: config.folder) }
        let daemon = try await Daemon(name: "rules-absent", arguments: ["--config", config.path])
        defer { daemon.cleanUp() }
        // The next whole second: after the daemon started, so the silence counts from this reading.
        let t = Int(Date().timeIntervalSince1970) + 1
        #expect(try await daemon.post(Self.readings("pump-1", [(t, 5)]), contentType: "application/json").status == 202)
        #expect(try await eventually { try await daemon.request("GET", "/v1/alerts").text.contains("firing") })
        #expect(try await daemon.request("GET", "/v1/alerts").text == "[\(Self.alert("silent", "pump-1", "firing", since: t + 2, value: Double(t)))]")
        // Stamped a minute ahead, so the series stays heard from however slowly the test runs.
        let later = Int(Date().timeIntervalSince1970) + 60
        #expect(try await daemon.post(Self.readings("pump-1", [(later, 6)]), contentType: "application/json").status == 202)
        #expect(try await eventually { try await daemon.request("GET", "/v1/alerts").text.contains("resolved") })
        #expect(try await daemon.request("GET", "/v1/alerts").text == "[\(Self.alert("silent", "pump-1", "resolved", since: later, value: Double(later)))]")
        let metrics = try await daemon.request("GET", "/metrics").text
        #expect(metricValue(metrics, #"sensorhub_alert_transitions_total{rule="silent",state="firing"}"#) == 1)
        #expect(metricValue(metrics, #"sensorhub_alert_transitions_total{rule="silent",state="resolved"}"#) == 1)
    }

    /// A webhook that is down while the alert fires and while the daemon restarts gets it
    /// once it is back: the delivery waited in the database, and the restart neither lost
    /// nor repeated the transition.
    @Test func aWebhookDownAcrossARestartGetsTheAlertOnceWhenItIsBack() async throws {
        let receiver = try await WebhookReceiver(startNow: false)
        defer { receiver.cleanUp() }
        let config = try Self.configFile(Self.fastWindows + """
            rules:
              - {name: hot, metric: temp, resolution: 1s, stat: max, op: ">=", threshold: 50, webhook: "\(receiver.url)"}
            """)
        defer { try? FileManager.default.removeItem(at: config.folder) }
        var daemon = try await Daemon(name: "rules-down", arguments: ["--config", config.path])
        defer { daemon.cleanUp() }
        let t = Self.soon()
        #expect(try await daemon.post(Self.readings("boiler", [(t, 55)]), contentType: "application/json").status == 202)
        #expect(try await eventually {
            metricValue(try await daemon.request("GET", "/metrics").text, #"sensorhub_delivery_failures_total{rule="hot",action="webhook"}"#) ?? 0 >= 2
        })
        #expect(try await daemon.stop() == 0)
        daemon = try await Daemon(name: "rules-down", arguments: ["--config", config.path], database: daemon.databasePath)
        try await receiver.start()
        let fired = Self.alert("hot", "boiler", "firing", since: t, value: 55)
        #expect(await eventually { !receiver.delivered.isEmpty }, "\(daemon.output)")
        // Another alert through the same webhook: once it arrived, the first is not coming again.
        let u = Self.soon()
        #expect(try await daemon.post(Self.readings("kettle", [(u, 60)]), contentType: "application/json").status == 202)
        #expect(await eventually { receiver.delivered.count >= 2 })
        #expect(receiver.delivered == [fired, Self.alert("hot", "kettle", "firing", since: u, value: 60)])
        #expect(try await daemon.request("GET", "/v1/alerts?device=boiler").text == "[\(fired)]")
    }

    /// Every closed 1 s bucket forwarded as its contract row exactly once, and an alert's
    /// transitions published to its topic template, across a kill -9 while windows keep
    /// closing (those that close while the daemon is down are forwarded after the restart,
    /// from the committed position). Delivery is at least once: a kill between a PUBACK and
    /// the delete of its outbox row would send that page again, so the kill is timed
    /// between two publications; what this proves is that positions and the outbox make a
    /// restart continue without gaps or repeats.
    @Test func forwardedRowsAndMQTTAlertsArriveOnceEachAcrossAKill() async throws {
        let broker = try await Broker()
        defer { broker.cleanUp() }
        let recorder = try await TopicRecorder(broker: broker, filter: "out/#")
        defer { recorder.cleanUp() }
        let config = try Self.configFile(Self.fastWindows + """
            rules:
              - {name: hot, device: "fw-*", metric: temp, resolution: 1s, stat: max, op: ">", threshold: 100, mqtt: "out/alerts/{rule}/{device}"}
            forward: {topic: "out/agg/{device}/{metric}/{resolution}", resolutions: [1s]}
            """)
        defer { try? FileManager.default.removeItem(at: config.folder) }
        let arguments = ["--config", config.path, "--mqtt-url", broker.url]
        var daemon = try await Daemon(name: "rules-forward", arguments: arguments)
        defer { daemon.cleanUp() }

        // Ten 1 s windows for two devices, all acknowledged up front; fw-1 is hot at t + 2.
        let t = Self.soon()
        let windows = 10
        var values: [String: [Int: Double]] = ["fw-1": [:], "fw-2": [:]]
        for index in 0..<windows {
            values["fw-1"]![t + index] = index == 2 ? 150 : Double(10 + index)
            values["fw-2"]![t + index] = Double(20 + index)
        }
        for (device, series) in values {
            let body = Self.readings(device, series.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
            #expect(try await daemon.post(body, contentType: "application/json").status == 202)
        }
        func rows() -> [(topic: String, row: [String: Any])] {
            recorder.messages.filter { $0.topic.hasPrefix("out/agg/") }.map {
                ($0.topic, (try? JSONSerialization.jsonObject(with: Data($0.payload.utf8)) as? [String: Any]) ?? [:])
            }
        }
        // Kill once window t + 2 was forwarded, early in a second: windows close at the
        // second plus 500 ms of lateness, so no page is being published then.
        #expect(await eventually { rows().contains { $0.row["window_start"] as? String == Self.rfc3339(t + 2) } })
        #expect(await eventually(every: .milliseconds(5)) {
            let fraction = Date().timeIntervalSince1970.truncatingRemainder(dividingBy: 1)
            return fraction > 0.05 && fraction < 0.3
        })
        try await daemon.kill9()
        daemon = try await Daemon(name: "rules-forward", arguments: arguments, database: daemon.databasePath)

        let expected = windows * 2
        #expect(await eventually { rows().count >= expected && rows().contains { $0.row["window_start"] as? String == Self.rfc3339(t + windows - 1) } },
                "\(rows().count) rows; \(daemon.output)")
        let forwarded = rows()
        #expect(forwarded.count == expected, "each bucket once: \(forwarded.map(\.topic))")
        for (device, series) in values {
            for (second, value) in series {
                let matching = forwarded.filter { $0.topic == "out/agg/\(device)/temp/1s" && $0.row["window_start"] as? String == Self.rfc3339(second) }
                #expect(matching.count == 1, "\(device) at \(second)")
                let row = matching.first?.row ?? [:]
                #expect(row["device"] as? String == device && row["window_end"] as? String == Self.rfc3339(second + 1))
                #expect(row["count"] as? Int == 1 && row["sum"] as? Double == value && row["p50"] as? Double == value)
            }
        }
        let alerts = recorder.messages.filter { $0.topic.hasPrefix("out/alerts/") }
        #expect(alerts.map(\.topic) == ["out/alerts/hot/fw-1", "out/alerts/hot/fw-1"])
        #expect(alerts.map(\.payload) == [
            Self.alert("hot", "fw-1", "firing", since: t + 2, value: 150), Self.alert("hot", "fw-1", "resolved", since: t + 3, value: 13),
        ])
        let metrics = try await daemon.request("GET", "/metrics").text
        #expect(metricValue(metrics, "sensorhub_deliveries_queued") == 0)
    }
}
