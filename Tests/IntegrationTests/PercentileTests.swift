import Foundation
import Testing

/// Percentiles through the real daemon: readings land in 10 s buckets across several
/// flushes (some of them late, into buckets already stored), queries merge the stored
/// sketches, and every p50/p90/p95/p99 is within 1% of the exact quantile of the raw
/// readings of its window.
@Suite struct PercentileTests {
    /// Exact quantile with the sketch's rank convention: the value of rank ⌊q·(n−1)⌋.
    private func exact(_ values: [Double], _ q: Double) -> Double {
        let sorted = values.sorted()
        return sorted[Int((q * Double(sorted.count - 1)).rounded(.down))]
    }

    @Test func percentilesOfMergedStoredBucketsAreWithinOnePercent() async throws {
        let daemon = try await Daemon(name: "percentiles", environment: ["SENSORHUB_STORE_FLUSH_INTERVAL": "50ms"])
        defer { daemon.cleanUp() }
        // 3,000 readings over 10 minutes, log-normal values (a heavy right tail), sent in
        // three passes interleaved in time so later passes merge into stored buckets.
        var random = SystemRandomNumberGenerator()
        let base = 1_764_165_600.0
        var readings: [(ts: Double, value: Double)] = []
        for index in 0..<3_000 {
            let u1 = Double.random(in: Double.ulpOfOne..<1, using: &random), u2 = Double.random(in: 0..<1, using: &random)
            let normal = (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
            readings.append((base + Double(index) * 0.2, exp(1.5 * normal) * (index % 7 == 0 ? -1 : 1)))
        }
        for pass in 0..<3 {
            let part = readings.enumerated().filter { $0.offset % 3 == pass }.map(\.element)
            for chunk in stride(from: 0, to: part.count, by: 250) {
                let items = part[chunk..<min(chunk + 250, part.count)].map {
                    #"{"device":"p","metric":"v","value":\#($0.value),"ts":\#($0.ts)}"#
                }
                #expect(try await daemon.post("[" + items.joined(separator: ",") + "]", contentType: "application/json").status == 202)
            }
            // Stored before the next pass, whose readings then merge into stored buckets.
            _ = try await waitForTotal(daemon, (pass + 1) * 1_000)
        }
        #expect(try await daemon.stop() == 0)

        for window in ["1m", "5m"] {
            let output = try await runSensorhub(["query", "--db", daemon.databasePath, "--window", window, "--format", "json"])
            let rows = try #require(JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [[String: Any]], "\(output.stderr)")
            let seconds = window == "1m" ? 60.0 : 300.0
            #expect(rows.count == Int(600 / seconds))
            for row in rows {
                let start = try #require(ISO8601DateFormatter().date(from: row["window_start"] as! String)).timeIntervalSince1970
                let inside = readings.filter { $0.ts >= start && $0.ts < start + seconds }.map { $0.value }
                #expect(row["count"] as? Int == inside.count)
                for (key, q) in [("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99)] {
                    let estimate = try #require(row[key] as? Double, "\(key) of \(window) window at \(start)")
                    let truth = exact(inside, q)
                    #expect(abs(estimate - truth) <= 0.01 * abs(truth), "\(window) \(key): \(estimate) vs exact \(truth)")
                }
            }
        }
    }
}
