import Benchmark
import Foundation
import SensorCore
import SensorStore

/// The store the `query.*` benchmarks read (``QueryFixture``), opened in each one's setup.
let queryStoreFixture = Fixture<SQLiteStore>()

/// The query-performance benchmarks: wall clock of one call each, on the ``QueryFixture``
/// database (generated on first use, then reused from `/tmp`).
func registerQueryBenchmarks() {
    let fixture = QueryFixture.configured
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock],
        warmupIterations: 10, maxDuration: .seconds(10), maxIterations: 2_000)
    let setup: @Sendable () async throws -> Void = {
        queryStoreFixture.set(try await fixture.open())
    }
    let teardown: @Sendable () async throws -> Void = {
        try? await queryStoreFixture.value?.close()
        queryStoreFixture.set(nil)
    }
    // The last day of the measured series (it holds a week).
    let to = String(QueryFixture.end / 1_000_000)
    let from = String((QueryFixture.end - QueryFixture.day) / 1_000_000)
    let device = QueryFixture.measured.device, metric = QueryFixture.measured.metric

    // One series, one day of 10 s buckets as tumbling 10 s windows: 8640 rows.
    Benchmark(
        "query.oneSeries.oneDay.10s", configuration: configuration,
        closure: { benchmark in
            await aggregateIteration(benchmark, try AggregateQuery(
                device: device, metric: metric, window: "10s", step: nil, from: from, to: to), expectedRows: 8_640)
        }, setup: setup, teardown: teardown)

    // Sliding 5 min windows every 10 s over the same day: 8611 windows of 30 buckets each.
    Benchmark(
        "query.sliding.5m.10s.oneDay", configuration: configuration,
        closure: { benchmark in
            await aggregateIteration(benchmark, try AggregateQuery(
                device: device, metric: metric, window: "5m", step: "10s", from: from, to: to), expectedRows: 8_611)
        }, setup: setup, teardown: teardown)

    // The last hour over every series: one 1 h window each (their 1 h buckets).
    let hourAgo = String((QueryFixture.end - QueryFixture.hour) / 1_000_000)
    Benchmark(
        "query.allSeries.1h", configuration: configuration,
        closure: { benchmark in
            await aggregateIteration(benchmark, try AggregateQuery(
                device: nil, metric: nil, window: "1h", step: nil, from: hourAgo, to: to), expectedRows: fixture.seriesCount)
        }, setup: setup, teardown: teardown)

    // Every device with its metrics and totals: all series rows.
    Benchmark(
        "query.devices", configuration: configuration,
        closure: { benchmark in
            guard let store = queryStoreFixture.value else { return benchmark.error("setup did not run") }
            benchmark.startMeasurement()
            let devices: [DeviceSummary]
            do { devices = try await store.devices() } catch { return benchmark.error("devices failed: \(error)") }
            benchmark.stopMeasurement()
            if devices.count != (fixture.seriesCount + 3) / 4 {
                benchmark.error("devices returned \(devices.count) devices, expected \((fixture.seriesCount + 3) / 4)")
            }
            blackHole(devices)
        }, setup: setup, teardown: teardown)
}

/// One timed ``SQLiteStore/aggregates(_:)`` call; the row count is checked after the clock stops.
func aggregateIteration(_ benchmark: Benchmark, _ makeQuery: @autoclosure () throws -> AggregateQuery,
                        expectedRows: Int) async {
    guard let store = queryStoreFixture.value else { return benchmark.error("setup did not run") }
    let query: AggregateQuery
    do { query = try makeQuery() } catch { return benchmark.error("query did not parse: \(error)") }
    benchmark.startMeasurement()
    let rows: [AggregateRow]
    do { rows = try await store.aggregates(query) } catch { return benchmark.error("query failed: \(error)") }
    benchmark.stopMeasurement()
    if rows.count != expectedRows { benchmark.error("query returned \(rows.count) rows, expected \(expectedRows)") }
    blackHole(rows)
}
