import Foundation
import SensorCore
import Synchronization
@testable import SensorStore
import Testing

/// A part of pending buckets as a test builds it: one bucket per series at 10 s.
private struct TestPart: UnflushedPart {
    let shard: Int
    let position: Int64
    let buckets: [(series: SeriesKey, windowStart: Int64, stats: BucketStats)]

    var seriesCount: Int { buckets.count }

    func series(at index: Int) -> SeriesKey {
        buckets[index].series
    }

    func bucketCount(ofSeriesAt index: Int, resolution: Resolution, startingIn starts: Range<Int64>) -> Int {
        starts.contains(buckets[index].windowStart) ? 1 : 0
    }

    func group(ofSeriesAt index: Int, resolution: Resolution, startingIn starts: Range<Int64>) -> BucketGroup? {
        let bucket = buckets[index]
        guard starts.contains(bucket.windowStart) else { return nil }
        return BucketGroup(series: bucket.series, resolution: resolution, windowStarts: [bucket.windowStart], stats: [bucket.stats])
    }

    func totals(ofSeriesAt index: Int) -> (readings: Int64, lastSeen: Int64) {
        (buckets[index].stats.count, buckets[index].stats.lastTimestamp)
    }
}

/// The store merges a pending part into its answer exactly when its snapshot does not hold
/// it: when the shard's stored journal checkpoint is before the part's position.
@Suite struct UnflushedMergeTests {
    private func stats(_ values: [Double], at timestamp: Int64) -> BucketStats {
        var stats = BucketStats()
        for value in values { stats.add(value, at: timestamp) }
        return stats
    }

    @Test func aPartIsMergedOnlyPastTheStoredCheckpointAndInTheStoresOrder() async throws {
        let dir = try TempDirectory()
        let store = try SQLiteStore(path: dir.file("x.db"), mode: .readWrite)
        try await store.registerResolutions([res("10s")])
        let stored = SeriesKey(device: "m", metric: "t")
        let written = stats([5], at: t0 + second)
        try await store.write(FlushBatch(
            buckets: [Bucket(series: stored, resolution: res("10s"), windowStart: t0, stats: written)],
            series: [SeriesDelta(series: stored, readings: 1, lastSeen: t0 + second)], checkpoints: [0: 100]))
        let query = AggregateQuery(window: res("10s"))
        func answer(_ parts: [any UnflushedPart]) async throws -> [AggregateRow] {
            let sink = Collected()
            try await store.aggregates(query, rowLimit: 1_000, unflushed: parts, into: sink)
            return sink.rows
        }

        // The part the last flush wrote (its position is the stored checkpoint): not again.
        let flushed = TestPart(shard: 0, position: 100, buckets: [(stored, t0, written)])
        #expect(try await answer([flushed]).map(\.stats.count) == [1])
        #expect(try await store.devices(unflushed: [flushed]).map(\.readings) == [1])
        // A later one, and one of a shard with no checkpoint yet: merged, in byte order
        // around the stored series.
        let later = TestPart(shard: 0, position: 101, buckets: [
            (stored, t0, stats([7], at: t0 + 2 * second)), (SeriesKey(device: "zz", metric: "t"), t0, stats([1, 2], at: t0)),
        ])
        let otherShard = TestPart(shard: 1, position: 1, buckets: [(SeriesKey(device: "a", metric: "t"), t0 + 10 * second, stats([3], at: t0 + 10 * second))])
        let rows = try await answer([flushed, later, otherShard])
        #expect(rows.map(\.series.device) == ["a", "m", "zz"])
        #expect(rows.map(\.stats.count) == [1, 2, 2])
        #expect(rows[1].stats.sum == 12 && rows[1].stats.first == 5 && rows[1].stats.last == 7)
        let devices = try await store.devices(unflushed: [flushed, later, otherShard])
        #expect(devices.map(\.device) == ["a", "m", "zz"] && devices.map(\.readings) == [1, 2, 2])
        // Once a flush stores the later part, it is not merged again.
        try await store.write(FlushBatch(
            buckets: [Bucket(series: stored, resolution: res("10s"), windowStart: t0, stats: later.buckets[0].stats)],
            series: [SeriesDelta(series: stored, readings: 1, lastSeen: t0 + 2 * second)], checkpoints: [0: 101]))
        #expect(try await answer([later]).map(\.stats.count) == [2])
    }

    /// A series pending in two parts (the batch being written and the shard still adding
    /// to it) is one series of the answer: a window both hold is one row of both parts'
    /// readings, and each part's other windows are rows of their own, in window order.
    @Test func aSeriesPendingInTwoPartsIsOneSeriesOfTheAnswer() async throws {
        let dir = try TempDirectory()
        let store = try SQLiteStore(path: dir.file("x.db"), mode: .readWrite)
        try await store.registerResolutions([res("10s")])
        let busy = SeriesKey(device: "b", metric: "t"), other = SeriesKey(device: "c", metric: "t")
        let writing = TestPart(shard: 0, position: 5, buckets: [
            (busy, t0, stats([1, 2], at: t0 + second)), (other, t0, stats([4], at: t0)),
        ])
        let adding = TestPart(shard: 0, position: 9, buckets: [
            (SeriesKey(device: "a", metric: "t"), t0, stats([8], at: t0)), (busy, t0, stats([3], at: t0 + 3 * second)),
        ])
        let laterWindow = TestPart(shard: 0, position: 12, buckets: [(busy, t0 + 20 * second, stats([6], at: t0 + 21 * second))])
        let sink = Collected()
        try await store.aggregates(AggregateQuery(window: res("10s")), rowLimit: 1_000, unflushed: [writing, adding, laterWindow], into: sink)
        #expect(sink.rows.map { "\($0.series.device)@\(($0.windowStart - t0) / second)" } == ["a@0", "b@0", "b@20", "c@0"])
        #expect(sink.rows.map(\.stats.count) == [1, 3, 1, 1])
        #expect(sink.rows[1].stats.sum == 6 && sink.rows[1].stats.first == 1 && sink.rows[1].stats.last == 3)
        let devices = try await store.devices(unflushed: [writing, adding, laterWindow])
        #expect(devices.map(\.device) == ["a", "b", "c"] && devices.map(\.readings) == [1, 4, 1])
    }

    /// The row bound counts a window stored and pending once: a pending bucket inside its
    /// series' stored span adds no row, one past it does, as does a series only pending; a
    /// window two pending parts hold (the batch being written, the shard adding to it)
    /// counts once too. Both with and without a time range (the bound's first step, and its
    /// spans).
    @Test func theRowBoundCountsAWindowStoredAndPendingOnce() async throws {
        let dir = try TempDirectory()
        let store = try SQLiteStore(path: dir.file("x.db"), mode: .readWrite)
        try await store.registerResolutions([res("10s")])
        let stored = SeriesKey(device: "m", metric: "t"), fresh = SeriesKey(device: "n", metric: "t")
        let windows = (0..<6).map { t0 + Int64($0) * 10 * second }
        try await store.write(FlushBatch(
            buckets: windows.map { Bucket(series: stored, resolution: res("10s"), windowStart: $0, stats: stats([1], at: $0)) },
            series: [SeriesDelta(series: stored, readings: 6, lastSeen: windows[5])], checkpoints: [0: 100]))
        // Windows 0-5 stored; pending: 0 and 5 again, 6 new, and a new series.
        let pending = TestPart(shard: 0, position: 101, buckets: [
            (stored, windows[0], stats([2], at: windows[0])), (stored, windows[5], stats([2], at: windows[5])),
            (stored, windows[5] + 10 * second, stats([2], at: windows[5] + 10 * second)), (fresh, t0, stats([3], at: t0)),
        ])
        let adding = TestPart(shard: 0, position: 102, buckets: [
            (stored, windows[5] + 10 * second, stats([4], at: windows[5] + 10 * second)), (fresh, t0, stats([5], at: t0)),
        ])
        for query in [AggregateQuery(window: res("10s")), AggregateQuery(window: res("10s"), from: t0, to: t0 + 70 * second)] {
            func answer(limit: Int) async throws -> [AggregateRow] {
                let sink = Collected()
                try await store.aggregates(query, rowLimit: limit, unflushed: [pending, adding], into: sink)
                return sink.rows
            }
            let rows = try await answer(limit: 8)
            #expect(rows.count == 8 && rows.map(\.stats.count).reduce(0, +) == 12)
            await #expect(throws: StoreError.self, "\(query)") { try await answer(limit: 7) }
        }
    }

    /// Series only pending that come before a stored one (a burst of new series not flushed
    /// yet) are handed on a page at a time, not all at once when the stored one is reached;
    /// the answer is every series once, in the store's order.
    @Test func pendingSeriesBeforeAStoredOneComeAPageAtATime() async throws {
        let dir = try TempDirectory()
        let store = try SQLiteStore(path: dir.file("x.db"), mode: .readWrite)
        try await store.registerResolutions([res("10s")])
        let stored = SeriesKey(device: "z", metric: "t")
        try await store.write(FlushBatch(
            buckets: [Bucket(series: stored, resolution: res("10s"), windowStart: t0, stats: stats([1], at: t0))],
            series: [SeriesDelta(series: stored, readings: 1, lastSeen: t0)], checkpoints: [0: 1]))
        let fresh = (0..<1_000).map { SeriesKey(device: "a\($0)", metric: "t") }
        let pending = TestPart(shard: 0, position: 2, buckets: fresh.map { ($0, t0, stats([2], at: t0)) } + [(stored, t0, stats([3], at: t0))])
        let sink = Pages(pageRows: 64)
        try await store.aggregates(AggregateQuery(window: res("10s")), rowLimit: 10_000, unflushed: [pending], into: sink)
        let pages = sink.pages
        #expect(pages.allSatisfy { $0.count <= 64 }, "pages of \(Set(pages.map(\.count)).sorted()) rows")
        #expect(pages.flatMap { $0 }.map(\.series) == fresh.sorted { UnflushedGroups.precedes($0, $1) } + [stored])
        #expect(pages.last?.last?.stats.count == 2)
    }

    /// A page is taken at the end of a chunk or of a pending series, a few rows past its
    /// size: it starts with room for those, so it never doubles its buffer for its last rows.
    @Test func pagesPastTheirSizeKeepTheRoomTheyStartedWith() async throws {
        let dir = try TempDirectory()
        let store = try SQLiteStore(path: dir.file("x.db"), mode: .readWrite)
        try await store.registerResolutions([res("10s")])
        let windows = [t0, t0 + 10 * second, t0 + 20 * second]
        let stored = (0..<300).map { SeriesKey(device: "s\($0)", metric: "t") }
        try await store.write(FlushBatch(
            buckets: stored.flatMap { series in windows.map { Bucket(series: series, resolution: res("10s"), windowStart: $0, stats: stats([1], at: $0)) } },
            series: stored.map { SeriesDelta(series: $0, readings: 3, lastSeen: windows[2]) }))
        let fresh = (0..<300).map { SeriesKey(device: "p\($0)", metric: "t") }
        let pending = TestPart(shard: 0, position: 1, buckets: fresh.flatMap { series in windows.map { (series, $0, stats([2], at: $0)) } })
        let sink = Pages(pageRows: 256)
        try await store.aggregates(AggregateQuery(window: res("10s")), rowLimit: 10_000, unflushed: [pending], into: sink)
        let pages = sink.pages
        #expect(pages.map(\.count).reduce(0, +) == 1_800)
        #expect(pages.dropLast().allSatisfy { $0.count >= 256 && $0.count <= 256 + AggregateAssembler.pageSlack }, "pages of \(pages.map(\.count)) rows")
        #expect(pages.allSatisfy { $0.capacity < 2 * 256 }, "pages in buffers of \(pages.map(\.capacity)) rows")
    }

    /// Pending series are picked by the globs as the store's SQL picks stored ones
    /// (SQLite's GLOB), including where fnmatch(3) reads a pattern otherwise (`[!…]`, `\`).
    @Test func pendingSeriesArePickedAsTheStorePicksStoredOnes() async throws {
        let dir = try TempDirectory()
        let store = try SQLiteStore(path: dir.file("x.db"), mode: .readWrite)
        try await store.registerResolutions([res("10s")])
        // A name past 15 bytes is not stored inline in its String.
        let devices = ["a1", "b2", "!c", "x\\y", "xy", "^d", "e?", "caf\u{E9}", "a-device-with-a-long-name-1"]
        try await store.write(FlushBatch(
            buckets: devices.map { Bucket(series: SeriesKey(device: $0, metric: "t"), resolution: res("10s"), windowStart: t0, stats: stats([1], at: t0)) },
            series: devices.map { SeriesDelta(series: SeriesKey(device: $0, metric: "t"), readings: 1, lastSeen: t0) }))
        for glob in ["[!a]*", "[^a]*", "x\\y", "x\\*", "?2", "[a-b]*", "e[?]", "*", "a1", "b", "caf\u{E9}", "caf*",
                     "a-device-with-a-long-name-1", "a-device-*-1", "a-device-with-a-long-name-"] {
            let query = AggregateQuery(deviceGlob: glob, window: res("10s"))
            let sink = Collected()
            try await store.aggregates(query, rowLimit: 100, into: sink)
            let stored = Set(sink.rows.map(\.series.device))
            let picked = Set(devices.filter { query.selects(SeriesKey(device: $0, metric: "t")) })
            #expect(picked == stored, "\(glob): pending \(picked.sorted()), stored \(stored.sorted())")
        }
        #expect(!NameGlob("[!a]*").matches("a1") && AggregateQuery(deviceGlob: "[!a]*", window: res("10s")).selects(SeriesKey(device: "a1", metric: "t")),
                "fnmatch and GLOB differ here: the reason for selects")
        // GLOB compares bytes: é precomposed does not match é decomposed, which Swift's `==` equates.
        #expect(!AggregateQuery(deviceGlob: "caf\u{E9}", window: res("10s")).selects(SeriesKey(device: "cafe\u{301}", metric: "t")))
        #expect(!AggregateQuery(deviceGlob: "caf\u{E9}*", window: res("10s")).selects(SeriesKey(device: "cafe\u{301}", metric: "t")))
    }
}

/// A sink that keeps the whole answer.
private final class Collected: AggregatePageSink {
    private let collected = Mutex<[AggregateRow]>([])

    var rows: [AggregateRow] { collected.withLock { $0 } }

    func acceptBlocking(_ page: [AggregateRow]) {
        collected.withLock { $0 += page }
    }

    func accept(_ page: [AggregateRow]) async {
        acceptBlocking(page)
    }
}

/// A sink that keeps the answer's pages as the store handed them on.
private final class Pages: AggregatePageSink {
    let pageRows: Int
    private let collected = Mutex<[[AggregateRow]]>([])

    init(pageRows: Int) {
        self.pageRows = pageRows
    }

    var pages: [[AggregateRow]] { collected.withLock { $0 } }

    func acceptBlocking(_ page: [AggregateRow]) {
        collected.withLock { $0.append(page) }
    }

    func accept(_ page: [AggregateRow]) async {
        acceptBlocking(page)
    }
}
