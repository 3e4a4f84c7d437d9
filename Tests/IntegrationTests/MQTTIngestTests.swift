import Foundation
import Testing
import TestProcesses


private func healthMQTT(_ daemon: Daemon) async throws -> String? {
    let body = try await daemon.request("GET", "/healthz").json() as? [String: Any]
    return body?["mqtt"] as? String
}

private func waitForMQTT(_ daemon: Daemon, _ state: String, timeout: Duration = generousDeadline) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await healthMQTT(daemon) != state {
        guard ContinuousClock.now < deadline else {
            Issue.record("MQTT never became \(state):\n\(daemon.output)")
            return
        }
        try await Task.sleep(for: .milliseconds(50))
    }
}

@Suite(.serialized) struct MQTTIngestTests {
    @Test func everyPayloadFormOnEveryTopicFormAtEveryQoS() async throws {
        let broker = try await Broker()
        defer { broker.cleanUp() }
        let daemon = try await Daemon(name: "mqtt-forms", arguments: ["--mqtt-url", broker.url])
        defer { daemon.cleanUp() }
        try await waitForMQTT(daemon, "connected")

        // sensors/<device>/<metric>: bare number, native object without names, SenML without names.
        try await broker.publish("21.5", topic: "sensors/m-1/temp", qos: 0)
        try await broker.publish(#"{"value":22.5,"ts":1764165600}"#, topic: "sensors/m-1/temp", qos: 1)
        try await broker.publish(#"[{"v":23.5,"t":1764165601}]"#, topic: "sensors/m-1/temp", qos: 2)
        // sensors/<device>: native object naming the metric, SenML naming it.
        try await broker.publish(#"{"metric":"hum","value":50,"ts":1764165600}"#, topic: "sensors/m-2", qos: 1)
        try await broker.publish(#"[{"n":"hum","v":52,"t":1764165610}]"#, topic: "sensors/m-2", qos: 1)
        // Self-describing topic: native array, SenML, line protocol.
        try await broker.publish(#"[{"device":"m-3","metric":"a","value":1,"ts":1764165600},{"device":"m-4","metric":"b","value":2,"ts":1764165600}]"#,
                                 topic: "sensors/gw/1/batch", qos: 1)
        try await broker.publish(#"[{"bn":"m-3/","bt":1764165600,"n":"a","v":3},{"n":"a","t":1,"v":4}]"#, topic: "sensors/gw/1/senml", qos: 1)
        try await broker.publish("power,device=m-4 value=5,volts=230 1764165600000000000", topic: "sensors/gw/2/lp", qos: 2)
        // Rejected as a whole: topic names another device; bare numbers where the topic does
        // not name the metric; line protocol on a device topic; not JSON at all.
        try await broker.publish(#"{"device":"other","metric":"temp","value":1}"#, topic: "sensors/m-1/temp")
        try await broker.publish("7", topic: "sensors/m-2")
        try await broker.publish("7", topic: "sensors/gw/1/batch")
        try await broker.publish("power,device=m-2 value=5", topic: "sensors/m-2")
        try await broker.publish("{not json", topic: "sensors/gw/1/batch")

        let result = try await waitForTotal(daemon, 3 + 2 + 2 + 2 + 2)
        #expect(result["m-1/temp"]?.count == 3 && result["m-1/temp"]?.sum == 67.5, "\(result)")
        #expect(result["m-2/hum"]?.count == 2 && result["m-2/hum"]?.sum == 102, "\(result)")
        #expect(result["m-3/a"]?.count == 3 && result["m-3/a"]?.sum == 8, "\(result)")
        #expect(result["m-4/b"]?.count == 1 && result["m-4/b"]?.sum == 2, "\(result)")
        #expect(result["m-4/power"]?.count == 1 && result["m-4/power.volts"]?.sum == 230, "\(result)")
        #expect(result["other/temp"] == nil && result["m-2/power"] == nil)

        // Every counter prints from 0: the values, not the lines, say what was counted.
        let metrics = try await daemon.request("GET", "/metrics").text
        #expect(metricValue(metrics, #"sensorhub_readings_rejected_total{transport="mqtt",reason="topic_mismatch"}"#) == 1)
        #expect(metricValue(metrics, #"sensorhub_readings_rejected_total{transport="mqtt",reason="malformed"}"#) == 4,
                "two bare numbers and line protocol where the topic forbids them, one payload that is not JSON")
        #expect(daemon.output.contains("rejected payload"), "rejections are logged with their topic")
    }

    @Test func startsWithoutABrokerKeepsServingAndConnectsWhenItComes() async throws {
        let port = try FreePort.pick()
        let daemon = try await Daemon(name: "mqtt-late", arguments: ["--mqtt-url", "mqtt://127.0.0.1:\(port)"])
        defer { daemon.cleanUp() }
        #expect(try await healthMQTT(daemon) == "connecting")
        #expect(try await daemon.post(#"{"device":"h","metric":"m","value":1,"ts":1764165600}"#, contentType: "application/json").status == 202)
        #expect(await eventually { daemon.output.contains("connecting to broker failed") }, "each failed attempt is logged")

        let broker = try await Broker(port: port)
        defer { broker.cleanUp() }
        try await waitForMQTT(daemon, "connected")
        try await broker.publish(#"{"value":2,"ts":1764165600}"#, topic: "sensors/late/m")
        let result = try await waitForTotal(daemon, 2)
        #expect(result["late/m"]?.count == 1 && result["h/m"]?.count == 1, "\(result)")
    }

    @Test func garbageAndHugePayloadsAreCountedWhileGoodReadingsFlow() async throws {
        let broker = try await Broker()
        defer { broker.cleanUp() }
        let daemon = try await Daemon(name: "mqtt-junk", arguments: ["--mqtt-url", broker.url])
        defer { daemon.cleanUp() }
        try await waitForMQTT(daemon, "connected")

        let junk = daemon.folder.appendingPathComponent("junk.bin")
        var generator = SystemRandomNumberGenerator()
        try Data((0..<(1 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }).write(to: junk)
        for index in 0..<20 {
            try await broker.publish(#"{"value":\#(index),"ts":1764165600}"#, topic: "sensors/good/m")
            try await broker.publish("garbage \(index)", topic: "sensors/junk/m")
        }
        let output = try await run("/usr/bin/mosquitto_pub", ["-h", "127.0.0.1", "-p", "\(broker.port)", "-q", "1", "-t", "sensors/gw/9/junk", "-f", junk.path])
        #expect(output.status == 0, "\(output.stderr)")
        try await broker.publish(#"{"value":100,"ts":1764165600}"#, topic: "sensors/good/m")

        let result = try await waitForTotal(daemon, 21)
        #expect(result["good/m"]?.count == 21 && result["good/m"]?.sum == Double((0..<20).reduce(0, +) + 100), "\(result)")
        #expect(try await healthMQTT(daemon) == "connected", "junk must not disconnect the client")
    }

    /// mqtt.max_payload: an MQTT 5 broker is told (Maximum Packet Size) and never sends a
    /// larger message; a 3.1.1 broker cannot be told, and the daemon refuses it
    /// (`too_large`). Either way the readings around it are counted.
    @Test(arguments: ["5", "3.1.1"])
    func payloadsLargerThanTheLimitAreNotTaken(protocolVersion: String) async throws {
        let broker = try await Broker()
        defer { broker.cleanUp() }
        let daemon = try await Daemon(name: "mqtt-max-payload", arguments: ["--mqtt-url", broker.url], environment: [
            "SENSORHUB_MQTT_MAX_PAYLOAD": "1KiB", "SENSORHUB_MQTT_PROTOCOL": protocolVersion,
        ])
        defer { daemon.cleanUp() }
        try await waitForMQTT(daemon, "connected")
        // Past the limit plus the 4 KiB allowed for topic and headers.
        let big = "[" + (0..<150).map { #"{"device":"big","metric":"m","value":\#($0),"ts":1764165600}"# }.joined(separator: ",") + "]"
        #expect(big.utf8.count > 1_024 + 4_096)
        try await broker.publish(#"{"value":1,"ts":1764165600}"#, topic: "sensors/small/m")
        try await broker.publish(big, topic: "sensors/gw/1/batch")
        try await broker.publish(#"{"value":2,"ts":1764165600}"#, topic: "sensors/small/m")
        let result = try await waitForTotal(daemon, 2)
        #expect(result["small/m"]?.count == 2 && result["big/m"] == nil, "\(result)")
        let tooLarge = metricValue(try await daemon.request("GET", "/metrics").text, #"sensorhub_readings_rejected_total{transport="mqtt",reason="too_large"}"#)
        #expect(tooLarge == (protocolVersion == "5" ? 0 : 1))
        #expect(try await healthMQTT(daemon) == "connected")
    }

    @Test func messagesPublishedWhileTheDaemonIsDownArriveWhenItReturns() async throws {
        let broker = try await Broker()
        defer { broker.cleanUp() }
        let first = try await Daemon(name: "mqtt-session", arguments: ["--mqtt-url", broker.url])
        try await waitForMQTT(first, "connected")
        #expect(try await first.stop() == 0)
        let database = first.databasePath

        for index in 0..<50 {
            try await broker.publish(#"{"value":\#(index),"ts":1764165600}"#, topic: "sensors/queued/m")
        }
        let second = try await Daemon(name: "mqtt-session-2", arguments: ["--mqtt-url", broker.url], database: database)
        defer {
            second.cleanUp()
            first.cleanUp()
        }
        let result = try await waitForTotal(second, 50)
        #expect(result["queued/m"]?.count == 50 && result["queued/m"]?.sum == Double((0..<50).reduce(0, +)), "\(result)")
    }

    @Test func tinyQueueAndSlowFlusherBackpressureLosesNoQoS1ReadingAndKeepsMemoryFlat() async throws {
        let broker = try await Broker()
        defer { broker.cleanUp() }
        // A 16-reading queue per shard and a flusher slowed by 100 ms per flush, with 3,600
        // buckets open per window against a 3,000-bucket limit: the workers keep waiting
        // for the flusher, the queues stay full, the MQTT thread waits, acknowledgements
        // are delayed and the broker holds the backlog.
        let daemon = try await Daemon(name: "mqtt-backpressure", arguments: ["--mqtt-url", broker.url, "--testing-flush-delay", "100"], environment: [
            "SENSORHUB_PIPELINE_QUEUE_CAPACITY": "16", "SENSORHUB_PIPELINE_SHARDS": "2",
            "SENSORHUB_PIPELINE_MAX_PENDING_BUCKETS": "3000",
        ])
        defer { daemon.cleanUp() }
        try await waitForMQTT(daemon, "connected")
        let url = broker.url
        async let sending = run(Binary.sensorhub.path, [
            "simulate", "--transport", "mqtt", "--mqtt-url", url, "--devices", "240", "--metrics", "5",
            "--count", "100000", "--batch", "10", "--qos", "1", "--seed", "7",
        ], timeout: .seconds(300))
        // Resident memory while the backlog is worked off: it must not grow with it.
        var samples: [Int] = []
        while samples.count < 600 {
            if let bytes = daemon.residentBytes { samples.append(bytes) }
            let counted = try await daemon.request("GET", "/v1/devices").json() as? [[String: Any]] ?? []
            if counted.reduce(0, { $0 + (($1["readings"] as? Int) ?? 0) }) >= 100_000 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let sent = try await sending
        #expect(sent.status == 0 && sent.stdout.contains("acknowledged=100000"), "\(sent.stdout)\(sent.stderr)")
        let result = try await waitForTotal(daemon, 100_000)
        #expect(result.values.reduce(0) { $0 + $1.count } == 100_000, "\(result.count) series")
        #expect(result.count == 1_200)
        let early = samples.prefix(5).max() ?? 0
        let peak = samples.max() ?? 0
        #expect(peak - early < 64 << 20, "resident memory grew from \(early >> 20) MiB to \(peak >> 20) MiB while the broker held the backlog")
    }

    @Test func brokerRestartLosesNoQoS1Reading() async throws {
        let broker = try await Broker()
        defer { broker.cleanUp() }
        let daemon = try await Daemon(name: "mqtt-broker-restart", arguments: ["--mqtt-url", broker.url], environment: [
            "SENSORHUB_MQTT_RECONNECT_MIN": "50ms", "SENSORHUB_MQTT_RECONNECT_MAX": "200ms",
        ])
        defer { daemon.cleanUp() }
        try await waitForMQTT(daemon, "connected")
        // Batches the publisher got acknowledged before the restart, then more after it.
        for round in 0..<2 {
            let sent = try await run(Binary.sensorhub.path, [
                "simulate", "--mqtt-url", broker.url, "--devices", "10", "--metrics", "2", "--count", "5000",
                "--batch", "10", "--qos", "1", "--seed", "\(round + 1)", "--seq", "--prefix", "r\(round)-",
            ])
            #expect(sent.status == 0, "\(sent.stdout)\(sent.stderr)")
            if round == 0 {
                // SIGTERM: mosquitto saves its persistent state, including what it has not
                // delivered to SensorHub's session yet.
                await broker.stop()
                try await waitForMQTT(daemon, "connecting")
                try await broker.start()
                try await waitForMQTT(daemon, "connected")
            }
        }
        let result = try await waitForTotal(daemon, 10_000)
        // A restored session may redeliver messages whose acknowledgement the broker had
        // not recorded; their seq makes them duplicates, so the count is exact.
        let total = result.values.reduce(0) { $0 + $1.count }
        #expect(total == 10_000, "\(total) of 10000 counted")
        #expect(result.count == 40)
    }

    @Test func brokerRestartMidStreamLosesNoAcknowledgedReading() async throws {
        let broker = try await Broker()
        defer { broker.cleanUp() }
        let daemon = try await Daemon(name: "mqtt-midstream", arguments: ["--mqtt-url", broker.url], environment: [
            "SENSORHUB_MQTT_RECONNECT_MIN": "50ms", "SENSORHUB_MQTT_RECONNECT_MAX": "200ms",
        ])
        defer { daemon.cleanUp() }
        try await waitForMQTT(daemon, "connected")
        // About 3 s of publishing; the broker goes down and comes back in the middle.
        let url = broker.url
        async let publishing = run(Binary.sensorhub.path, [
            "simulate", "--mqtt-url", url, "--devices", "10", "--metrics", "2", "--count", "6000",
            "--rate", "2000", "--qos", "1", "--seed", "3", "--seq",
        ], timeout: .seconds(120))
        try await Task.sleep(for: .seconds(1))
        await broker.stop()
        try await Task.sleep(for: .milliseconds(500))
        try await broker.start()
        let sent = try await publishing
        #expect(sent.status == 0 && sent.stdout.contains("acknowledged=6000"), "\(sent.stdout)\(sent.stderr)")
        let result = try await waitForTotal(daemon, 6_000)
        let total = result.values.reduce(0) { $0 + $1.count }
        #expect(total == 6_000, "\(total) of 6000 acknowledged readings counted exactly once")
    }

    @Test func daemonStoppedWhileTheSimulatorPublishesCountsEverythingAfterRestart() async throws {
        let broker = try await Broker()
        defer { broker.cleanUp() }
        let first = try await Daemon(name: "mqtt-stop-midstream", arguments: ["--mqtt-url", broker.url])
        defer { first.cleanUp() }
        try await waitForMQTT(first, "connected")
        let url = broker.url
        async let publishing = run(Binary.sensorhub.path, [
            "simulate", "--mqtt-url", url, "--devices", "10", "--metrics", "2", "--count", "6000",
            "--rate", "3000", "--qos", "1", "--seed", "4", "--seq",
        ], timeout: .seconds(120))
        try await Task.sleep(for: .seconds(1))
        #expect(try await first.stop() == 0)
        let sent = try await publishing
        #expect(sent.status == 0 && sent.stdout.contains("acknowledged=6000"), "\(sent.stdout)\(sent.stderr)")
        // The broker queued the rest for the persistent session.
        let second = try await Daemon(name: "mqtt-stop-midstream-2", arguments: ["--mqtt-url", broker.url], database: first.databasePath)
        defer { second.cleanUp() }
        let result = try await waitForTotal(second, 6_000)
        let total = result.values.reduce(0) { $0 + $1.count }
        #expect(total == 6_000, "\(total) of 6000 acknowledged readings counted exactly once")
    }
}
