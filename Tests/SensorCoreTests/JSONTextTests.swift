import Foundation
import Testing
@testable import SensorCore

@Suite struct JSONTextTests {
    private func record(device: String = "dev-1") -> AggregateRecord {
        var stats = BucketStats()
        stats.add(21.5, at: 1_764_165_600_250_000)
        stats.add(1e-7, at: 1_764_165_601_000_000)
        stats.add(-3.25e12, at: 1_764_165_602_000_000)
        return AggregateRecord(
            series: SeriesKey(device: device, metric: "temp"),
            windowStart: 1_764_165_600_000_000, windowEnd: 1_764_165_660_000_000, stats: stats)
    }

    @Test func rowsRoundTripThroughAnIndependentJSONParser() throws {
        let records = [record(), record(device: "dev-2")]
        let text = JSONText.array(records)
        let decoded = try JSONDecoder().decode([AggregateRecord].self, from: Data(text.utf8))
        #expect(decoded == records)
        let objects = try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
        #expect(Set(objects[0].keys) == Set(AggregateRecord.columns))
        // Sorted values -3.25e12, 1e-7, 21.5: p95 has rank ⌊0.95·2⌋ = 1, i.e. 1e-7, within 1%.
        let p95 = try #require(objects[0]["p95"] as? Double)
        #expect(abs(p95 - 1e-7) <= 1e-9)
        #expect(objects[0]["window_start"] as? String == "2025-11-26T14:00:00Z")
    }

    @Test func percentilesOfBucketsWithoutASketchAreNullNotAbsent() throws {
        // A bucket stored before sketches existed: moments, but no distribution.
        let legacy = BucketStats(count: 2, sum: 3, min: 1, max: 2, mean: 1.5, m2: 0.5,
                                 firstTimestamp: 0, first: 1, lastTimestamp: 1, last: 2)
        let record = AggregateRecord(series: SeriesKey(device: "d", metric: "m"), windowStart: 0, windowEnd: 60_000_000, stats: legacy)
        let objects = try #require(JSONSerialization.jsonObject(with: Data(JSONText.array([record]).utf8)) as? [[String: Any]])
        for key in ["p50", "p90", "p95", "p99"] {
            #expect(objects[0][key] is NSNull, "\(key)")
        }
    }

    @Test func emptyArrayIsBrackets() {
        #expect(JSONText.array([AggregateRecord]()) == "[]")
        #expect(JSONText.array([DeviceRecord]()) == "[]")
    }

    @Test func stringsAreEscaped() throws {
        let text = JSONText.array([DeviceRecord(device: "a\"b\\c\n\u{1}", metrics: ["m"], lastSeen: 0, readings: 3)])
        let decoded = try JSONDecoder().decode([DeviceRecord].self, from: Data(text.utf8))
        #expect(decoded.first?.device == "a\"b\\c\n\u{1}")
        #expect(decoded.first?.lastSeen == "1970-01-01T00:00:00Z")
    }
}
