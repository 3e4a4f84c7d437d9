import Dispatch
import SensorCore
import Synchronization
@testable import SensorStore
import Testing

/// How a flush's bucket groups reach the chunks, in the orders a batch can hold them.
@Suite struct BatchWriterTests {
    private static let series = SeriesKey(device: "d", metric: "m")
    private static let chunkSpan = ChunkLayout.windows * 10 * second

    private func bucket(_ windowStart: Int64, _ value: Double) -> Bucket {
        var stats = BucketStats()
        stats.add(value, at: windowStart + second)
        return Bucket(series: Self.series, resolution: res("10s"), windowStart: windowStart, stats: stats)
    }

    /// Chunk caches: as large as needed, and none (every chunk's bytes past the budget, so
    /// only its entry tells it was written).
    static let cacheBudgets = [Int.max, 0]

    /// A chunk written twice in one transaction, with another chunk of its series in
    /// between: the second write must start from the first one's bytes, not from what the
    /// committed cache held before the transaction.
    @Test(arguments: cacheBudgets) func aChunkRevisitedInOneFlushKeepsBothDeltas(cacheBudget: Int) async throws {
        let dir = try TempDirectory()
        let store = try await makeStore(dir, resolutions: [res("10s")])
        store.chunkCache.withLock { $0 = ChunkCache(budget: cacheBudget) }
        let chunkA = ChunkLayout.chunkStart(of: t0, res("10s")), chunkB = chunkA + Self.chunkSpan
        try await store.write(FlushBatch(buckets: [bucket(chunkA, 1)]))

        // Three groups of the same series and resolution: A, then B, then A again.
        let revisits = FlushBatch(groups: [bucket(chunkA + 10 * second, 2), bucket(chunkB, 3), bucket(chunkA + 20 * second, 4)].map {
            BucketGroup(series: $0.series, resolution: $0.resolution, windowStarts: [$0.windowStart], stats: [$0.stats])
        })
        try await store.write(revisits)

        let rows = try await store.aggregates(AggregateQuery(window: res("10s")))
        #expect(rows.map(\.windowStart) == [chunkA, chunkA + 10 * second, chunkA + 20 * second, chunkB])
        #expect(rows.map(\.stats.sum) == [1, 2, 4, 3])
    }

    /// The same for a series the transaction creates: its chunks are not read back (none
    /// can be stored) until this transaction wrote them, and then they are.
    @Test(arguments: cacheBudgets) func aNewSeriesChunkRevisitedInItsFirstFlushKeepsBothDeltas(cacheBudget: Int) async throws {
        let dir = try TempDirectory()
        let store = try await makeStore(dir, resolutions: [res("10s")])
        store.chunkCache.withLock { $0 = ChunkCache(budget: cacheBudget) }
        let chunkA = ChunkLayout.chunkStart(of: t0, res("10s")), chunkB = chunkA + Self.chunkSpan
        let revisits = FlushBatch(groups: [bucket(chunkA, 1), bucket(chunkB, 3), bucket(chunkA + 20 * second, 4)].map {
            BucketGroup(series: $0.series, resolution: $0.resolution, windowStarts: [$0.windowStart], stats: [$0.stats])
        })
        try await store.write(revisits)
        try await store.write(FlushBatch(buckets: [bucket(chunkB + 10 * second, 5)]))

        let rows = try await store.aggregates(AggregateQuery(window: res("10s")))
        #expect(rows.map(\.windowStart) == [chunkA, chunkA + 20 * second, chunkB, chunkB + 10 * second])
        #expect(rows.map(\.stats.sum) == [1, 4, 3, 5])
    }

    /// With a cache far smaller than a flush's chunks, flushes into chunks whose bytes it
    /// did not keep, or let go, read their rows back: six flushes of 40 series, each into
    /// windows the earlier ones hold and new ones of the same chunks, give every bucket of
    /// every resolution exactly its readings.
    @Test func flushesPastTheCacheBudgetMergeIntoTheStoredChunks() async throws {
        let dir = try TempDirectory()
        let store = try await makeStore(dir)
        store.chunkCache.withLock { $0 = ChunkCache(budget: 10 * (100 + ChunkCache.entryOverhead)) }
        var all: [Reading] = []
        for flush in 0..<6 {
            let readings = makeReadings(
                devices: (0..<20).map { "d\($0)" }, metrics: ["m", "n"], start: t0 + Int64(flush) * 20 * second, span: 2 * minute,
                perSeries: 8, seed: UInt64(flush))
            try await store.write(makeBatch(readings))
            all += readings
            #expect(store.chunkCache.withLock { $0.memory } <= 10 * (100 + ChunkCache.entryOverhead))
        }
        for resolution in defaultResolutions {
            expectRows(try await store.aggregates(AggregateQuery(window: resolution)), equal: expectedWindows(all, window: resolution.seconds * second))
        }
    }

    /// Windows out of order and repeated within one group are merged per window.
    @Test func unorderedAndRepeatedWindowsAreMerged() async throws {
        let dir = try TempDirectory()
        let store = try await makeStore(dir, resolutions: [res("10s")])
        let start = ChunkLayout.chunkStart(of: t0, res("10s"))
        let group = [bucket(start + 20 * second, 1), bucket(start, 2), bucket(start + 20 * second, 3), bucket(start + Self.chunkSpan, 4), bucket(start, 5)]
        try await store.write(FlushBatch(buckets: group))
        let rows = try await store.aggregates(AggregateQuery(window: res("10s")))
        #expect(rows.map(\.windowStart) == [start, start + 20 * second, start + Self.chunkSpan])
        #expect(rows.map(\.stats.count) == [2, 2, 1])
        #expect(rows.map(\.stats.sum) == [7, 4, 4])
    }

    /// A series' seq window is stored with its counts, or alone when the batch has no
    /// readings of it (all were duplicates); a later window of a series in one batch wins.
    @Test func seqWindowsAreStoredWithTheirSeriesCountsOrAlone() async throws {
        let dir = try TempDirectory()
        let store = try await makeStore(dir, resolutions: [res("10s")])
        let counted = SeriesKey(device: "a", metric: "m"), duplicatesOnly = SeriesKey(device: "b", metric: "m")
        var early = SeqWindow(first: 1, at: t0)
        var late = early
        _ = late.admit(2, at: t0 + second)
        _ = early.admit(5, at: t0 + 2 * second)
        try await store.write(FlushBatch(series: [SeriesDelta(series: duplicatesOnly, readings: 1, lastSeen: t0)]))

        var windows: EncodedSeqWindows = [counted: early]
        windows.append(late, of: counted)
        windows.append(early, of: duplicatesOnly)
        try await store.write(FlushBatch(series: [SeriesDelta(series: counted, readings: 3, lastSeen: t0 + second)], seqWindows: windows))

        let state = try await store.recoveryState(batchesSince: 0)
        #expect(state.seqWindows == [counted: late, duplicatesOnly: early])
        let devices = try await store.devices()
        #expect(devices.map(\.readings) == [3, 1])
    }

    /// Series deltas and seq windows in any order, a series with several windows (the
    /// latest wins), with two deltas (a carried batch's and the next flush's), with
    /// windows and no delta, with a delta and no window, old and new: each series gets
    /// its counts and its latest window.
    @Test func everySeriesGetsItsCountsAndItsLatestWindowWhateverTheOrders() async throws {
        let dir = try TempDirectory()
        let store = try await makeStore(dir, resolutions: [res("10s")])
        var generator = SeededGenerator(seed: 7)
        let series = (0..<60).map { SeriesKey(device: "d\($0 % 20)", metric: "m\($0 / 20)") }
        // A third of them stored already.
        try await store.write(FlushBatch(series: series.indices.filter { $0 % 3 == 0 }.map { SeriesDelta(series: series[$0], readings: 1, lastSeen: t0) }))
        var expectedReadings = Dictionary(uniqueKeysWithValues: series.indices.filter { $0 % 3 == 0 }.map { (series[$0], Int64(1)) })

        var deltas: [SeriesDelta] = []
        var windowed: [(SeriesKey, SeqWindow)] = []
        var expectedWindows: [SeriesKey: SeqWindow] = [:]
        for (index, key) in series.enumerated() {
            let deltaCount = [0, 1, 1, 2][index % 4]
            for _ in 0..<deltaCount {
                let readings = Int64.random(in: 1...9, using: &generator)
                deltas.append(SeriesDelta(series: key, readings: readings, lastSeen: t0 + second))
                expectedReadings[key, default: 0] += readings
            }
            for _ in 0..<[0, 1, 3][index % 3] {
                var window = SeqWindow(first: UInt64.random(in: 1...1_000, using: &generator), at: t0)
                _ = window.admit(window.highest + UInt64.random(in: 1...5, using: &generator), at: t0 + second)
                windowed.append((key, window))
            }
            // A series with windows alone is inserted with no readings.
            if deltaCount == 0, windowed.last?.0 == key { expectedReadings[key, default: 0] += 0 }
        }
        deltas.shuffle(using: &generator)
        windowed.shuffle(using: &generator)
        var windows = EncodedSeqWindows()
        for (key, window) in windowed {
            windows.append(window, of: key)
            expectedWindows[key] = window
        }
        try await store.write(FlushBatch(series: deltas, seqWindows: windows))

        let state = try await store.recoveryState(batchesSince: 0)
        #expect(state.seqWindows == expectedWindows)
        var readings: [SeriesKey: Int64] = [:]
        for key in series {
            readings[key] = try RawSQLite.integer(
                path: dir.file("sensorhub.db"), sql: "SELECT readings FROM series WHERE device = '\(key.device)' AND metric = '\(key.metric)'")
        }
        #expect(readings == expectedReadings)
    }

    /// A window of a series the store has no row of yet (its readings came after the
    /// flush took its buckets) inserts the series with the window's latest event time as
    /// last seen, not 0; its counts come with a later batch.
    @Test func aWindowAheadOfItsSeriesCountsInsertsItWithTheWindowsTime() async throws {
        let dir = try TempDirectory()
        let store = try await makeStore(dir, resolutions: [res("10s")])
        let ahead = SeriesKey(device: "c", metric: "m")
        var window = SeqWindow(first: 1, at: t0)
        _ = window.admit(2, at: t0 + 3 * second)
        try await store.write(FlushBatch(seqWindows: [ahead: window]))
        #expect(try await store.devices() == [DeviceSummary(device: "c", metrics: ["m"], lastSeen: t0 + 3 * second, readings: 0)])
        try await store.write(FlushBatch(series: [SeriesDelta(series: ahead, readings: 2, lastSeen: t0 + 3 * second)]))
        #expect(try await store.devices() == [DeviceSummary(device: "c", metrics: ["m"], lastSeen: t0 + 3 * second, readings: 2)])
    }

    /// The store commits seq windows only once what they count is durable: it waits for
    /// `seqWindowsDurable` inside the transaction (a journal sync, in the daemon), so a
    /// reader sees neither the windows nor the buckets written with them until it returns.
    @Test func seqWindowsAreCommittedOnlyOnceTheirRecordsAreDurable() async throws {
        let dir = try TempDirectory()
        let store = try await makeStore(dir, resolutions: [res("10s")])
        let series = SeriesKey(device: "a", metric: "m")
        let entered = Atomic<Bool>(false)
        let release = DispatchSemaphore(value: 0)
        var batch = FlushBatch(buckets: [bucket(t0, 1)], seqWindows: [series: SeqWindow(first: 1, at: t0)])
        batch.seqWindowsDurable = {
            entered.store(true, ordering: .releasing)
            release.wait()
        }
        let writing = Task { try await store.write(batch) }
        let deadline = ContinuousClock.now + .seconds(60)
        while !entered.load(ordering: .acquiring), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        let waited = entered.load(ordering: .acquiring)
        #expect(waited, "the store never waited for the windows' records")
        #expect(try await store.recoveryState(batchesSince: 0).seqWindows.isEmpty)
        #expect(try await store.aggregates(AggregateQuery(window: res("10s"))).isEmpty)

        release.signal()
        _ = try await writing.value
        #expect(try await store.recoveryState(batchesSince: 0).seqWindows == [series: SeqWindow(first: 1, at: t0)])
        #expect(try await store.aggregates(AggregateQuery(window: res("10s"))).map(\.stats.count) == [1])
    }

    /// After recovery the store holds every series id and takes a series it lacks for
    /// new, without asking the table: a restarted store must then find the series an
    /// earlier one wrote (an insert would break the table's unique names), and insert
    /// the new ones.
    @Test func aRecoveredStoreKnowsEverySeriesOfTheFile() async throws {
        let dir = try TempDirectory()
        let early = SeriesKey(device: "a", metric: "m"), late = SeriesKey(device: "b", metric: "m")
        func bucket(_ value: Double, of series: SeriesKey) -> Bucket {
            var bucket = self.bucket(t0, value)
            bucket.series = series
            return bucket
        }
        let first = try await makeStore(dir, resolutions: [res("10s")])
        try await first.write(FlushBatch(buckets: [bucket(1, of: early)], series: [SeriesDelta(series: early, readings: 1, lastSeen: t0)]))
        try await first.close()

        let store = try await makeStore(dir, resolutions: [res("10s")])
        #expect(try await store.recoveryState(batchesSince: 0).series == [early])
        try await store.write(FlushBatch(buckets: [bucket(2, of: early), bucket(3, of: late)], series: [
            SeriesDelta(series: early, readings: 1, lastSeen: t0), SeriesDelta(series: late, readings: 1, lastSeen: t0),
        ]))
        try await store.write(FlushBatch(series: [SeriesDelta(series: late, readings: 1, lastSeen: t0 + second)]))
        #expect(try await store.devices().map(\.readings) == [2, 2])
        let rows = try await store.aggregates(AggregateQuery(window: res("10s")))
        #expect(rows.map(\.series.device) == ["a", "b"])
        #expect(rows.map(\.stats.count) == [2, 1])
    }

    /// Series the writer tags (the pipeline's pending ones) are kept by their tag: found by
    /// it in later flushes, and after a restart by their name first (the rows recovery
    /// read). A plain batch of a series inserted by its tag alone asks the table instead
    /// of inserting the row again, and a failed transaction's tagged inserts are forgotten,
    /// so its retry inserts them again.
    @Test func seriesKeptByTheirTagAreFoundByTagAndByName() async throws {
        let dir = try TempDirectory()
        let recovered = SeriesKey(device: "a", metric: "m"), tagged = SeriesKey(device: "b", metric: "m")
        let refusedAtFirst = SeriesKey(device: "c", metric: "m")
        func group(_ series: SeriesKey, _ tag: SeriesTag?, _ value: Double) -> BucketGroup {
            var stats = BucketStats()
            stats.add(value, at: t0 + second)
            return BucketGroup(series: series, tag: tag, resolution: res("10s"), windowStarts: [t0], stats: [stats])
        }
        let first = try await makeStore(dir, resolutions: [res("10s")])
        try await first.write(FlushBatch(groups: [group(recovered, nil, 1)]))
        try await first.close()

        let store = try await makeStore(dir, resolutions: [res("10s")])
        #expect(try await store.recoveryState(batchesSince: 0).series == [recovered])
        for value in [2.0, 3.0] {
            try await store.write(FlushBatch(groups: [
                group(recovered, SeriesTag(shard: 1, index: 0), value), group(tagged, SeriesTag(shard: 0, index: 5), value),
            ]))
        }
        try await store.write(FlushBatch(groups: [group(tagged, nil, 4)]))

        let path = dir.file("sensorhub.db")
        try RawSQLite.execute(path: path, sql: """
            CREATE TRIGGER refuse BEFORE INSERT ON journal_checkpoints
            BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END
            """)
        var refused = FlushBatch(groups: [group(refusedAtFirst, SeriesTag(shard: 0, index: 6), 5)])
        refused.checkpoints = [0: 1]
        await #expect(throws: StoreError.self) { try await store.write(refused) }
        try RawSQLite.execute(path: path, sql: "DROP TRIGGER refuse")
        try await store.write(refused)

        let rows = try await store.aggregates(AggregateQuery(window: res("10s")))
        #expect(rows.map(\.series.device) == ["a", "b", "c"])
        #expect(rows.map(\.stats.count) == [3, 3, 1])
        #expect(rows.map(\.stats.sum) == [6, 9, 5])
    }
}
