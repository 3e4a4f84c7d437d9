import Foundation
import Logging
import Testing
import SensorCore
import SensorStore
@testable import SensorPipeline

/// Identified batches (`SensorHub-Batch`, what `sensorhub import` sends): a batch sent
/// again counts none of the readings already taken, without seq, across restarts (from
/// the store and from the journal), and when a crash left only some shards' parts taken,
/// even under another shard count.
@Suite struct BatchIdentityTests {
    private static let hourStart: Int64 = 1_764_165_600_000_000
    private static let resolutions = [try! Resolution(parsing: "1h")]

    /// 12 series × 5 readings, no seq; values are whole numbers so sums are exact.
    private static let batch: [Reading] = (0..<60).map { index in
        Reading(device: "dev-\(index % 6)", metric: index % 2 == 0 ? "temp" : "rh", value: Double(index),
                timestamp: hourStart + Int64(index) * 1_000_000)
    }

    private struct Site {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("batch-identity-\(UUID().uuidString)")
        var databasePath: String { directory.appendingPathComponent("test.db").path }

        func open(shards: Int) async throws -> (SQLiteStore, Pipeline) {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let store = try await Self.openStore(databasePath)
            let pipeline = Pipeline(
                configuration: PipelineConfiguration(shards: shards, queueCapacity: 10_000, resolutions: BatchIdentityTests.resolutions, flushInterval: .seconds(3600)),
                journal: JournalConfiguration(directory: directory.appendingPathComponent("journal").path, sync: .never),
                store: store, logger: Logger(label: "test"))
            return (store, pipeline)
        }

        /// Retries while a child process another test spawns holds a copy of the lock.
        private static func openStore(_ path: String) async throws -> SQLiteStore {
            let deadline = ContinuousClock.now + .seconds(60)
            while true {
                do {
                    let store = try SQLiteStore(path: path, mode: .readWrite)
                    try await store.registerResolutions(BatchIdentityTests.resolutions)
                    return store
                } catch {
                    guard String(describing: error).contains("another sensorhub process"), ContinuousClock.now < deadline else { throw error }
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
        }

        func remove() { try? FileManager.default.removeItem(at: directory) }
    }

    private static func identity(_ ordinal: UInt64) -> BatchIdentity { BatchIdentity(stream: "import-test", ordinal: ordinal)! }

    private static func submit(_ readings: [Reading], _ identity: BatchIdentity, to pipeline: Pipeline) async -> Pipeline.SubmitOutcome {
        await pipeline.entry(for: IngestTransport("import")).submit(PreparedBatch(readings: readings, format: .ndjson, identity: identity), waitingUpTo: .seconds(30))
    }

    private static func run(_ pipeline: Pipeline) -> Task<Void, any Error> {
        Task { try await pipeline.run() }
    }

    /// Readings stored in all series (the 1h windows' counts) and their sum.
    private static func stored(in store: SQLiteStore) async throws -> (count: Int64, sum: Double) {
        let rows = try await store.aggregates(AggregateQuery(device: nil, metric: nil, window: "1h", step: nil, from: nil, to: nil))
        return (rows.reduce(0) { $0 + $1.stats.count }, rows.reduce(0) { $0 + $1.stats.sum })
    }

    private static let expectedSum = Double((0..<60).reduce(0, +))

    @Test func aBatchSentAgainIsCountedOnceAcrossRestarts() async throws {
        let site = Site()
        defer { site.remove() }
        var (store, pipeline) = try await site.open(shards: 3)
        var runner = Self.run(pipeline)
        await pipeline.recovered.wait()
        #expect(await Self.submit(Self.batch, Self.identity(0), to: pipeline) == .accepted(accepted: 60, duplicates: 0))
        let again = await pipeline.entry(for: IngestTransport("import"))
            .submitCountingReplays(PreparedBatch(readings: Self.batch, format: .ndjson, identity: Self.identity(0)), waitingUpTo: .seconds(30))
        #expect(again.outcome == .accepted(accepted: 0, duplicates: 60))
        #expect(again.replayed == 60, "the duplicates are readings the batch's first send took")
        #expect(await Self.submit(Array(Self.batch.prefix(10)), Self.identity(1), to: pipeline) == .accepted(accepted: 10, duplicates: 0), "another ordinal is another batch")
        pipeline.stopAccepting()
        try await runner.value
        try await store.close()

        // From the store: the flush wrote the ledger.
        (store, pipeline) = try await site.open(shards: 3)
        runner = Self.run(pipeline)
        await pipeline.recovered.wait()
        #expect(await Self.submit(Self.batch, Self.identity(0), to: pipeline) == .accepted(accepted: 0, duplicates: 60))
        pipeline.stopAccepting()
        try await runner.value
        #expect(try await Self.stored(in: store).count == 70)
        try await store.close()

        // From the journal: taken, never flushed (the process "dies" before any flush).
        (store, pipeline) = try await site.open(shards: 3)
        try await pipeline.open()
        #expect(await Self.submit(Self.batch, Self.identity(2), to: pipeline) == .accepted(accepted: 60, duplicates: 0))
        try await store.close()
        (store, pipeline) = try await site.open(shards: 3)
        runner = Self.run(pipeline)
        await pipeline.recovered.wait()
        #expect(await Self.submit(Self.batch, Self.identity(2), to: pipeline) == .accepted(accepted: 0, duplicates: 60))
        pipeline.stopAccepting()
        try await runner.value
        #expect(try await Self.stored(in: store).count == 130)
        try await store.close()
    }

    /// A crash after the append of one shard's part and before the others': sending the
    /// batch again takes exactly the parts missing, also after the shard count changed
    /// (to one: a daemon of two shards started again with one).
    @Test(arguments: [1, 2, 3])
    func aPartlyTakenBatchTakesOnlyWhatIsMissing(shardsAfterRestart: Int) async throws {
        let site = Site()
        defer { site.remove() }
        var (store, pipeline) = try await site.open(shards: 2)
        try await pipeline.open()
        let firstPart = Self.batch.filter { $0.series.stableHash % 2 == 0 }
        #expect(!firstPart.isEmpty && firstPart.count < 60)
        #expect(await Self.submit(firstPart, Self.identity(7), to: pipeline) == .accepted(accepted: firstPart.count, duplicates: 0))
        try await store.close()

        (store, pipeline) = try await site.open(shards: shardsAfterRestart)
        let runner = Self.run(pipeline)
        await pipeline.recovered.wait()
        #expect(await Self.submit(Self.batch, Self.identity(7), to: pipeline) == .accepted(accepted: 60 - firstPart.count, duplicates: firstPart.count))
        #expect(await Self.submit(Self.batch, Self.identity(7), to: pipeline) == .accepted(accepted: 0, duplicates: 60))
        pipeline.stopAccepting()
        try await runner.value
        let stored = try await Self.stored(in: store)
        #expect(stored.count == 60)
        #expect(stored.sum == Self.expectedSum)
        try await store.close()
    }

    /// A batch sent again is judged on what it still brings: the refusal of a reading of
    /// a missing part names its index in the batch as sent.
    @Test func aRefusalInABatchSentAgainNamesTheIndexAsSent() async throws {
        let site = Site()
        defer { site.remove() }
        let (store, pipeline) = try await site.open(shards: 2)
        try await pipeline.open()
        let firstPart = Self.batch.filter { $0.series.stableHash % 2 == 0 }
        #expect(await Self.submit(firstPart, Self.identity(9), to: pipeline) == .accepted(accepted: firstPart.count, duplicates: 0))
        var again = Self.batch
        let bad = try #require(again.lastIndex { $0.series.stableHash % 2 == 1 })
        again[bad].timestamp = WallClock.microseconds() + 86_400_000_000
        guard case .rejected(let error) = await Self.submit(again, Self.identity(9), to: pipeline) else {
            Issue.record("a reading a day in the future was taken")
            return
        }
        #expect(error.reason == .futureTimestamp)
        #expect(error.index == bad)
        #expect(error.message.hasPrefix("item \(bad):"), "\(error.message)")
        try await store.close()
    }

    @Test func identitiesParseFromTheHeaderAndRefuseBadStreams() {
        #expect(BatchIdentity(header: "import-1a2b/42") == BatchIdentity(stream: "import-1a2b", ordinal: 42))
        #expect(BatchIdentity(header: "a/b/7")  == nil, "a slash in the stream")
        #expect(BatchIdentity(header: "stream/-1") == nil)
        #expect(BatchIdentity(header: "/3") == nil)
        #expect(BatchIdentity(header: String(repeating: "s", count: 65) + "/1") == nil)
        #expect(BatchIdentity(header: "import 1/1") == nil)
    }
}
