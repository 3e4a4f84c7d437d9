import Foundation
import Testing

/// Event times at the edges: readings too far in the future or older than every retention
/// are refused with a reason and counted; expired buckets are deleted per resolution.
@Suite struct TimeRulesTests {
    private var now: Double { Date().timeIntervalSince1970 }

    private func reading(_ ts: Double, value: Double = 1) -> String {
        #"{"device":"t","metric":"m","value":\#(value),"ts":\#(ts)}"#
    }

    @Test func futureAndTooOldReadingsAreRefusedWithReasonAndIndex() async throws {
        let daemon = try await Daemon(name: "time-rules", environment: [
            "SENSORHUB_PIPELINE_MAX_FUTURE_SKEW": "5m", "SENSORHUB_STORE_RETENTION": "10s=1d,1m=2d,1h=30d",
        ])
        defer { daemon.cleanUp() }
        let future = try await daemon.post("[\(reading(now)),\(reading(now + 3_600))]", contentType: "application/json")
        #expect(future.status == 400)
        let futureBody = try future.json() as? [String: Any]
        #expect(futureBody?["reason"] as? String == "future_ts")
        #expect(futureBody?["index"] as? Int == 1)

        // 31 days old: past the longest retention (30d), no bucket could keep it.
        let old = try await daemon.post("[\(reading(now - 31 * 86_400)),\(reading(now - 40 * 86_400)),\(reading(now))]", contentType: "application/json")
        #expect(old.status == 400)
        let oldBody = try old.json() as? [String: Any]
        #expect(oldBody?["reason"] as? String == "too_late")
        #expect(oldBody?["index"] as? Int == 0)

        // Within the skew and within the retention: taken.
        #expect(try await daemon.post("[\(reading(now + 60)),\(reading(now - 29 * 86_400))]", contentType: "application/json").status == 202)
        let metrics = try await daemon.request("GET", "/metrics").text
        #expect(metricValue(metrics, "sensorhub_readings_late_dropped_total") == 2, "both too-old readings of the refused batch")
        #expect(metricValue(metrics, #"sensorhub_readings_rejected_total{transport="http",reason="future_ts"}"#) == 1)
        #expect(metricValue(metrics, #"sensorhub_readings_rejected_total{transport="http",reason="too_late"}"#) == 1)
        #expect(try await daemon.stop() == 0)
    }

    @Test func retentionDeletesExpiredBucketsOfEachResolutionOnly() async throws {
        let daemon = try await Daemon(name: "retention", environment: [
            "SENSORHUB_STORE_RETENTION": "10s=1d,1m=3d,1h=30d", "SENSORHUB_STORE_FLUSH_INTERVAL": "50ms",
            "SENSORHUB_STORE_RETENTION_INTERVAL": "1s",
        ])
        defer { daemon.cleanUp() }
        // Two days old: past the 10s retention, inside 1m and 1h. One hour old: inside all.
        let twoDays = (now - 2 * 86_400).rounded(.down)
        let recent = (now - 3_600).rounded(.down)
        #expect(try await daemon.post("[\(reading(twoDays, value: 2)),\(reading(recent, value: 5))]", contentType: "application/json").status == 202)
        // Retention passes run 5 s after start, then every second here.
        let deadline = ContinuousClock.now + generousDeadline
        while !daemon.output.contains("retention deleted expired buckets"), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(daemon.output.contains("resolution=10s"), "\(daemon.output)")
        #expect(try await daemon.stop() == 0)
        func counts(_ window: String) async throws -> [Int] {
            let output = try await runSensorhub(["query", "--db", daemon.databasePath, "--window", window, "--format", "json"])
            let rows = try #require(JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [[String: Any]], "\(output.stderr)")
            return rows.map { $0["count"] as? Int ?? -1 }
        }
        #expect(try await counts("10s") == [1], "the two-day-old 10s bucket is gone, the recent one stays")
        #expect(try await counts("1m") == [1, 1], "1m buckets are kept 3 days")
        #expect(try await counts("1h") == [1, 1])
        let devices = try await runSensorhub(["devices", "--db", daemon.databasePath, "--format", "json"])
        let listed = try JSONSerialization.jsonObject(with: Data(devices.stdout.utf8)) as? [[String: Any]]
        #expect(listed?.map { $0["readings"] as? Int } == [2], "retention deletes buckets, not the count of readings taken")
    }
}
