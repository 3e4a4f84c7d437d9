import Foundation
import Logging
import Testing
import SensorCore
import SensorStore
@testable import SensorPipeline

/// Queries through ``FreshAggregateReader`` answer readings as soon as they are aggregated:
/// the same rows the store gives once they are flushed, never counted twice while a flush
/// commits. The pipeline flushes on its own (a burst of 1,000 readings or more, once quiet;
/// its write held back by `flushDelay`): flushes must not overlap, so the tests never
/// start one themselves while it runs.
@Suite struct FreshAggregateReaderTests {
    let resolutions = [try! Resolution(parsing: "10s"), try! Resolution(parsing: "1m")]
    /// The start of the hour before this one: recent, so retention keeps it.
    let base = (WallClock.microseconds() / 3_600_000_000 - 1) * 3_600_000_000

    private func total(_ rows: [AggregateRow]) -> Int64 { rows.reduce(0) { $0 + $1.stats.count } }

    /// Waits (generously) until the fresh answer counts `count` readings: the workers
    /// aggregate what was accepted in their own time.
    private func waitForCount(_ count: Int64, _ reader: any AggregateReader, _ query: AggregateQuery) async throws -> [AggregateRow] {
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            let rows = try await reader.aggregates(query)
            if total(rows) >= count || ContinuousClock.now > deadline { return rows }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Every field of every row alike, the moments to rounding (the same buckets merged
    /// in another order).
    private func expectSameRows(_ got: [AggregateRow], _ expected: [AggregateRow], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(got.map(\.series) == expected.map(\.series), sourceLocation: sourceLocation)
        #expect(got.map(\.windowStart) == expected.map(\.windowStart), sourceLocation: sourceLocation)
        for (a, b) in zip(got, expected) {
            let same = a.stats.count == b.stats.count && a.stats.min == b.stats.min && a.stats.max == b.stats.max
                && a.stats.first == b.stats.first && a.stats.last == b.stats.last
                && abs(a.stats.sum - b.stats.sum) <= 1e-9 * max(1, abs(b.stats.sum))
                && abs(a.stats.m2 - b.stats.m2) <= 1e-9 * max(1, abs(b.stats.m2))
                && a.percentiles == b.percentiles
            #expect(same, "\(a.series) at \(a.windowStart): \(a.stats) vs \(b.stats)", sourceLocation: sourceLocation)
        }
    }

    /// Rows computed from the readings themselves, tumbling windows of `window` µs.
    private func expectedRows(_ readings: [Reading], window: Int64) -> [AggregateRow] {
        var buckets: [SeriesKey: [Int64: BucketStats]] = [:]
        for reading in readings {
            buckets[reading.series, default: [:]][reading.timestamp / window * window, default: BucketStats()].add(reading.value, at: reading.timestamp)
        }
        return buckets.sorted { UnflushedGroups.precedes($0.key, $1.key) }.flatMap { series, windows in
            windows.sorted { $0.key < $1.key }.map {
                AggregateRow(series: series, windowStart: $0.key, windowEnd: $0.key + window, stats: $0.value.withoutSketch, percentiles: $0.value.percentiles)
            }
        }
    }

    /// The answers while the burst's flush is held back (a second) and once it is stored.
    @Test func readingsAreAnsweredBeforeTheirFlushAndOnceAfterIt() async throws {
        // Flushes every 10 s, and after a burst once quiet, at least 1 s after the last one.
        let (pipeline, store, runner, directory) = try await startPipeline(resolutions, flushInterval: .seconds(10), flushDelay: .seconds(1))
        defer { try? FileManager.default.removeItem(at: directory) }
        let reader = FreshAggregateReader(store: store, pipeline: pipeline)
        let minutes = AggregateQuery(window: resolutions[1])
        var readings: [Reading] = []
        for series in 0..<20 {
            for second in 0..<120 {
                readings.append(Reading(device: "dev-\(series)", metric: "temp", value: Double(second * series) * 0.5,
                                        timestamp: base + Int64(second) * 1_000_000))
            }
        }
        #expect(await pipeline.submit(readings, waitingUpTo: .seconds(5)) == .accepted(accepted: 2_400, duplicates: 0))
        var fresh = try await waitForCount(2_400, reader, minutes)
        expectSameRows(fresh, expectedRows(readings, window: 60_000_000))
        let devices = try await reader.devices()
        #expect(devices.map(\.device) == (0..<20).map { "dev-\($0)" }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        #expect(devices.allSatisfy { $0.readings == 120 && $0.metrics == ["temp"] && $0.lastSeen == base + 119_000_000 })

        expectSameRows(try await waitForCount(2_400, store, minutes), expectedRows(readings, window: 60_000_000))
        expectSameRows(try await reader.aggregates(minutes), expectedRows(readings, window: 60_000_000))

        // Late readings into stored windows, a later window, and series that sort before,
        // between and after the stored ones (byte order: "dev-1" < "dev-10" < "dev-1a").
        var more: [Reading] = []
        for (index, device) in ["aaa", "dev-1a", "dev-7", "dev-10", "zzz"].enumerated() {
            for second in stride(from: 0, to: 240, by: 7) {
                more.append(Reading(device: device, metric: "temp", value: Double(index * 100 + second), timestamp: base + Int64(second) * 1_000_000))
            }
        }
        #expect(await pipeline.submit(more, waitingUpTo: .seconds(5)) == .accepted(accepted: more.count, duplicates: 0))
        fresh = try await waitForCount(Int64(2_400 + more.count), reader, minutes)
        expectSameRows(fresh, expectedRows(readings + more, window: 60_000_000))
        // Sliding windows and globs go through the same merge.
        let sliding = AggregateQuery(deviceGlob: "dev-1*", window: try Resolution(parsing: "30s"), step: resolutions[0])
        let freshSliding = try await reader.aggregates(sliding)
        #expect(!freshSliding.isEmpty && Set(freshSliding.map(\.series.device)) == ["dev-1", "dev-10", "dev-11", "dev-12", "dev-13", "dev-14", "dev-15", "dev-16", "dev-17", "dev-18", "dev-19", "dev-1a"])

        let devicesBefore = try await reader.devices()
        #expect(devicesBefore.first?.device == "aaa" && devicesBefore.last?.device == "zzz" && devicesBefore.count == 23)
        let seventh = devicesBefore.first { $0.device == "dev-7" }
        #expect(seventh?.readings == Int64(120 + more.count / 5))
        // 175 readings are no burst: the last flush, at shutdown, stores them.
        pipeline.stopAccepting()
        try await runner.value
        #expect(try await store.devices() == devicesBefore)
        expectSameRows(try await store.aggregates(minutes), expectedRows(readings + more, window: 60_000_000))
        expectSameRows(try await store.aggregates(sliding), freshSliding)
    }

    /// While a burst's flush is in flight (its write held back 300 ms), and as it commits,
    /// every answer counts every reading exactly once.
    @Test func aQueryDuringAFlushCountsEveryReadingOnce() async throws {
        let (pipeline, store, runner, directory) = try await startPipeline(resolutions, flushInterval: .seconds(10), flushDelay: .milliseconds(300))
        defer { try? FileManager.default.removeItem(at: directory) }
        let reader = FreshAggregateReader(store: store, pipeline: pipeline)
        let query = AggregateQuery(window: resolutions[0])
        var submitted: Int64 = 0
        for round in 0..<3 {
            let readings = (0..<3_000).map { index in
                Reading(device: "d\(index % 50)", metric: "m", value: Double(index), timestamp: base + Int64(round * 3_000 + index) * 100_000)
            }
            #expect(await pipeline.submit(readings, waitingUpTo: .seconds(5)) == .accepted(accepted: 3_000, duplicates: 0))
            submitted += 3_000
            #expect(total(try await waitForCount(submitted, reader, query)) == submitted)
            // Until the store holds the burst, and a few answers after.
            var storedSince = 0
            let deadline = ContinuousClock.now + .seconds(60)
            while storedSince < 5, ContinuousClock.now < deadline {
                #expect(total(try await reader.aggregates(query)) == submitted)
                #expect(try await reader.devices().reduce(0) { $0 + $1.readings } == submitted)
                if total(try await store.aggregates(query)) == submitted { storedSince += 1 }
            }
            #expect(storedSince == 5, "the burst was not flushed")
        }
        pipeline.stopAccepting()
        try await runner.value
    }
}

/// The daemon's query surfaces merge unflushed buckets only when `http.answer_unflushed` is
/// on; off, they read the store as it is, and the pending readings are not answered.
@Suite struct AnswerUnflushedSettingTests {
    @Test func offTheSurfacesReadTheStoreAsOfItsLastFlush() async throws {
        let resolutions = [try Resolution(parsing: "10s")]
        let (pipeline, store, runner, directory) = try await startPipeline(resolutions, flushInterval: .seconds(3600))
        defer { try? FileManager.default.removeItem(at: directory) }
        let on = FreshAggregateReader.surfaces(of: store, pipeline: pipeline, answerUnflushed: true)
        let off = FreshAggregateReader.surfaces(of: store, pipeline: pipeline, answerUnflushed: false)
        #expect(on is FreshAggregateReader)
        #expect(off is SQLiteStore)

        let now = WallClock.microseconds()
        let readings = (0..<10).map { Reading(device: "d", metric: "m", value: Double($0), timestamp: now - 60_000_000 + Int64($0)) }
        #expect(await pipeline.submit(readings, waitingUpTo: .seconds(5)) == .accepted(accepted: 10, duplicates: 0))
        let query = AggregateQuery(window: resolutions[0])
        let deadline = ContinuousClock.now + .seconds(60)
        while try await on.aggregates(query).reduce(0, { $0 + $1.stats.count }) < 10, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        // Aggregated (answered with the setting on), not flushed: not answered with it off.
        #expect(try await on.aggregates(query).reduce(0) { $0 + $1.stats.count } == 10)
        // Pending series are picked by SQLite's GLOB, as the stored ones are: `[!d]` is `!`
        // or `d` there, where fnmatch reads "not d".
        #expect(try await on.aggregates(AggregateQuery(deviceGlob: "[!d]", window: resolutions[0])).reduce(0) { $0 + $1.stats.count } == 10)
        #expect(try await off.aggregates(query).isEmpty)
        #expect(try await off.devices().isEmpty)
        // Ten readings are no burst and the interval is an hour: the last flush stores them.
        pipeline.stopAccepting()
        try await runner.value
        #expect(try await off.aggregates(query).reduce(0) { $0 + $1.stats.count } == 10)
    }
}

/// A running pipeline over a new SQLite store (3 shards), and the folder to remove.
private func startPipeline(_ resolutions: [Resolution], flushInterval: Duration, flushDelay: Duration = .zero) async throws
    -> (Pipeline, SQLiteStore, Task<Void, any Error>, URL)
{
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fresh-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let store = try SQLiteStore(path: directory.appendingPathComponent("test.db").path, mode: .readWrite)
    try await store.registerResolutions(resolutions)
    let pipeline = Pipeline(
        configuration: PipelineConfiguration(shards: 3, queueCapacity: 10_000, resolutions: resolutions,
                                             flushInterval: flushInterval, flushDelay: flushDelay),
        journal: JournalConfiguration(directory: directory.appendingPathComponent("journal").path),
        store: store, logger: Logger(label: "test"))
    let runner = Task { try await pipeline.run() }
    await pipeline.recovered.wait()
    return (pipeline, store, runner, directory)
}
