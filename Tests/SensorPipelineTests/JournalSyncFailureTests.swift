import Foundation
import Logging
import Testing
import SensorCore
import SensorStore
@testable import SensorPipeline

/// A failed sync is fatal ("fsyncgate"): the journal takes nothing more until a restart,
/// instead of logging the failure and acknowledging as if nothing happened. The segment
/// file is made a link to /dev/null, whose writes succeed and whose syncs fail (EINVAL).
@Suite struct JournalSyncFailureTests {
    let resolutions = [try! Resolution(parsing: "10s")]

    private func run(sync: JournalConfiguration.SyncPolicy, flushInterval: Duration = .seconds(3_600), _ body: (Pipeline, SQLiteStore) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sync-failure-\(UUID().uuidString)")
        let shard = directory.appendingPathComponent("journal/shard-0")
        try FileManager.default.createDirectory(at: shard, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createSymbolicLink(
            atPath: shard.appendingPathComponent("00000000000000000000.seg").path, withDestinationPath: "/dev/null")
        let store = try SQLiteStore(path: directory.appendingPathComponent("test.db").path, mode: .readWrite)
        try await store.registerResolutions(resolutions)
        let pipeline = Pipeline(
            configuration: PipelineConfiguration(shards: 1, queueCapacity: 1_000, resolutions: resolutions, flushInterval: flushInterval),
            journal: JournalConfiguration(directory: directory.appendingPathComponent("journal").path, sync: sync),
            store: store, logger: Logger(label: "test"))
        let runner = Task { try await pipeline.run() }
        await pipeline.recovered.wait()
        try await body(pipeline, store)
        pipeline.stopAccepting()
        try await runner.value
        try await store.close()
    }

    private let reading = [Reading(device: "d", metric: "m", value: 1, timestamp: 1_764_165_600_000_000)]

    @Test func aFailedSyncOfAnAppendStopsTheJournalForGood() async throws {
        try await run(sync: .always) { pipeline, _ in
            guard case .journalFailed(let problem) = await pipeline.submit(reading, waitingUpTo: .seconds(1)) else {
                Issue.record("an append whose sync failed was acknowledged")
                return
            }
            #expect(problem.contains("cannot sync") && problem.contains("until the daemon is restarted"), "\(problem)")
            for _ in 0..<3 {
                guard case .journalFailed = await pipeline.submit(reading, waitingUpTo: .seconds(1)) else {
                    Issue.record("the journal took readings again after a failed sync")
                    return
                }
            }
            #expect(pipeline.degradation?.contains("until the daemon is restarted") == true, "\(String(describing: pipeline.degradation))")
        }
    }

    @Test func aFailedIntervalSyncStopsTheJournalForGood() async throws {
        try await run(sync: .interval(.milliseconds(20))) { pipeline, _ in
            // Appends succeed until the syncer's next pass fails.
            let deadline = ContinuousClock.now + .seconds(120)
            var refused = false
            while !refused, ContinuousClock.now < deadline {
                if case .journalFailed = await pipeline.submit(reading, waitingUpTo: .seconds(1)) { refused = true }
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(refused, "the failed sync never stopped the journal")
            #expect(pipeline.degradation?.contains("cannot sync the journal of shard 0") == true, "\(String(describing: pipeline.degradation))")
            guard case .journalFailed = await pipeline.submit(reading, waitingUpTo: .seconds(1)) else {
                Issue.record("the journal took readings again after a failed sync")
                return
            }
        }
    }

    /// A flush syncs the journal before it stores seq windows, so a window never counts a
    /// record a power loss could take. The periodic syncer here waits an hour: only a flush
    /// storing windows can be the sync that fails. Readings without a seq store no windows
    /// and need no sync.
    @Test func aFlushStoringSeqWindowsSyncsTheJournalFirst() async throws {
        try await run(sync: .interval(.seconds(3_600)), flushInterval: .milliseconds(50)) { pipeline, store in
            #expect(await pipeline.submit(reading, waitingUpTo: .seconds(5)) == .accepted(accepted: 1, duplicates: 0))
            let deadline = ContinuousClock.now + .seconds(120)
            while try await store.devices().first?.readings != 1, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(try await store.devices().first?.readings == 1, "the reading without a seq was never flushed")
            #expect(pipeline.degradation == nil, "a flush without seq windows synced the journal: \(String(describing: pipeline.degradation))")

            var sequenced = reading[0]
            sequenced.seq = 1
            #expect(await pipeline.submit([sequenced], waitingUpTo: .seconds(5)) == .accepted(accepted: 1, duplicates: 0))
            while pipeline.degradation == nil, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(pipeline.degradation?.contains("cannot sync the journal of shard 0") == true, "\(String(describing: pipeline.degradation))")
        }
    }

    /// A write that failed is retried with the same batch, so the same sync is waited for
    /// again: it must return at once, not block or trap.
    @Test func aSyncIsWaitedForAgainByARetriedWrite() {
        let syncer = JournalSyncer(ingresses: [], interval: .seconds(3_600)) { _ in }
        let sync = syncer.startSync(shards: [])
        sync.wait()
        sync.wait()
    }
}
