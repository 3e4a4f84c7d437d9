import Foundation
import Logging
import Testing
import SensorCore
import SensorStore
@testable import SensorPipeline

private func temporaryStore() throws -> (SQLiteStore, URL) {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pipeline-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let store = try SQLiteStore(path: directory.appendingPathComponent("test.db").path, mode: .readWrite)
    return (store, directory)
}

@Suite struct PipelineTests {
    let resolutions = [try! Resolution(parsing: "10s"), try! Resolution(parsing: "1m")]

    @Test func readingsFlowThroughShardsIntoStoredBucketsExactly() async throws {
        let (store, directory) = try temporaryStore()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await store.registerResolutions(resolutions)
        let pipeline = Pipeline(
            configuration: PipelineConfiguration(shards: 3, queueCapacity: 1_000, resolutions: resolutions, flushInterval: .seconds(3600)),
            journal: JournalConfiguration(directory: directory.appendingPathComponent("journal").path),
            store: store, logger: Logger(label: "test"))
        let runner = Task { try await pipeline.run() }
        await pipeline.recovered.wait()

        // 20 series × 120 readings, one per second from a minute boundary, values i*0.5.
        let base: Int64 = 1_764_165_600_000_000
        var readings: [Reading] = []
        for series in 0..<20 {
            for second in 0..<120 {
                readings.append(Reading(device: "dev-\(series)", metric: "temp", value: Double(second) * 0.5,
                                        timestamp: base + Int64(second) * 1_000_000))
            }
        }
        #expect(await pipeline.submit(readings, waitingUpTo: .seconds(1)) == .accepted(accepted: 2_400, duplicates: 0))
        pipeline.stopAccepting()
        try await runner.value   // drains and flushes

        let rows = try await store.aggregates(AggregateQuery(device: "dev-7", metric: "temp", window: "1m", step: nil, from: nil, to: nil))
        #expect(rows.count == 2)
        // First minute: values 0, 0.5, ..., 29.5.
        let first = rows[0].stats
        #expect(first.count == 60 && first.sum == (0..<60).reduce(0.0) { $0 + Double($1) * 0.5 })
        #expect(first.min == 0 && first.max == 29.5 && first.first == 0 && first.last == 29.5)
        let devices = try await store.devices()
        #expect(devices.count == 20 && devices.allSatisfy { $0.readings == 120 })
        #expect(await pipeline.submit(readings, waitingUpTo: .zero) == .unavailable(.stopping))
    }

    /// Shards whose queues hold ten readings each, open for readings but not running: no
    /// worker takes from the queues.
    private func openedPipelineOfTenReadings(store: SQLiteStore, directory: URL, shards: Int = 1) async throws -> Pipeline {
        let pipeline = Pipeline(
            configuration: PipelineConfiguration(shards: shards, queueCapacity: 10, resolutions: resolutions, flushInterval: .seconds(1)),
            journal: JournalConfiguration(directory: directory.appendingPathComponent("journal").path),
            store: store, logger: Logger(label: "test"))
        try await pipeline.open()
        return pipeline
    }

    @Test func fullQueueAnswersQueueFullAndTakesNothing() async throws {
        let (store, directory) = try temporaryStore()
        defer { try? FileManager.default.removeItem(at: directory) }
        // Not running: nothing drains the queue.
        let pipeline = try await openedPipelineOfTenReadings(store: store, directory: directory)
        let eight = (0..<8).map { Reading(device: "d", metric: "m", value: 1, timestamp: Int64($0)) }
        #expect(await pipeline.submit(eight, waitingUpTo: .zero) == .accepted(accepted: 8, duplicates: 0))
        #expect(await pipeline.submit(eight, waitingUpTo: .milliseconds(20)) == .queueFull)
        #expect(pipeline.queuedReadings == 8)
    }

    /// An HTTP batch larger than the queue (payload limit above `queue_capacity`) waits in
    /// the queue's line: once the queue drains it gets in, before a smaller batch sent
    /// after it, which would fit sooner.
    @Test(.timeLimit(.minutes(2))) func aBatchLargerThanTheQueueGetsInWhenTheQueueDrains() async throws {
        let (store, directory) = try temporaryStore()
        defer { try? FileManager.default.removeItem(at: directory) }
        // Not running: the test takes from the queue itself.
        let pipeline = try await openedPipelineOfTenReadings(store: store, directory: directory)
        func readings(_ count: Int, from start: Int) -> [Reading] {
            (start..<(start + count)).map { Reading(device: "d", metric: "m", value: Double($0), timestamp: Int64($0)) }
        }
        let queue = pipeline.shards[0].queue
        #expect(await pipeline.submit(readings(8, from: 0), waitingUpTo: .zero) == .accepted(accepted: 8, duplicates: 0))
        let large = Task { await pipeline.submit(readings(25, from: 8), waitingUpTo: .seconds(60)) }
        await queue.waitUntilWaiting(1)
        let small = Task { await pipeline.submit(readings(1, from: 33), waitingUpTo: .seconds(60)) }
        await queue.waitUntilWaiting(2)
        // Both are in line: taking what is queued lets them in, one after the other.
        var taken: [Double] = []
        let deadline = ContinuousClock.now + .seconds(60)
        while taken.count < 34, ContinuousClock.now < deadline {
            if queue.depth == 0 { try? await Task.sleep(for: .milliseconds(2)); continue }
            taken += (await queue.next() ?? []).flatMap(\.readings).map(\.value)
        }
        #expect(await large.value == .accepted(accepted: 25, duplicates: 0))
        #expect(await small.value == .accepted(accepted: 1, duplicates: 0))
        #expect(taken == (0..<34).map(Double.init), "in the order they asked for room")
    }

    /// A batch spanning two shards, one of them full, holds its room in the other while it
    /// waits (shards are reserved in order), and gives it back when it gives up.
    @Test(.timeLimit(.minutes(2))) func aBatchThatGivesUpOnOneShardHoldsNoRoomInTheOthers() async throws {
        let (store, directory) = try temporaryStore()
        defer { try? FileManager.default.removeItem(at: directory) }
        let pipeline = try await openedPipelineOfTenReadings(store: store, directory: directory, shards: 2)
        func device(inShard shard: UInt64) -> String {
            (0...).lazy.map { "dev-\($0)" }.first { SeriesKey(device: $0, metric: "m").stableHash % 2 == shard }!
        }
        func readings(_ count: Int, device: String) -> [Reading] {
            (0..<count).map { Reading(device: device, metric: "m", value: 1, timestamp: Int64($0)) }
        }
        let first = device(inShard: 0), second = device(inShard: 1)
        let (shard0, shard1) = (pipeline.shards[0].queue, pipeline.shards[1].queue)
        #expect(await pipeline.submit(readings(10, device: second), waitingUpTo: .zero) == .accepted(accepted: 10, duplicates: 0))
        let spanning = Task { await pipeline.submit(readings(3, device: first) + readings(2, device: second), waitingUpTo: .seconds(60)) }
        await shard1.waitUntilWaiting(1)
        #expect(shard0.depth == 3, "shard 0's room held while it waits for shard 1's")
        spanning.cancel()
        #expect(await spanning.value == .queueFull)
        #expect(shard0.depth == 0 && shard1.depth == 10 && shard1.waitingProducers == 0)
    }

    @Test func tooManyPendingBucketsFlushBeforeTheInterval() async throws {
        let (store, directory) = try temporaryStore()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await store.registerResolutions(resolutions)
        let pipeline = Pipeline(
            configuration: PipelineConfiguration(
                shards: 1, queueCapacity: 10_000, resolutions: resolutions, flushInterval: .seconds(3600), maxPendingBuckets: 50),
            journal: JournalConfiguration(directory: directory.appendingPathComponent("journal").path),
            store: store, logger: Logger(label: "test"))
        let runner = Task { try await pipeline.run() }
        await pipeline.recovered.wait()
        // One series, 100 readings 10 s apart: 100 10s buckets + 17 1m buckets pending.
        let readings = (0..<100).map { Reading(device: "d", metric: "m", value: 1, timestamp: Int64($0) * 10_000_000) }
        #expect(await pipeline.submit(readings, waitingUpTo: .seconds(1)) == .accepted(accepted: 100, duplicates: 0))
        var stored = 0
        let deadline = ContinuousClock.now + .seconds(120)
        while stored < 100, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            stored = try await store.devices().first.map { Int($0.readings) } ?? 0
        }
        #expect(stored == 100, "the hour-long interval was not due: only the bucket limit can have flushed")
        pipeline.stopAccepting()
        try await runner.value
    }
}
