import Foundation
import Logging
import Testing
import SensorCore
import SensorStore
@testable import SensorPipeline

/// A journal written before values were bounded can hold readings whose buckets cannot be
/// stored (1.7e308 + -1.7e308 makes the mean and M2 NaN). Replaying or flushing them must
/// not stop the store: those buckets are set aside, everything else is stored, and the
/// pipeline reports itself degraded.
@Suite struct PoisonedBucketTests {
    let resolutions = [try! Resolution(parsing: "10s"), try! Resolution(parsing: "1m")]

    private func pipeline(_ store: SQLiteStore, journal: String) -> Pipeline {
        Pipeline(
            configuration: PipelineConfiguration(shards: 2, queueCapacity: 10_000, resolutions: resolutions, flushInterval: .milliseconds(50)),
            journal: JournalConfiguration(directory: journal), store: store, logger: Logger(label: "test"))
    }

    @Test func unstorableBucketsAreSetAsideAndEverythingElseIsStored() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("poison-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let databasePath = directory.appendingPathComponent("test.db").path
        let journal = directory.appendingPathComponent("journal").path
        let store = try SQLiteStore(path: databasePath, mode: .readWrite)
        try await store.registerResolutions(resolutions)
        let first = pipeline(store, journal: journal)
        let runner = Task { try await first.run() }
        await first.recovered.wait()

        // Straight into the journal and the queue, as an older build took them.
        let t0: Int64 = 1_764_165_600_000_000
        let poison = [1.7e308, -1.7e308, 0].map { Reading(device: "p", metric: "m", value: $0, timestamp: t0) }
        let good = (0..<10).map { Reading(device: "q", metric: "m", value: Double($0), timestamp: t0 + Int64($0) * 1_000_000) }
        #expect(await first.submit(poison + good, waitingUpTo: .seconds(5)) == .accepted(accepted: 13, duplicates: 0))
        let setAside = try await eventuallyTrue { store.setAsideBuckets == 2 }
        #expect(setAside, "one bucket per resolution of p/m set aside, found \(store.setAsideBuckets)")
        #expect(first.degradation?.contains("2 bucket(s) could not be stored and were set aside") == true, "\(String(describing: first.degradation))")

        // The store goes on: later readings of every series are stored.
        let later = (0..<5).map { _ in Reading(device: "r", metric: "m", value: 1, timestamp: t0 + 60_000_000) }
        #expect(await first.submit(later, waitingUpTo: .seconds(5)) == .accepted(accepted: 5, duplicates: 0))
        first.stopAccepting()
        try await runner.value
        let rows = try await store.aggregates(AggregateQuery(window: resolutions[1]))
        #expect(rows.map(\.series.device) == ["q", "r"], "p/m has no stored bucket")
        #expect(rows.first?.stats.count == 10 && rows.first?.stats.sum == 45)
        try await store.close()

        // A restart neither replays the poison again nor forgets it was set aside.
        let reopened = try SQLiteStore(path: databasePath, mode: .readWrite)
        #expect(reopened.setAsideBuckets == 2)
        let second = pipeline(reopened, journal: journal)
        let secondRunner = Task { try await second.run() }
        await second.recovered.wait()
        #expect(second.degradation?.contains("set aside") == true)
        second.stopAccepting()
        try await secondRunner.value
        #expect(reopened.setAsideBuckets == 2)
        try await reopened.close()
    }

    private func eventuallyTrue(_ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(120)
        while !condition() {
            guard ContinuousClock.now < deadline else { return false }
            try await Task.sleep(for: .milliseconds(20))
        }
        return true
    }
}
