import Testing
import SensorCore
@testable import SensorPipeline

@Suite struct SeriesRegistryTests {
    private func reading(_ device: String, _ metric: String) -> Reading {
        Reading(device: device, metric: metric, value: 1, timestamp: 0)
    }

    @Test func newSeriesAreTakenUpToTheLimitAndARefusedBatchRegistersNothing() {
        let registry = SeriesRegistry(limits: IngestLimits(maxSeries: 3, maxMetricsPerDevice: 10))
        registry.load([SeriesKey(device: "a", metric: "x")])
        #expect(registry.admit([reading("a", "x"), reading("a", "y"), reading("a", "y"), reading("a", "x")]) == nil)
        #expect(registry.count == 2)
        // b/x fits, c/x would be the fourth: refused at its index, and b/x is not kept.
        let refusal = registry.admit([reading("a", "x"), reading("b", "x"), reading("b", "x"), reading("c", "x")])
        #expect(refusal?.reason == .seriesLimit && refusal?.index == 3)
        #expect(registry.count == 2, "nothing of a refused batch is registered")
        #expect(registry.admit([reading("b", "x")]) == nil)
        #expect(registry.admit([reading("a", "y"), reading("b", "x"), reading("a", "x")]) == nil, "known series never count again")
        #expect(registry.admit([reading("d", "x")])?.index == 0)
    }

    @Test func metricsPerDeviceAreLimitedPerDevice() {
        let registry = SeriesRegistry(limits: IngestLimits(maxSeries: 100, maxMetricsPerDevice: 2))
        registry.load([SeriesKey(device: "a", metric: "x"), SeriesKey(device: "a", metric: "y")])
        let refusal = registry.admit([reading("b", "x"), reading("a", "z")])
        #expect(refusal?.reason == .seriesLimit && refusal?.index == 1)
        #expect(refusal?.message.contains("limits.max_metrics_per_device") == true)
        #expect(registry.admit([reading("b", "x"), reading("b", "y")]) == nil)
        #expect(registry.admit([reading("b", "z")])?.index == 0)
    }
}
