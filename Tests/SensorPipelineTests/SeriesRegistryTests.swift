import Testing
import SensorCore
@testable import SensorPipeline

@Suite struct SeriesRegistryTests {
    private func reading(_ device: String, _ metric: String) -> Reading {
        Reading(device: device, metric: metric, value: 1, timestamp: 0)
    }

    /// The refusal of a batch, nil when it was admitted.
    private func refusal(_ registry: SeriesRegistry, _ readings: [Reading]) -> DecodeError? {
        if case .failure(let error) = registry.admit(readings) { return error }
        return nil
    }

    @Test func newSeriesAreTakenUpToTheLimitAndARefusedBatchRegistersNothing() {
        let registry = SeriesRegistry(limits: IngestLimits(maxSeries: 3, maxMetricsPerDevice: 10), shardCount: 2)
        registry.load([SeriesKey(device: "a", metric: "x")])
        #expect(refusal(registry, [reading("a", "x"), reading("a", "y"), reading("a", "y"), reading("a", "x")]) == nil)
        #expect(registry.count == 2)
        // b/x fits, c/x would be the fourth: refused at its index, and b/x is not kept.
        let refused = refusal(registry, [reading("a", "x"), reading("b", "x"), reading("b", "x"), reading("c", "x")])
        #expect(refused?.reason == .seriesLimit && refused?.index == 3)
        #expect(registry.count == 2, "nothing of a refused batch is registered")
        #expect(refusal(registry, [reading("b", "x")]) == nil)
        #expect(refusal(registry, [reading("a", "y"), reading("b", "x"), reading("a", "x")]) == nil, "known series never count again")
        #expect(refusal(registry, [reading("d", "x")])?.index == 0)
    }

    @Test func metricsPerDeviceAreLimitedPerDevice() {
        let registry = SeriesRegistry(limits: IngestLimits(maxSeries: 100, maxMetricsPerDevice: 2), shardCount: 1)
        registry.load([SeriesKey(device: "a", metric: "x"), SeriesKey(device: "a", metric: "y")])
        let refused = refusal(registry, [reading("b", "x"), reading("a", "z")])
        #expect(refused?.reason == .seriesLimit && refused?.index == 1)
        #expect(refused?.message.contains("limits.max_metrics_per_device") == true)
        #expect(refusal(registry, [reading("b", "x"), reading("b", "y")]) == nil)
        #expect(refusal(registry, [reading("b", "z")])?.index == 0)
    }

    /// Each reading gets its series' slot: the shard its stable hash picks, and a number
    /// within that shard, 0, 1, … in the order the shard's series became known, the same
    /// every time. Numbers a refused batch took are given back, so refused names never
    /// grow what is indexed by number.
    @Test func seriesAreNumberedInOrderWithinTheirShardAndARefusalGivesItsNumbersBack() throws {
        let shards = 3
        let registry = SeriesRegistry(limits: IngestLimits(maxSeries: 4, maxMetricsPerDevice: 10), shardCount: shards)
        // The numbering, computed apart from the registry.
        var next = [Int32](repeating: 0, count: shards)
        var expected: [String: SeriesSlot] = [:]
        func slot(_ device: String) -> SeriesSlot {
            if let known = expected[device] { return known }
            let shard = Int(SeriesKey(device: device, metric: "x").stableHash % UInt64(shards))
            defer { next[shard] += 1 }
            expected[device] = SeriesSlot(index: next[shard], shard: Int32(shard))
            return expected[device]!
        }
        registry.load([SeriesKey(device: "a", metric: "x")])
        _ = slot("a")
        let devices = ["b", "b", "a", "c", "b"]
        #expect(try registry.admit(devices.map { reading($0, "x") }).get() == devices.map(slot))
        // d would be the fourth series, e the fifth: refused, and d's number given back.
        #expect(refusal(registry, [reading("d", "x"), reading("e", "x")])?.index == 1)
        #expect(try registry.admit([reading("e", "x")]).get() == [slot("e")])
        #expect(registry.register([reading("f", "x"), reading("a", "x")]) == [slot("f"), slot("a")], "registered past the limit")
        // The three shards all took series here, or the test would prove less.
        #expect(Set(expected.values.map(\.shard)).count == shards)
        // Each slot names its series, also after the refusal gave numbers back.
        for (device, slot) in expected where device != "d" {
            #expect(registry.key(of: slot) == SeriesKey(device: device, metric: "x"), "\(device)")
        }
    }
}
