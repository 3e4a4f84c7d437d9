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

    /// Each reading gets its series' slot: numbers 0, 1, … in the order series became
    /// known, the same number every time, and the shard its stable hash picks. Numbers a
    /// refused batch took are given back, so refused names never grow what is indexed by
    /// number.
    @Test func seriesAreNumberedInOrderAndARefusalGivesItsNumbersBack() throws {
        let registry = SeriesRegistry(limits: IngestLimits(maxSeries: 4, maxMetricsPerDevice: 10), shardCount: 3)
        registry.load([SeriesKey(device: "a", metric: "x")])
        let slots = try registry.admit([reading("b", "x"), reading("b", "x"), reading("a", "x"), reading("c", "x"), reading("b", "x")]).get()
        #expect(slots.map(\.index) == [1, 1, 0, 2, 1])
        for (slot, device) in zip(slots, ["b", "b", "a", "c", "b"]) {
            #expect(Int(slot.shard) == Int(SeriesKey(device: device, metric: "x").stableHash % 3))
        }
        #expect(refusal(registry, [reading("d", "x"), reading("e", "x")])?.index == 1)
        #expect(try registry.admit([reading("e", "x")]).get().map(\.index) == [3], "d's number was given back")
        #expect(registry.register([reading("f", "x"), reading("a", "x")]).map(\.index) == [4, 0], "registered past the limit")
    }
}
