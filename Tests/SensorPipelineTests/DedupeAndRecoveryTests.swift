import Foundation
import Logging
import Testing
import SensorCore
import SensorStore
@testable import SensorPipeline

/// 2025-11-26T14:00:00Z, an hour boundary: every reading of these tests falls in one hour.
private let hourStart: Int64 = 1_764_165_600_000_000

private let resolutions = [try! Resolution(parsing: "1m"), try! Resolution(parsing: "1h")]

/// Count, sum, min and max of one series; the values used are multiples of 0.25 of modest
/// size, so sums are exact in any order and can be compared with `==`.
private struct Totals: Equatable, CustomStringConvertible {
    var count: Int64 = 0
    var sum = 0.0
    var min = Double.infinity
    var max = -Double.infinity

    mutating func add(_ value: Double) {
        count += 1
        sum += value
        min = Swift.min(min, value)
        max = Swift.max(max, value)
    }

    var description: String { "count \(count) sum \(sum) min \(min) max \(max)" }
}

/// What the tests expect, kept independently of the pipeline: a plain set of every
/// (series, seq) counted, in submission order, first occurrence wins. The seqs used stay
/// far below the window width, so the window's "too old" rule never applies here.
private struct Ledger {
    private struct Counted: Hashable {
        var series: SeriesKey
        var seq: UInt64
    }

    private var counted: Set<Counted> = []
    private(set) var totals: [SeriesKey: Totals] = [:]
    /// Bytes each journal shard folder holds in total (its position), by the record layout.
    private(set) var journalBytes: [Int: Int64] = [:]

    /// Applies a batch the way the rule says; returns the outcome the pipeline must give.
    /// `shards` is the shard count of the pipeline taking it (for the journal positions).
    mutating func submit(_ readings: [Reading], shards: Int) -> Pipeline.SubmitOutcome {
        var kept: [Reading] = []
        var duplicates = 0
        for reading in readings {
            if let seq = reading.seq, !counted.insert(Counted(series: reading.series, seq: seq)).inserted {
                duplicates += 1
                continue
            }
            kept.append(reading)
            totals[reading.series, default: Totals()].add(reading.value)
        }
        // One record per shard that kept anything.
        var perShard: [Int: [Reading]] = [:]
        for reading in kept { perShard[Int(reading.series.stableHash % UInt64(shards)), default: []].append(reading) }
        for (shard, part) in perShard { journalBytes[shard, default: 0] += Int64(journalRecordSize(part)) }
        return .accepted(accepted: kept.count, duplicates: duplicates)
    }

    func readings(ofDevice device: String) -> Int64 {
        totals.filter { $0.key.device == device }.reduce(0) { $0 + $1.value.count }
    }

    func wasCounted(_ series: SeriesKey, _ seq: UInt64) -> Bool {
        counted.contains(Counted(series: series, seq: seq))
    }
}

/// A database path and a journal folder in a temporary directory.
private struct Site {
    let directory: URL
    var databasePath: String { directory.appendingPathComponent("test.db").path }
    var journalPath: String { directory.appendingPathComponent("journal").path }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("recovery-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }

    /// Opens the database read-write. Retries for a moment while the writer lock is still
    /// held: a child process that another test is spawning in this process at the same
    /// instant holds a copy of the closed store's lock descriptor until its exec.
    func openStore() async throws -> SQLiteStore {
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            do {
                let store = try SQLiteStore(path: databasePath, mode: .readWrite)
                try await store.registerResolutions(resolutions)
                return store
            } catch {
                let lockHeld = String(describing: error).contains("another sensorhub process")
                guard lockHeld, ContinuousClock.now < deadline else { throw error }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    /// A pipeline whose interval flush never comes during a test: only recovery and
    /// shutdown flush.
    func pipeline(store: SQLiteStore, shards: Int, sync: JournalConfiguration.SyncPolicy = .never) -> Pipeline {
        Pipeline(
            configuration: PipelineConfiguration(shards: shards, queueCapacity: 100_000, resolutions: resolutions, flushInterval: .seconds(3600)),
            journal: JournalConfiguration(directory: journalPath, sync: sync),
            store: store, logger: Logger(label: "test"))
    }

    func shardFolder(_ shard: Int) -> String { "\(journalPath)/shard-\(shard)" }

    func shardFolders() throws -> [Int] {
        try FileManager.default.contentsOfDirectory(atPath: journalPath)
            .compactMap { $0.hasPrefix("shard-") ? Int($0.dropFirst(6)) : nil }
            .sorted()
    }
}

/// Starts `run()` and waits for recovery to end.
private func start(_ pipeline: Pipeline) async -> Task<Void, any Error> {
    let runner = Task { try await pipeline.run() }
    await pipeline.recovered.wait()
    return runner
}

/// Graceful stop: drains the queues and flushes.
private func stop(_ pipeline: Pipeline, _ runner: Task<Void, any Error>) async throws {
    pipeline.stopAccepting()
    try await runner.value
}

/// Stored per-series totals (one 1h window each) and per-device reading counts must be
/// exactly the ledger's.
private func expectStored(_ ledger: Ledger, in store: SQLiteStore, _ context: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let rows = try await store.aggregates(AggregateQuery(device: nil, metric: nil, window: "1h", step: nil, from: nil, to: nil))
    var stored: [SeriesKey: Totals] = [:]
    for row in rows {
        #expect(stored[row.series] == nil, "\(context): two 1h windows for \(row.series)", sourceLocation: sourceLocation)
        stored[row.series] = Totals(count: row.stats.count, sum: row.stats.sum, min: row.stats.min, max: row.stats.max)
    }
    for series in Set(stored.keys).union(ledger.totals.keys).sorted() where stored[series] != ledger.totals[series] {
        Issue.record("\(context): \(series) stored \(stored[series].map(\.description) ?? "nothing"), expected \(ledger.totals[series].map(\.description) ?? "nothing")", sourceLocation: sourceLocation)
    }
    let devices = try await store.devices()
    let expectedDevices = Set(ledger.totals.keys.map(\.device))
    #expect(Set(devices.map(\.device)) == expectedDevices, "\(context): devices", sourceLocation: sourceLocation)
    for device in devices {
        #expect(device.readings == ledger.readings(ofDevice: device.device),
                "\(context): \(device.device) has \(device.readings) readings, expected \(ledger.readings(ofDevice: device.device))",
                sourceLocation: sourceLocation)
    }
}

private func reading(_ device: String, _ metric: String = "temp", seq: UInt64?, value: Double, second: Int64) -> Reading {
    Reading(device: device, metric: metric, value: value, timestamp: hourStart + second * 1_000_000, seq: seq)
}

/// Random batches over 12 devices × 2 metrics: seqs drawn from 1...300 so repeats happen
/// across and inside batches, one reading in ten without a seq, values multiples of 0.25.
private func randomBatches(_ generator: inout SeededGenerator, count: Int, size: Int) -> [[Reading]] {
    (0..<count).map { _ in
        (0..<size).map { _ in
            let device = "dev-\(Int.random(in: 0..<12, using: &generator))"
            let metric = Bool.random(using: &generator) ? "temp" : "rh"
            let seq: UInt64? = Int.random(in: 0..<10, using: &generator) == 0 ? nil : UInt64.random(in: 1...300, using: &generator)
            let value = Double(Int.random(in: -400...400, using: &generator)) * 0.25
            return reading(device, metric, seq: seq, value: value, second: Int64.random(in: 0..<3600, using: &generator))
        }
    }
}

/// Submits every batch, checking each outcome against the ledger; returns how many
/// duplicates there were (so a test can insist its data had some).
@discardableResult
private func submitAll(_ batches: [[Reading]], to pipeline: Pipeline, shards: Int, ledger: inout Ledger, _ context: String,
                       sourceLocation: SourceLocation = #_sourceLocation) async -> Int {
    var duplicates = 0
    for (index, batch) in batches.enumerated() {
        let expected = ledger.submit(batch, shards: shards)
        let outcome = await pipeline.submit(batch, waitingUpTo: .seconds(5))
        #expect(outcome == expected, "\(context): batch \(index)", sourceLocation: sourceLocation)
        if case .accepted(_, let dropped) = expected { duplicates += dropped }
    }
    return duplicates
}

/// Sends every reading with a seq of `batches` again: all of them must be duplicates (the
/// dedupe state survived whatever happened in between).
private func expectSeqsAlreadyCounted(_ batches: [[Reading]], by pipeline: Pipeline, _ context: String,
                                      sourceLocation: SourceLocation = #_sourceLocation) async {
    let seqOnly = batches.flatMap { $0 }.filter { $0.seq != nil }
    let outcome = await pipeline.submit(seqOnly, waitingUpTo: .seconds(5))
    #expect(outcome == .accepted(accepted: 0, duplicates: seqOnly.count), "\(context)", sourceLocation: sourceLocation)
}

/// Every shard folder holds exactly one segment, empty and starting at `positions[shard]`
/// (what recovery leaves: nothing older than the checkpoint).
private func expectOnlyFreshSegments(_ site: Site, positions: [Int: Int64], shards: Int, _ context: String,
                                     sourceLocation: SourceLocation = #_sourceLocation) throws {
    for shard in 0..<shards {
        let files = try journalSegments(in: site.shardFolder(shard))
        #expect(files.map(\.start) == [positions[shard] ?? 0] && files.allSatisfy { $0.size == 0 },
                "\(context): shard-\(shard) holds \(files), expected one empty segment at \(positions[shard] ?? 0)",
                sourceLocation: sourceLocation)
    }
}

/// Waits (without asserting on time) until the workers took everything queued.
private func waitUntilDrained(_ pipeline: Pipeline) async throws {
    let deadline = ContinuousClock.now + .seconds(120)
    while pipeline.queuedReadings > 0, ContinuousClock.now < deadline {
        try await Task.sleep(for: .milliseconds(5))
    }
}

@Suite struct DedupeAndRecoveryTests {
    // MARK: (a) outcomes and stored counts

    @Test func submitCountsDuplicatesExactlyAndTheStoreExcludesThem() async throws {
        let site = try Site()
        defer { site.remove() }
        let store = try await site.openStore()
        let pipeline = site.pipeline(store: store, shards: 3)
        let runner = await start(pipeline)
        var ledger = Ledger()

        // Six series with seqs 1...20; inside the batch, four repeats with telltale values:
        // seq 3 of dev-0 again, seq 1 of dev-1 again, seq 20 of dev-2 again and a new seq 21
        // of dev-3 twice (only its first occurrence counts). Two identical readings without
        // seq: both count.
        var first: [Reading] = []
        for device in 0..<6 {
            for seq in 1...20 { first.append(reading("dev-\(device)", seq: UInt64(seq), value: Double(seq) * 0.5, second: Int64(seq))) }
        }
        first += [
            reading("dev-0", seq: 3, value: 999, second: 100),
            reading("dev-3", seq: 21, value: 7.25, second: 21),
            reading("dev-1", seq: 1, value: -999, second: 101),
            reading("plain", seq: nil, value: 1.5, second: 5),
            reading("plain", seq: nil, value: 1.5, second: 5),
            reading("dev-2", seq: 20, value: 500, second: 102),
            reading("dev-3", seq: 21, value: -7.25, second: 22),
        ]
        #expect(ledger.submit(first, shards: 3) == .accepted(accepted: 123, duplicates: 4), "the ledger itself")
        #expect(await pipeline.submit(first, waitingUpTo: .seconds(5)) == .accepted(accepted: 123, duplicates: 4))

        // The seq'd readings again: every one a duplicate, nothing taken.
        let again = first.filter { $0.seq != nil }
        #expect(ledger.submit(again, shards: 3) == .accepted(accepted: 0, duplicates: 125))
        #expect(await pipeline.submit(again, waitingUpTo: .seconds(5)) == .accepted(accepted: 0, duplicates: 125))

        // Readings without seq are never duplicates, however often they come.
        let plain = first.filter { $0.seq == nil }
        #expect(ledger.submit(plain, shards: 3) == .accepted(accepted: 2, duplicates: 0))
        #expect(await pipeline.submit(plain, waitingUpTo: .seconds(5)) == .accepted(accepted: 2, duplicates: 0))

        // A mix: new seqs 21...25 of dev-0, old seqs 1...5 of dev-0, one more seq 21 of dev-3.
        let mixed = (21...25).map { reading("dev-0", seq: UInt64($0), value: Double($0), second: Int64($0)) }
            + (1...5).map { reading("dev-0", seq: UInt64($0), value: 4_000, second: 200) }
            + [reading("dev-3", seq: 21, value: 3_000, second: 201)]
        #expect(ledger.submit(mixed, shards: 3) == .accepted(accepted: 5, duplicates: 6))
        #expect(await pipeline.submit(mixed, waitingUpTo: .seconds(5)) == .accepted(accepted: 5, duplicates: 6))

        try await stop(pipeline, runner)
        try await expectStored(ledger, in: store, "after the run")
        // Spelled out for two series, so the ledger is not the only judge.
        let rows = try await store.aggregates(AggregateQuery(device: "dev-0", metric: "temp", window: "1h", step: nil, from: nil, to: nil))
        let dev0 = try #require(rows.first?.stats)
        // Seqs 1...20 at seq/2 (105), seqs 21...25 at their seq (115).
        let dev0Sum: Double = 105 + 115
        #expect(rows.count == 1 && dev0.count == 25 && dev0.sum == dev0Sum && dev0.min == 0.5 && dev0.max == 25,
                "dev-0: \(dev0); the 999 and 4000 duplicates must not count")
        let devices = try await store.devices()
        #expect(devices.first { $0.device == "dev-3" }?.readings == 21)
        #expect(devices.first { $0.device == "plain" }?.readings == 4)
        let dev3 = try #require(try await store.aggregates(AggregateQuery(device: "dev-3", metric: "temp", window: "1h", step: nil, from: nil, to: nil)).first?.stats)
        #expect(dev3.max == 10 && dev3.min == 0.5 && dev3.sum == 105 + 7.25,
                "dev-3: the first seq 21 (7.25) counts, not the later -7.25 or 3000: \(dev3)")
    }

    @Test func randomBatchesGiveTheRuleOutcomesAndTotals() async throws {
        let site = try Site()
        defer { site.remove() }
        let store = try await site.openStore()
        let pipeline = site.pipeline(store: store, shards: 3)
        let runner = await start(pipeline)
        var ledger = Ledger()
        var generator = SeededGenerator(seed: 0xDED0)
        let duplicates = await submitAll(randomBatches(&generator, count: 20, size: 150), to: pipeline, shards: 3, ledger: &ledger, "random")
        #expect(duplicates > 300, "the data must hold plenty of duplicates to prove anything (\(duplicates))")
        try await stop(pipeline, runner)
        try await expectStored(ledger, in: store, "random batches")
    }

    // MARK: (b) crash

    /// The first pipeline takes readings and is then abandoned without any flush (its
    /// interval is an hour): the second, on a new store over the same file, must count
    /// exactly what was accepted, from the journal alone.
    @Test(arguments: [false, true])
    func crashWithoutFlushIsRecoveredExactlyFromTheJournal(tornTail: Bool) async throws {
        let site = try Site()
        defer { site.remove() }
        var ledger = Ledger()
        var generator = SeededGenerator(seed: tornTail ? 0xC8A5 : 0xC8A6)
        let batches = randomBatches(&generator, count: 12, size: 120)

        let firstStore = try await site.openStore()
        let first = site.pipeline(store: firstStore, shards: 3)
        let firstRunner = await start(first)
        let duplicates = await submitAll(batches, to: first, shards: 3, ledger: &ledger, "before the crash")
        #expect(duplicates > 100)
        try await waitUntilDrained(first)
        #expect(try await firstStore.devices().isEmpty, "nothing may have been flushed, or the test proves nothing")
        // The crash: the pipeline is left as it is; only the store is closed so a new one
        // can take the writer lock. Its aggregated readings exist only in its memory.
        try await firstStore.close()
        let folders = try site.shardFolders()
        #expect(folders == [0, 1, 2])
        if tornTail {
            // A record half written when the process died, at the end of shard 1's segment.
            let segment = try #require(try journalSegments(in: site.shardFolder(1)).last)
            let path = "\(site.shardFolder(1))/\(String(repeating: "0", count: 20 - String(segment.start).count))\(segment.start).seg"
            let handle = try #require(FileHandle(forWritingAtPath: path))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data([0x53, 0x48, 0x4A, 0x31, 0x40, 0x00, 0x00, 0x00, 0x12, 0x34, 0x56]))
            try handle.close()
        }

        let secondStore = try await site.openStore()
        let second = site.pipeline(store: secondStore, shards: 3)
        let secondRunner = await start(second)
        #expect(second.isAccepting, "recovery must not fail")
        // Recovery replayed and flushed before taking readings.
        try await expectStored(ledger, in: secondStore, "right after recovery")
        let state = try await secondStore.recoveryState()
        #expect(state.checkpoints == ledger.journalBytes, "checkpoints are the ends of the journals (torn bytes cut)")
        try expectOnlyFreshSegments(site, positions: ledger.journalBytes, shards: 3, "after recovery")

        // The same seqs again: all duplicates, the dedupe state came back with the replay.
        await expectSeqsAlreadyCounted(batches, by: second, "after the restart")
        // New readings go on being counted.
        await submitAll(randomBatches(&generator, count: 3, size: 100), to: second, shards: 3, ledger: &ledger, "after the restart")
        try await stop(second, secondRunner)
        try await expectStored(ledger, in: secondStore, "after the second run")

        // The abandoned pipeline is cancelled only now; its store is closed, so its last
        // flush can only fail.
        firstRunner.cancel()
        _ = try? await firstRunner.value
        try await expectStored(ledger, in: secondStore, "after the first pipeline ended")
        try await secondStore.close()
    }

    // MARK: (c) clean restart

    @Test func afterACleanRestartStoredWindowsRejectOldSeqsAndOnlyFreshSegmentsRemain() async throws {
        let site = try Site()
        defer { site.remove() }
        var ledger = Ledger()
        var generator = SeededGenerator(seed: 0xC1EA)
        let batches = randomBatches(&generator, count: 10, size: 150)

        let firstStore = try await site.openStore()
        let first = site.pipeline(store: firstStore, shards: 3, sync: .interval(.milliseconds(50)))
        let firstRunner = await start(first)
        await submitAll(batches, to: first, shards: 3, ledger: &ledger, "first run")
        try await stop(first, firstRunner)
        try await expectStored(ledger, in: firstStore, "after the clean stop")
        let stopped = try await firstStore.recoveryState()
        #expect(stopped.checkpoints == ledger.journalBytes, "each checkpoint is its shard's journal size")
        #expect(ledger.journalBytes.count == 3, "the data must reach every shard")
        // One segment per shard (64 MiB segments), exactly as long as its checkpoint.
        for shard in 0..<3 {
            let files = try journalSegments(in: site.shardFolder(shard))
            #expect(files.map(\.start) == [0] && files.map { Int64($0.size) } == [ledger.journalBytes[shard] ?? -1], "shard-\(shard): \(files)")
        }
        try await firstStore.close()

        // The windows stored in series.seq_window, as a new store reads them.
        let secondStore = try await site.openStore()
        let stored = try await secondStore.recoveryState()
        var seqSeries = Set<SeriesKey>()
        for reading in batches.flatMap({ $0 }) where reading.seq != nil { seqSeries.insert(reading.series) }
        #expect(Set(stored.seqWindows.keys) == seqSeries, "one stored window per series that sent seqs")
        for (series, window) in stored.seqWindows {
            let highest = batches.flatMap { $0 }.filter { $0.series == series }.compactMap(\.seq).max()
            #expect(window.highest == highest, "\(series): highest")
            let wrong = (1...300).map(UInt64.init).filter { window.isNew($0, at: window.latestTimestamp) == ledger.wasCounted(series, $0) }
            #expect(wrong.isEmpty, "\(series): the stored window disagrees about seqs \(wrong.prefix(5))")
        }

        let second = site.pipeline(store: secondStore, shards: 3)
        let secondRunner = await start(second)
        try expectOnlyFreshSegments(site, positions: ledger.journalBytes, shards: 3, "after the restart")
        await expectSeqsAlreadyCounted(batches, by: second, "after the restart")
        // Seqs never sent before are taken, also those below each series' highest.
        await submitAll(randomBatches(&generator, count: 4, size: 150), to: second, shards: 3, ledger: &ledger, "second run")
        try await stop(second, secondRunner)
        try await expectStored(ledger, in: secondStore, "after the second run")
        #expect(try await secondStore.recoveryState().checkpoints == ledger.journalBytes)
        try await secondStore.close()
    }

    /// With the journal gone (everything in it was covered by the checkpoint), only the
    /// windows persisted in the store can know the old seqs.
    @Test func storedWindowsAloneRejectOldSeqsAfterTheJournalIsRemoved() async throws {
        let site = try Site()
        defer { site.remove() }
        var ledger = Ledger()
        var generator = SeededGenerator(seed: 0x57_0BED)
        let batches = randomBatches(&generator, count: 6, size: 100)

        let firstStore = try await site.openStore()
        let first = site.pipeline(store: firstStore, shards: 2)
        let firstRunner = await start(first)
        await submitAll(batches, to: first, shards: 2, ledger: &ledger, "first run")
        try await stop(first, firstRunner)
        try await firstStore.close()
        try FileManager.default.removeItem(atPath: site.journalPath)

        let secondStore = try await site.openStore()
        let second = site.pipeline(store: secondStore, shards: 2)
        let secondRunner = await start(second)
        await expectSeqsAlreadyCounted(batches, by: second, "after the restart")
        // The journal goes on from the stored checkpoints, not from 0.
        try expectOnlyFreshSegments(site, positions: ledger.journalBytes, shards: 2, "after the restart")
        await submitAll(randomBatches(&generator, count: 2, size: 100), to: second, shards: 2, ledger: &ledger, "second run")
        try await stop(second, secondRunner)
        try await expectStored(ledger, in: secondStore, "after the second run")
        #expect(try await secondStore.recoveryState().checkpoints == ledger.journalBytes)
        try await secondStore.close()
    }

    // MARK: (d) shard count change

    /// A crash with `more` shards, a restart with `fewer` (3 → 2; 2 → 1, as when a daemon
    /// started with two shards is started again on the default of a two-core machine),
    /// then `more` again.
    @Test(arguments: [(more: 3, fewer: 2), (more: 2, fewer: 1)])
    func journalOfMoreShardsRecoveredByFewerGivesTheSameTotals(shards: (more: Int, fewer: Int)) async throws {
        let site = try Site()
        defer { site.remove() }
        var ledger = Ledger()
        var generator = SeededGenerator(seed: 0x3_2)
        let batches = randomBatches(&generator, count: 10, size: 150)

        // More shards, then a crash: nothing flushed, everything only in the journal.
        let firstStore = try await site.openStore()
        let first = site.pipeline(store: firstStore, shards: shards.more)
        let firstRunner = await start(first)
        await submitAll(batches, to: first, shards: shards.more, ledger: &ledger, "\(shards.more) shards")
        try await waitUntilDrained(first)
        #expect(try await firstStore.devices().isEmpty)
        try await firstStore.close()
        let journalOfMore = ledger.journalBytes
        #expect(journalOfMore.count == shards.more)
        // Series that move to another shard: the replay must re-route them.
        let moved = Set(batches.flatMap { $0 }.map(\.series)).filter { $0.stableHash % UInt64(shards.more) != $0.stableHash % UInt64(shards.fewer) }
        #expect(!moved.isEmpty)

        // Fewer shards.
        let secondStore = try await site.openStore()
        let second = site.pipeline(store: secondStore, shards: shards.fewer)
        let secondRunner = await start(second)
        #expect(second.isAccepting)
        try await expectStored(ledger, in: secondStore, "recovered by \(shards.fewer) shards")
        #expect(try await secondStore.recoveryState().checkpoints == journalOfMore, "the journals of the shards gone are checkpointed too")
        try expectOnlyFreshSegments(site, positions: journalOfMore, shards: shards.fewer, "\(shards.fewer) shards")
        for gone in shards.fewer..<shards.more {
            #expect(try journalSegments(in: site.shardFolder(gone)).isEmpty, "shard \(gone)'s replayed segments are deleted")
        }
        await expectSeqsAlreadyCounted(batches, by: second, "\(shards.fewer) shards")
        await submitAll(randomBatches(&generator, count: 3, size: 100), to: second, shards: shards.fewer, ledger: &ledger, "\(shards.fewer) shards")
        try await stop(second, secondRunner)
        try await expectStored(ledger, in: secondStore, "after the run with \(shards.fewer) shards")
        try await secondStore.close()

        // Back to more: the shards gone continue their journals at their checkpoints; nothing counts twice.
        let thirdStore = try await site.openStore()
        let third = site.pipeline(store: thirdStore, shards: shards.more)
        let thirdRunner = await start(third)
        try await expectStored(ledger, in: thirdStore, "\(shards.more) shards again")
        try expectOnlyFreshSegments(site, positions: ledger.journalBytes, shards: shards.more, "\(shards.more) shards again")
        await expectSeqsAlreadyCounted(batches, by: third, "\(shards.more) shards again")
        await submitAll(randomBatches(&generator, count: 3, size: 100), to: third, shards: shards.more, ledger: &ledger, "\(shards.more) shards again")
        try await stop(third, thirdRunner)
        try await expectStored(ledger, in: thirdStore, "after the last run")
        #expect(try await thirdStore.recoveryState().checkpoints == ledger.journalBytes)
        try await thirdStore.close()

        firstRunner.cancel()
        _ = try? await firstRunner.value
    }
}
