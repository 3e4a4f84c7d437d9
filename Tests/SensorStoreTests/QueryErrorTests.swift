import SensorCore
@testable import SensorStore
import Testing

@Suite struct QueryErrorTests {
    @Test func windowNotMultipleNamesStoredResolutions() async throws {
        let dir = try TempDirectory()
        let store = try await makeStore(dir)
        let error = await #expect(throws: StoreError.self) {
            _ = try await store.aggregates(AggregateQuery(window: res("7s")))
        }
        #expect(error == .windowNotMultiple(window: res("7s"), stored: defaultResolutions))
        #expect(error?.description.contains("window 7s is not a multiple of a stored resolution (10s, 1m, 1h)") == true,
                "message was: \(error?.description ?? "-")")
    }

    @Test func stepNotMultipleNamesStoredResolutions() async throws {
        let dir = try TempDirectory()
        let store = try await makeStore(dir)
        let error = await #expect(throws: StoreError.self) {
            _ = try await store.aggregates(AggregateQuery(window: res("1m"), step: res("15s")))
        }
        #expect(error?.description.contains("step 15s is not a multiple of a stored resolution (10s, 1m, 1h)") == true,
                "message was: \(error?.description ?? "-")")
    }

    @Test func windowAndStepWithoutCommonResolution() throws {
        let stored = [res("4s"), res("6s")]
        #expect(throws: StoreError.noCommonResolution(window: res("8s"), step: res("6s"), stored: stored)) {
            _ = try WindowPlan(query: AggregateQuery(window: res("8s"), step: res("6s")), stored: stored)
        }
    }

    @Test func fromNotBeforeToIsAnError() async throws {
        let dir = try TempDirectory()
        let store = try await makeStore(dir)
        await #expect(throws: StoreError.emptyRange(from: t0, to: t0)) {
            _ = try await store.aggregates(AggregateQuery(window: res("1m"), from: t0, to: t0))
        }
    }

    @Test func noRegisteredResolutions() async throws {
        let dir = try TempDirectory()
        let store = try SQLiteStore(path: dir.file("x.db"), mode: .readWrite)
        await #expect(throws: StoreError.noStoredResolutions) {
            _ = try await store.aggregates(AggregateQuery(window: res("1m")))
        }
    }

    @Test func registerResolutionsReplacesTheSet() async throws {
        let dir = try TempDirectory()
        let store = try await makeStore(dir)
        #expect(try await store.storedResolutions() == defaultResolutions)
        try await store.registerResolutions([res("1h"), res("1m"), res("1m")])
        #expect(try await store.storedResolutions() == [res("1m"), res("1h")])
    }

    /// Many series with a few windows each: their chunks' spans (32 windows a chunk) add up
    /// past the limit, the rows do not, so the query is answered; one row fewer of limit
    /// and it is refused.
    @Test func rowLimitCountsWindowsNotChunkSpans() async throws {
        let dir = try TempDirectory()
        let store = try await makeStore(dir, resolutions: [res("10s")])
        let start = ChunkLayout.chunkStart(of: t0, res("10s")) + 100 * second
        let devices = (0..<40).map { "d\($0)" }
        try await store.write(makeBatch(makeReadings(devices: devices, metrics: ["m"], start: start, span: 30 * second, perSeries: 60)))
        let query = AggregateQuery(window: res("10s"))
        let rows = try await store.aggregates(query, rowLimit: 120)
        #expect(rows.count == 120, "40 series × 3 windows")
        await #expect(throws: StoreError.self) { try await store.aggregates(query, rowLimit: 119) }
    }

    @Test func misalignedBucketIsRejectedAndNothingIsWritten() async throws {
        let dir = try TempDirectory()
        let store = try await makeStore(dir)
        var batch = makeBatch(makeReadings(devices: ["d"], metrics: ["m"], start: t0, span: minute, perSeries: 10))
        var stats = BucketStats()
        stats.add(1, at: t0 + 3 * second)
        batch.buckets.append(Bucket(series: SeriesKey(device: "d", metric: "m"), resolution: res("10s"), windowStart: t0 + 3 * second, stats: stats))
        await #expect(throws: StoreError.self) { try await store.write(batch) }
        #expect(try await store.devices().isEmpty)
    }

    /// A bucket that cannot be stored (here NaN stats, which SQLite would store as NULL and
    /// refuse) is set aside, kept whole in set_aside_buckets; the rest of the batch is
    /// stored, and later writes go on.
    @Test func poisonedBucketIsSetAsideAndTheRestIsStored() async throws {
        let dir = try TempDirectory()
        let store = try await makeStore(dir)
        let good = makeReadings(devices: ["d"], metrics: ["m"], start: t0, span: minute, perSeries: 10)
        var batch = makeBatch(good)
        let poison = BucketStats(count: 1, sum: .nan, min: .nan, max: .nan, mean: .nan, m2: 0,
                                 firstTimestamp: t0, first: .nan, lastTimestamp: t0, last: .nan)
        batch.buckets.append(Bucket(series: SeriesKey(device: "new", metric: "m"), resolution: res("10s"), windowStart: t0, stats: poison))
        let outcome = try await store.write(batch)
        #expect(outcome.setAside == [SetAsideBucket(
            series: SeriesKey(device: "new", metric: "m"), resolution: res("10s"), windowStart: t0,
            reason: "its sum is nan, not a finite number")])
        #expect(store.setAsideBuckets == 1)
        expectRows(try await store.aggregates(AggregateQuery(window: res("1m"))), equal: expectedWindows(good, window: minute))
        #expect(try await store.devices().map(\.device) == ["d"], "the set-aside bucket created no series")
        let path = dir.file("sensorhub.db")
        #expect(try RawSQLite.integer(path: path, sql: "SELECT count(*) FROM set_aside_buckets WHERE device = 'new' AND start_us = \(t0)") == 1)
        #expect(try RawSQLite.integer(path: path, sql: "SELECT length(stats) FROM set_aside_buckets") == Int64(poison.encoded.count))

        let later = makeReadings(devices: ["new", "d"], metrics: ["m"], start: t0 + minute, span: minute, perSeries: 10, seed: 9)
        try await store.write(makeBatch(later))
        expectRows(try await store.aggregates(AggregateQuery(window: res("1m"))), equal: expectedWindows(good + later, window: minute))
    }

    /// A failure of the write as a whole (here a trigger aborting the checkpoint, written
    /// after the series rows and chunks) stores nothing, leaves the store's caches exact,
    /// and the store works once the cause is gone.
    @Test func failedTransactionWritesNothingAndLeavesTheStoreUsable() async throws {
        let dir = try TempDirectory()
        let path = dir.file("sensorhub.db")
        let store = try await makeStore(dir)
        // Refused at the very end (the checkpoint is written last): both series rows and
        // their chunks were written, and must all be rolled back, the writer's caches too.
        try RawSQLite.execute(path: path, sql: """
            CREATE TRIGGER refuse BEFORE INSERT ON journal_checkpoints
            BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END
            """)
        var batch = makeBatch(makeReadings(devices: ["d", "new"], metrics: ["m"], start: t0, span: minute, perSeries: 10))
        batch.checkpoints = [0: 1]
        await #expect(throws: StoreError.self) { try await store.write(batch) }
        #expect(try await store.devices().isEmpty, "a failed batch left rows behind")

        try RawSQLite.execute(path: path, sql: "DROP TRIGGER refuse")
        let later = makeReadings(devices: ["new", "d"], metrics: ["m"], start: t0, span: minute, perSeries: 10, seed: 9)
        try await store.write(makeBatch(later))
        expectRows(try await store.aggregates(AggregateQuery(window: res("1m"))), equal: expectedWindows(later, window: minute))
    }

    /// A failed write that merged into a chunk this store wrote and cached leaves that
    /// chunk, and the cache, as committed: the next write into the chunk merges into
    /// exactly the committed buckets.
    @Test func aFailedMergeIntoACachedChunkLeavesTheCommittedOneToMergeInto() async throws {
        let dir = try TempDirectory()
        let path = dir.file("sensorhub.db")
        let store = try await makeStore(dir)
        let first = makeReadings(devices: ["d"], metrics: ["m"], start: t0, span: minute, perSeries: 10)
        try await store.write(makeBatch(first))
        try RawSQLite.execute(path: path, sql: """
            CREATE TRIGGER refuse BEFORE INSERT ON journal_checkpoints
            BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END
            """)
        var failed = makeBatch(makeReadings(devices: ["d"], metrics: ["m"], start: t0, span: minute, perSeries: 10, seed: 5))
        failed.checkpoints = [0: 1]
        await #expect(throws: StoreError.self) { try await store.write(failed) }

        try RawSQLite.execute(path: path, sql: "DROP TRIGGER refuse")
        let later = makeReadings(devices: ["d"], metrics: ["m"], start: t0, span: minute, perSeries: 10, seed: 9)
        try await store.write(makeBatch(later))
        expectRows(try await store.aggregates(AggregateQuery(window: res("10s"))), equal: expectedWindows(first + later, window: 10 * second))
    }
}

@Suite struct ChunkCacheTests {
    /// A slot's entry only moves to newer chunks: a chunk newer than the entry's was not
    /// recorded, one at or before it may have been.
    @Test func aSlotTellsWhichChunksMayHaveBeenRecorded() {
        var cache = ChunkCache()
        let slot = ChunkCache.Slot(seriesID: 7, resolution: 10), chunk: Int64 = 3_200_000_000, next = chunk + 320_000_000
        #expect(!cache.holdsChunk(atOrAfter: chunk, in: slot))
        cache.record(ChunkCache.Slot(seriesID: 8, resolution: 10), chunkStart: next, bytes: [1])
        #expect(!cache.holdsChunk(atOrAfter: chunk, in: slot), "another series' chunk says nothing of this one")
        cache.record(slot, chunkStart: chunk, bytes: [1])
        #expect(cache.holdsChunk(atOrAfter: chunk, in: slot) && !cache.holdsChunk(atOrAfter: next, in: slot))
        cache.record(slot, chunkStart: next, bytes: [2])
        cache.record(slot, chunkStart: chunk, bytes: [3])
        #expect(cache.holdsChunk(atOrAfter: chunk, in: slot) && cache.stored(slot, chunkStart: next) == [2], "an older chunk leaves the entry")
    }

    /// An entry keeps a chunk's number in 32 bits. A chunk whose number does not fit (its
    /// time thousands of years away) is not kept, and from then on every chunk of its slot
    /// may have been written, as every chunk of a series whose id is past the cached range
    /// may have: a write into them reads its row back instead of taking it as new.
    @Test func slotsItCannotTellAboutMayHoldEveryChunk() {
        var cache = ChunkCache()
        let slot = ChunkCache.Slot(seriesID: 3, resolution: 10), span: Int64 = 320_000_000
        let far = (Int64(Int32.max) + 1) * span, near = 5 * span
        cache.record(slot, chunkStart: near, bytes: [1])
        cache.record(slot, chunkStart: far, bytes: [2])
        #expect(cache.count == 0 && cache.memory == 0, "the near chunk's bytes went with it")
        #expect(cache.stored(slot, chunkStart: far) == nil && cache.stored(slot, chunkStart: near) == nil)
        #expect(cache.holdsChunk(atOrAfter: far + span, in: slot), "a later chunk may have been written")
        cache.record(slot, chunkStart: near + span, bytes: [3])
        #expect(cache.stored(slot, chunkStart: near + span) == nil && cache.holdsChunk(atOrAfter: far + span, in: slot))
        // Before the epoch too.
        let early = ChunkCache.Slot(seriesID: 4, resolution: 10)
        cache.record(early, chunkStart: Int64(Int32.min) * span, bytes: [4])
        #expect(cache.holdsChunk(atOrAfter: 0, in: early))
        cache.record(early, chunkStart: (Int64(Int32.min) + 1) * span, bytes: [5])
        #expect(cache.stored(early, chunkStart: (Int64(Int32.min) + 1) * span) == nil, "the slot stays unknown")

        let uncached = ChunkCache.Slot(seriesID: ChunkCache.largestCachedID + 1, resolution: 10)
        #expect(cache.holdsChunk(atOrAfter: near, in: uncached))
        #expect(!cache.holdsChunk(atOrAfter: near, in: ChunkCache.Slot(seriesID: 5, resolution: 10)), "a cached slot never written")
    }

    /// Each (series, resolution) has its own entry, whatever the ids; retention forgets the
    /// older chunks of its resolution only; an id past the cached range is not cached.
    @Test func slotsKeepApartAndRetentionForgetsItsResolutionOnly() {
        var cache = ChunkCache()
        let old: Int64 = 0, new: Int64 = 320_000_000
        for id: Int64 in [0, 1, 5, 1_000] {
            cache.record(ChunkCache.Slot(seriesID: id, resolution: 10), chunkStart: id.isMultiple(of: 2) ? old : new, bytes: [1, UInt8(id % 256)])
            cache.record(ChunkCache.Slot(seriesID: id, resolution: 60), chunkStart: old, bytes: [2, UInt8(id % 256)])
        }
        cache.record(ChunkCache.Slot(seriesID: ChunkCache.largestCachedID + 1, resolution: 10), chunkStart: new, bytes: [3])
        #expect(cache.count == 8)
        #expect(cache.stored(ChunkCache.Slot(seriesID: ChunkCache.largestCachedID + 1, resolution: 10), chunkStart: new) == nil)
        #expect(cache.stored(ChunkCache.Slot(seriesID: 5, resolution: 10), chunkStart: new) == [1, 5])
        #expect(cache.stored(ChunkCache.Slot(seriesID: 5, resolution: 60), chunkStart: old) == [2, 5])
        #expect(cache.stored(ChunkCache.Slot(seriesID: 5, resolution: 3600), chunkStart: old) == nil)
        #expect(cache.stored(ChunkCache.Slot(seriesID: 2, resolution: 10), chunkStart: old) == nil, "no entry between two ids")

        cache.forget(resolution: 10, before: new)
        #expect(cache.count == 6)
        #expect(cache.stored(ChunkCache.Slot(seriesID: 1_000, resolution: 10), chunkStart: old) == nil)
        #expect(cache.stored(ChunkCache.Slot(seriesID: 1, resolution: 10), chunkStart: new) == [1, 1])
        #expect(cache.stored(ChunkCache.Slot(seriesID: 1_000, resolution: 60), chunkStart: old) == [2, 1_000 % 256])
        #expect(cache.memory == 2 * (2 + ChunkCache.entryOverhead) + 4 * (2 + ChunkCache.entryOverhead))
    }

    /// Chunks of wide sketches fill the cache's byte budget: past it, an entry keeps no
    /// bytes but still tells its chunk was written; after such a write the oldest chunks'
    /// bytes go, and the next write's chunks take their place.
    @Test func theCacheStaysWithinItsByteBudget() {
        // Every bin of both stores (each a step of γ ≈ 1.0202 apart): the widest sketch.
        var wide = BucketStats()
        var value = 1.0
        for _ in 0..<QuantileSketch.maxBins {
            wide.add(value, at: 0)
            wide.add(-value, at: 0)
            value *= 1.0202
        }
        var bytes: [UInt8] = [1]
        var sketch: [UInt8] = []
        for index in 0..<32 { ChunkCodec.append(index: index, windowStart: 0, stats: wide, to: &bytes, sketchBytes: &sketch, decimal: true) }
        #expect(bytes.count > 100_000, "32 buckets of two full sketch stores")
        func slot(_ series: Int) -> ChunkCache.Slot { ChunkCache.Slot(seriesID: Int64(series), resolution: 10) }
        let budget = 1 << 20, fitting = budget / (bytes.count + ChunkCache.entryOverhead)
        var cache = ChunkCache(budget: budget)
        for series in 0..<200 {
            cache.record(slot(series), chunkStart: Int64(series) * 320_000_000, bytes: bytes)
            #expect(cache.memory <= budget)
        }
        // Booleans first: a failed expectation prints its operands, here whole chunks.
        func kept(_ series: Int) -> Bool { cache.stored(slot(series), chunkStart: Int64(series) * 320_000_000) == bytes }
        func written(_ series: Int) -> Bool { cache.holdsChunk(atOrAfter: Int64(series) * 320_000_000, in: slot(series)) }
        #expect(cache.count == fitting)
        let firstKept = kept(0), lastKept = kept(199), lastWritten = written(199)
        #expect(firstKept, "the first chunks fit")
        #expect(!lastKept, "past the budget")
        #expect(lastWritten, "written, though its bytes are not kept")

        cache.makeRoom()
        #expect(cache.memory <= budget / 4 * 3)
        let oldestKept = kept(0), oldestWritten = written(0), newestKept = kept(fitting - 1)
        #expect(!oldestKept, "the oldest went")
        #expect(oldestWritten)
        #expect(newestKept, "the newest of those kept stay")
        cache.record(slot(199), chunkStart: 199 * 320_000_000, bytes: bytes)
        let rewrittenKept = kept(199)
        #expect(rewrittenKept, "the next write takes the room")
        let kept = cache.count
        cache.makeRoom()
        #expect(cache.count == kept, "a write that found room lets nothing go")
    }

    /// Chunks of a reading or two are mostly overhead (the array, its place): the budget
    /// counts it, so many tiny chunks cannot hold several times the budget.
    @Test func tinyChunksCountWhatTheyHold() {
        var cache = ChunkCache(budget: 1 << 20)
        for series in 0..<100_000 {
            cache.record(ChunkCache.Slot(seriesID: Int64(series), resolution: 10), chunkStart: Int64(series) * 320_000_000, bytes: Array(repeating: 7, count: 16))
        }
        #expect(ChunkCache.entryOverhead >= 64, "an array header, its place and the entry")
        #expect(cache.memory == cache.count * (16 + ChunkCache.entryOverhead))
        #expect(cache.memory <= 1 << 20)
        #expect(cache.count == (1 << 20) / (16 + ChunkCache.entryOverhead), "\(cache.count) tiny chunks kept in 1 MiB")
    }
}
