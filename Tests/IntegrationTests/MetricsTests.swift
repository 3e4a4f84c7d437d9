import Foundation
import Testing

/// `/metrics` through the real daemon and broker: every family the operators' monitoring
/// relies on is present, with the values this test's own traffic must have produced.
@Suite struct MetricsTests {
    @Test func metricsCountWhatTheDaemonDid() async throws {
        let broker = try await Broker()
        defer { broker.cleanUp() }
        let daemon = try await Daemon(
            name: "metrics", arguments: ["--mqtt-url", broker.url],
            environment: ["SENSORHUB_STORE_FLUSH_INTERVAL": "200ms", "SENSORHUB_PIPELINE_SHARDS": "2"])
        defer { daemon.cleanUp() }
        let now = Int(Date().timeIntervalSince1970) - 30

        // HTTP: 3 JSON readings (one a duplicate by seq), 2 line-protocol readings, one bad
        // item, one reading far in the future and one older than every retention.
        let json = """
            [{"device":"m-1","metric":"t","value":1,"ts":\(now),"seq":1},
             {"device":"m-1","metric":"t","value":2,"ts":\(now),"seq":2},
             {"device":"m-1","metric":"t","value":2,"ts":\(now),"seq":2}]
            """
        #expect(try await daemon.post(json, contentType: "application/json").status == 202)
        let line = "lab,device=m-2 t=3,h=4 \(now)000000000"
        #expect(try await daemon.post(line, contentType: "text/plain").status == 202)
        #expect(try await daemon.post(#"{"device":"m-1","metric":"t","value":"x","ts":1}"#, contentType: "application/json").status == 400)
        #expect(try await daemon.post(#"{"device":"m-1","metric":"t","value":1,"ts":\#(now + 86_400)}"#, contentType: "application/json").status == 400)
        #expect(try await daemon.post(#"{"device":"m-1","metric":"t","value":1,"ts":1000000000}"#, contentType: "application/json").status == 400)
        // MQTT: 40 readings from the simulator.
        let simulated = try await runSensorhub([
            "simulate", "--mqtt-url", broker.url, "--devices", "2", "--metrics", "2", "--count", "40", "--qos", "1",
        ])
        #expect(simulated.status == 0, "\(simulated.stderr)")

        var metrics = ""
        let deadline = ContinuousClock.now + generousDeadline
        while ContinuousClock.now < deadline {
            metrics = try await daemon.request("GET", "/metrics").text
            if metricValue(metrics, #"sensorhub_readings_ingested_total{transport="mqtt",format="json"}"#) == 40,
               metricValue(metrics, "sensorhub_ingest_to_flush_seconds_count") ?? 0 >= 1 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let expected: [(String, Double)] = [
            // Counted readings: the duplicate is counted apart.
            (#"sensorhub_readings_ingested_total{transport="http",format="json"}"#, 2),
            (#"sensorhub_readings_ingested_total{transport="http",format="line_protocol"}"#, 2),
            (#"sensorhub_readings_ingested_total{transport="mqtt",format="json"}"#, 40),
            (#"sensorhub_readings_rejected_total{transport="http",reason="invalid_value"}"#, 1),
            (#"sensorhub_readings_rejected_total{transport="http",reason="future_ts"}"#, 1),
            (#"sensorhub_readings_rejected_total{transport="http",reason="too_late"}"#, 1),
            ("sensorhub_readings_duplicate_total", 1),
            ("sensorhub_readings_late_dropped_total", 1),
            (#"sensorhub_queue_capacity{shard="0"}"#, 131_072),
            (#"sensorhub_queue_capacity{shard="1"}"#, 131_072),
            (#"sensorhub_queue_depth{shard="0"}"#, 0),
            ("sensorhub_mqtt_connected", 1),
            ("sensorhub_mqtt_reconnects_total", 0),
            ("sensorhub_stream_subscribers", 0),
            ("sensorhub_stream_lagged_events_total", 0),
        ]
        for (sample, value) in expected {
            #expect(metricValue(metrics, sample) == value, "\(sample)\n\(metrics)")
        }
        // Present, with values only this run's timing decides.
        for sample in [
            #"sensorhub_open_buckets{shard="0"}"#, #"sensorhub_open_buckets{shard="1"}"#,
            #"sensorhub_journal_bytes{shard="0"}"#, "sensorhub_flush_duration_seconds_count",
            "sensorhub_ingest_to_flush_seconds_count", "sensorhub_buckets_written_total",
        ] {
            #expect(metricValue(metrics, sample) != nil, "\(sample) missing\n\(metrics)")
        }
        #expect(metricValue(metrics, "sensorhub_ingest_to_flush_seconds_count") ?? 0 >= 1)
        #expect(metrics.contains(#"sensorhub_ingest_to_flush_seconds_bucket{le="+Inf"}"#))
        #expect(metrics.contains(#"sensorhub_flush_duration_seconds_bucket{le="+Inf"}"#))

        // Journal bytes as of the last flush: once a flush came after the last reading
        // (one comes every 200 ms; the wait above may end before it), exactly what the
        // segment files of each shard hold on disk.
        let journal = URL(fileURLWithPath: daemon.databasePath + ".journal")
        for shard in 0..<2 {
            let folder = journal.appendingPathComponent("shard-\(shard)")
            var onDisk = 0
            var reported: Double?
            let matched = try await eventually {
                let sizes = try FileManager.default.contentsOfDirectory(atPath: folder.path).map {
                    try FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent($0).path)[.size] as? Int ?? 0
                }
                onDisk = sizes.reduce(0, +)
                reported = metricValue(try await daemon.request("GET", "/metrics").text, "sensorhub_journal_bytes{shard=\"\(shard)\"}")
                return reported == Double(onDisk)
            }
            #expect(onDisk > 0, "shard \(shard) took readings, so its open segment holds records")
            #expect(matched, "shard \(shard): \(String(describing: reported)) reported, \(onDisk) bytes on disk")
        }
    }
}
