import Foundation
import Testing
import SensorCore
@testable import SensorPipeline
import SensorStore

@Suite struct PendingBucketsTests {
    /// A pending series' entry is as small as its comment says: its number fills the tail
    /// of its first readings, no key is kept, and a series of few readings keeps no count
    /// or latest time beside them.
    @Test func aPendingSeriesEntryTakes72Bytes() {
        #expect(PendingBuckets.seriesEntryStride == 72)
    }

    /// One series spread over tens of thousands of windows in random order (a backlog):
    /// every window gets exactly its readings, however many are pending.
    @Test func manyWindowsOfOneSeriesKeepExactlyTheirReadings() throws {
        let resolutions = [try Resolution(parsing: "10s"), try Resolution(parsing: "1m")]
        var generator = SeededGenerator(seed: 42)
        var pending = PendingBuckets(resolutions: resolutions)
        var expected: [Int64: (count: Int64, sum: Double)] = [:]
        for _ in 0..<100_000 {
            let second = Int64.random(in: 0..<400_000, using: &generator)
            let value = Double(Int.random(in: 0..<100, using: &generator))
            pending.add(Reading(device: "d", metric: "m", value: value, timestamp: second * 1_000_000))
            let window = second / 10 * 10_000_000
            expected[window, default: (0, 0)].count += 1
            expected[window, default: (0, 0)].sum += value
        }
        let tenSeconds = pending.flushBatch().buckets.filter { $0.resolution == resolutions[0] }
        #expect(tenSeconds.count == expected.count)
        #expect(Set(tenSeconds.map(\.windowStart)).count == tenSeconds.count, "one bucket per window")
        let wrong = tenSeconds.filter { bucket in
            guard let truth = expected[bucket.windowStart] else { return true }
            return truth.count != bucket.stats.count || truth.sum != bucket.stats.sum
        }
        #expect(wrong.isEmpty, "\(wrong.count) windows differ")
        #expect(pending.bucketCount == expected.count + Set(expected.keys.map { $0 / 60_000_000 }).count)
    }

    /// Windows of one, two, three and many readings, filled in and out of time order and
    /// beyond the scan (``PendingWindow`` keeps up to two readings, not stats): every
    /// bucket at a resolution readings are added to is exactly the bucket adding its
    /// readings as they came gives, every field and the sketch bit for bit.
    @Test func windowsOfFewReadingsGiveExactlyTheBucketsOfTheirReadings() throws {
        let resolutions = [try Resolution(parsing: "10s"), try Resolution(parsing: "1m")]
        var generator = SeededGenerator(seed: 11)
        var pending = PendingBuckets(resolutions: resolutions)
        var expected: [String: [Int64: BucketStats]] = [:]
        for _ in 0..<20_000 {
            let device = "d\(Int.random(in: 0..<30, using: &generator))"
            // Windows of 0 to 8 readings on average, a fifth of them out of order.
            let window = Int64.random(in: 0..<Int64.random(in: 1...400, using: &generator), using: &generator)
            let timestamp = window * 10_000_000 + Int64.random(in: 0..<10_000_000, using: &generator)
            let value = [0, -1e-3, 1e9, Double.random(in: -100...100, using: &generator)][Int.random(in: 0..<4, using: &generator)]
            pending.add(Reading(device: device, metric: "m", value: value, timestamp: timestamp))
            expected[device, default: [:]][window * 10_000_000, default: BucketStats()].add(value, at: timestamp)
        }
        let tenSeconds = pending.flushBatch().buckets.filter { $0.resolution == resolutions[0] }
        #expect(tenSeconds.count == expected.values.reduce(0) { $0 + $1.count })
        let counts = Set(tenSeconds.map(\.stats.count))
        #expect([1, 2, 3].allSatisfy(counts.contains) && counts.contains { $0 > 8 })
        let wrong = tenSeconds.filter { $0.stats != expected[$0.series.device]?[$0.windowStart] }.count
        #expect(wrong == 0, "buckets differ")
    }

    /// Busy series filling window after window in time order, so each window's stats are
    /// sealed (encoded) when the next one opens, with late readings into sealed windows
    /// and into older windows that took stats again, and values whose sketches are sparse,
    /// dense or span thousands of bins: every 10 s bucket is exactly the bucket adding its
    /// readings as they came gives, every field and the sketch bit for bit, and the 1 m
    /// buckets built from them hold the same readings.
    @Test func sealedWindowsGiveExactlyTheBucketsOfTheirReadings() throws {
        let resolutions = [try Resolution(parsing: "10s"), try Resolution(parsing: "1m")]
        var generator = SeededGenerator(seed: 31)
        var pending = PendingBuckets(resolutions: resolutions)
        var expected: [Resolution: [String: [Int64: BucketStats]]] = [:]
        var clocks = [Int64](repeating: 0, count: 8)
        for _ in 0..<40_000 {
            let series = Int.random(in: 0..<clocks.count, using: &generator)
            clocks[series] += Int64.random(in: 0..<1_500_000, using: &generator)
            // One reading in twenty is late: up to five minutes back, into a sealed window.
            let late = Int.random(in: 0..<20, using: &generator) == 0
            let timestamp = late ? max(0, clocks[series] - Int64.random(in: 0..<300_000_000, using: &generator)) : clocks[series]
            let value = switch series % 4 {
            case 0: 20 + Double.random(in: -0.5...0.5, using: &generator)
            case 1: Double.random(in: -50...150, using: &generator)
            case 2: [1e-9, -1e12, 0, 3e15][Int.random(in: 0..<4, using: &generator)] * Double.random(in: 1...2, using: &generator)
            default: Double(Int.random(in: 0..<3, using: &generator))
            }
            pending.add(Reading(device: "d\(series)", metric: "m", value: value, timestamp: timestamp))
            for resolution in resolutions {
                expected[resolution, default: [:]]["d\(series)", default: [:]][resolution.windowStart(containing: timestamp), default: BucketStats()]
                    .add(value, at: timestamp)
            }
        }
        let buckets = pending.flushBatch().buckets
        #expect(buckets.count == expected.values.reduce(0) { $0 + $1.values.reduce(0) { $0 + $1.count } })
        #expect(buckets.contains { $0.stats.count > 10 && $0.stats.sketch.storedBins > 64 })
        var wrong = 0
        for bucket in buckets {
            let truth = try #require(expected[bucket.resolution]?[bucket.series.device]?[bucket.windowStart])
            let got = bucket.stats
            if bucket.resolution == resolutions[0] {
                if got != truth || got.sum.bitPattern != truth.sum.bitPattern || got.m2.bitPattern != truth.m2.bitPattern { wrong += 1 }
            } else if got.count != truth.count || got.min != truth.min || got.max != truth.max || got.sketch != truth.sketch
                || got.firstTimestamp != truth.firstTimestamp || got.lastTimestamp != truth.lastTimestamp {
                wrong += 1
            }
        }
        #expect(wrong == 0, "\(wrong) buckets differ")
    }

    /// A query's row bound counts a pending series' windows in its range only: pending
    /// buckets of now must not count against a query for an earlier hour.
    @Test func bucketCountsAreThoseOfTheRange() throws {
        let resolutions = [try Resolution(parsing: "10s"), try Resolution(parsing: "1m")]
        var pending = PendingBuckets(resolutions: resolutions)
        for second in 0..<30 {
            pending.add(Reading(device: "d", metric: "m", value: 1, timestamp: Int64(second) * 2_000_000))
        }
        #expect(pending.bucketCount(ofSeriesAt: 0, resolution: resolutions[0], startingIn: 0..<60_000_000) == 6)
        #expect(pending.bucketCount(ofSeriesAt: 0, resolution: resolutions[0], startingIn: 20_000_000..<40_000_000) == 2)
        #expect(pending.bucketCount(ofSeriesAt: 0, resolution: resolutions[0], startingIn: 60_000_000..<120_000_000) == 0)
        #expect(pending.bucketCount(ofSeriesAt: 0, resolution: resolutions[1], startingIn: 0..<60_000_000) == 1)
    }

    /// Thousands of series of one to twenty readings (``FirstReadings`` keeps up to
    /// sixteen, four inline, and none past two in one window of a resolution readings are
    /// added to): in time order or not, in one window or several, every bucket is exactly
    /// the bucket adding its readings as they came gives (built ones to rounding in the
    /// moments), and the bucket count is exact, over all and in a range (a query's row
    /// bound), whether a series kept its readings or moved to windows. The series' readings
    /// come interleaved, so the readings each keeps past four are chained among the
    /// others' in its shard's ``ReadingChains``.
    @Test func seriesOfFewReadingsGiveExactlyTheBucketsOfTheirReadings() throws {
        let resolutions = try ["1h", "10s", "7s", "1m"].map { try Resolution(parsing: $0) }
        var generator = SeededGenerator(seed: 23)
        var pending = PendingBuckets(resolutions: resolutions)
        var expected: [Resolution: [String: [Int64: BucketStats]]] = [:]
        var readings: [Reading] = []
        for series in 0..<3_000 {
            let count = Int.random(in: 1...20, using: &generator)
            // Close together (several in one 7 s or 10 s window) or spread over hours.
            let spread: Int64 = Bool.random(using: &generator) ? 12_000_000 : 4 * 3_600_000_000
            for _ in 0..<count {
                let timestamp = 86_400_000_000 + Int64.random(in: 0..<spread, using: &generator)
                readings.append(Reading(device: "d\(series)", metric: "m", value: Double.random(in: -50...150, using: &generator), timestamp: timestamp))
            }
        }
        readings.shuffle(using: &generator)
        for reading in readings {
            pending.add(reading)
            for resolution in resolutions {
                expected[resolution, default: [:]][reading.device, default: [:]][resolution.windowStart(containing: reading.timestamp), default: BucketStats()]
                    .add(reading.value, at: reading.timestamp)
            }
        }
        let buckets = pending.flushBatch().buckets
        let expectedCount = expected.values.reduce(0) { $0 + $1.values.reduce(0) { $0 + $1.count } }
        #expect(buckets.count == expectedCount)
        #expect(pending.bucketCount == expectedCount)
        // What a query's row bound counts: each series' windows starting in a range.
        let ranges: [Range<Int64>] = [Int64.min..<Int64.max, 86_400_000_000..<86_405_000_000, 86_400_000_000..<93_600_000_000]
        var miscounted = 0
        for index in 0..<3_000 {
            let device = pending.key(ofSeriesAt: index).device
            for resolution in resolutions {
                for range in ranges {
                    let truth = expected[resolution]?[device]?.keys.count { range.contains($0) } ?? 0
                    if pending.bucketCount(ofSeriesAt: index, resolution: resolution, startingIn: range) != truth { miscounted += 1 }
                }
            }
        }
        #expect(miscounted == 0, "\(miscounted) series' bucket counts in a range differ")
        var wrong = 0
        for bucket in buckets {
            let truth = try #require(expected[bucket.resolution]?[bucket.series.device]?[bucket.windowStart])
            let got = bucket.stats
            if ["10s", "7s"].contains(bucket.resolution.description) {
                if got != truth { wrong += 1 }
            } else if got.count != truth.count || got.min != truth.min || got.max != truth.max || got.sketch != truth.sketch
                || got.first != truth.first || got.last != truth.last || abs(got.m2 - truth.m2) > 1e-9 * max(1, abs(truth.m2)) {
                wrong += 1
            }
        }
        #expect(wrong == 0, "\(wrong) buckets differ")
    }

    /// Each series' reading count and latest event time, which a series of few readings
    /// finds from its kept readings and one with window lists keeps beside them: exact
    /// either way, in the flush's series updates and in what a query reads
    /// (``PendingBuckets/totals(ofSeriesAt:)``), with readings out of time order, so the
    /// latest is seldom the last to come.
    @Test func eachSeriesCountsItsReadingsAndItsLatestTime() throws {
        let resolutions = try ["10s", "1m"].map { try Resolution(parsing: $0) }
        var generator = SeededGenerator(seed: 29)
        var pending = PendingBuckets(resolutions: resolutions)
        var expected: [SeriesKey: (readings: Int64, latest: Int64)] = [:]
        var readings: [Reading] = []
        for series in 0..<2_000 {
            // Up to four kept in the entry, up to sixteen reaching the chains, or window
            // lists: for more, or for three in one window (likelier in 12 s than in an hour).
            let count = Int.random(in: 1...40, using: &generator)
            let spread: Int64 = Bool.random(using: &generator) ? 12_000_000 : 3_600_000_000
            for _ in 0..<count {
                let timestamp = 86_400_000_000 + Int64.random(in: 0..<spread, using: &generator)
                readings.append(Reading(device: "totals-\(series)", metric: "m", value: 1, timestamp: timestamp))
            }
        }
        readings.shuffle(using: &generator)
        for reading in readings {
            pending.add(reading)
            let key = SeriesKey(device: reading.device, metric: reading.metric)
            let before = expected[key] ?? (0, .min)
            expected[key] = (before.readings + 1, max(before.latest, reading.timestamp))
        }
        var batch = FlushBatch()
        pending.addDeltas(to: &batch)
        var flushed: [SeriesKey: (readings: Int64, latest: Int64)] = [:]
        try batch.forEachSeriesUpdate { update in
            if let delta = update.delta { flushed[update.series] = (delta.readings, delta.lastSeen) }
        }
        #expect(flushed.count == expected.count)
        let differing = flushed.filter { key, got in expected[key].map { got != $0 } ?? true }
        #expect(differing.count == 0, "series updates differ")
        var queried = 0
        for index in 0..<pending.seriesCount {
            let truth = try #require(expected[pending.key(ofSeriesAt: index)])
            let totals = pending.totals(ofSeriesAt: index)
            if totals.readings == truth.readings, totals.lastSeen == truth.latest { queried += 1 }
        }
        #expect(queried == expected.count, "\(expected.count - queried) series' totals differ")
    }

    /// A series keeps its first readings' times as 32-bit offsets from the first one's:
    /// readings at the farthest offsets either way are kept, one a microsecond past them
    /// moves the series to window lists, and every bucket is exactly its readings' either way.
    @Test func readingsAtTheEdgesOfTheKeptOffsetsGiveExactlyTheirBuckets() throws {
        let resolutions = try ["10s", "7s"].map { try Resolution(parsing: $0) }
        let base: Int64 = 86_400_000_000
        let near = [base, base + Int64(Int32.max), base + Int64(Int32.min), base - 5]
        let beyond = [base, base + 3, base + Int64(Int32.max) + 1, base + 4, base + Int64(Int32.min) - 1]
        var pending = PendingBuckets(resolutions: resolutions)
        var expected: [String: BucketStats] = [:]
        for (device, times) in [("near", near), ("beyond", beyond)] {
            for (index, timestamp) in times.enumerated() {
                pending.add(Reading(device: device, metric: "m", value: Double(index) + 0.25, timestamp: timestamp))
                for resolution in resolutions {
                    expected["\(device) \(resolution) \(resolution.windowStart(containing: timestamp))", default: BucketStats()]
                        .add(Double(index) + 0.25, at: timestamp)
                }
            }
        }
        let buckets = pending.flushBatch().buckets
        let got = Dictionary(uniqueKeysWithValues: buckets.map { ("\($0.series.device) \($0.resolution) \($0.windowStart)", $0.stats) })
        #expect(got == expected)
    }

    /// Buckets built at flush from finer ones (each from the coarsest finer resolution
    /// that divides it: 1 m from 10 s, 90 s from 45 s, 1 h from 90 s, 1 d from 1 h) equal
    /// buckets every reading was added to: counts, extremes, first/last and the sketch
    /// exactly, the moments to rounding. 7 s, 10 s and 45 s have no finer divisor, so
    /// they take every reading.
    @Test func builtResolutionsEqualResolutionsEveryReadingIsAddedTo() throws {
        let resolutions = try ["1h", "10s", "7s", "1m", "90s", "45s", "1d"].map { try Resolution(parsing: $0) }
        let plan = RollupPlan(resolutions: resolutions)
        #expect(plan.direct.map { resolutions[$0].description }.sorted() == ["10s", "45s", "7s"])
        #expect(plan.rollups.map { "\(resolutions[$0.source])→\(resolutions[$0.target])" } == ["10s→1m", "45s→90s", "90s→1h", "1h→1d"])

        var generator = SeededGenerator(seed: 7)
        var pending = PendingBuckets(plan: plan)
        var expected: [Resolution: [String: [Int64: BucketStats]]] = [:]
        for _ in 0..<50_000 {
            // Mostly in time order per series, with late readings up to a day back.
            let device = "d\(Int.random(in: 0..<20, using: &generator))"
            let late = Int.random(in: 0..<10, using: &generator) == 0
            let timestamp = Int64.random(in: late ? 0..<86_400_000_000 : 86_000_000_000..<90_000_000_000, using: &generator)
            let value = Double.random(in: -50...150, using: &generator).rounded(toPlaces: Int.random(in: 0...3, using: &generator))
            let reading = Reading(device: device, metric: "t", value: value, timestamp: timestamp)
            pending.add(reading)
            for resolution in resolutions {
                expected[resolution, default: [:]][device, default: [:]][resolution.windowStart(containing: timestamp), default: BucketStats()]
                    .add(value, at: timestamp)
            }
        }
        let buckets = pending.flushBatch().buckets
        let expectedCount = expected.values.reduce(0) { $0 + $1.values.reduce(0) { $0 + $1.count } }
        #expect(buckets.count == expectedCount)
        #expect(pending.bucketCount == expectedCount)
        for bucket in buckets {
            let truth = try #require(expected[bucket.resolution]?[bucket.series.device]?[bucket.windowStart])
            let got = bucket.stats
            #expect(got.count == truth.count && got.min == truth.min && got.max == truth.max)
            #expect(got.firstTimestamp == truth.firstTimestamp && got.first == truth.first)
            #expect(got.lastTimestamp == truth.lastTimestamp && got.last == truth.last)
            #expect(got.sketch == truth.sketch)
            #expect(abs(got.sum - truth.sum) <= 1e-9 * max(1, abs(truth.sum)))
            #expect(abs(got.mean - truth.mean) <= 1e-9 * max(1, abs(truth.mean)))
            #expect(abs(got.m2 - truth.m2) <= 1e-9 * max(1, abs(truth.m2)))
        }
    }
}

@Suite struct PendingBytesTests {
    /// One reading per series: the pending bytes are exactly the footprints of the buckets
    /// the flush hands over, whichever resolutions take the reading and which are built.
    @Test(arguments: [["10s", "1m", "1h"], ["7s", "10s", "45s"], ["10s", "15s", "1m"], ["1h"]])
    func oneReadingCountsWhatItsBucketsHold(resolutions texts: [String]) throws {
        let resolutions = try texts.map { try Resolution(parsing: $0) }
        var pending = PendingBuckets(resolutions: resolutions)
        for series in 0..<50 {
            pending.add(Reading(device: "d\(series)", metric: "m", value: Double(series) - 20.5, timestamp: Int64(series) * 1_000_000))
        }
        let footprints = pending.flushBatch().buckets.reduce(0) { $0 + $1.stats.footprint }
        #expect(pending.bytes == footprints)
    }
}

private extension Double {
    func rounded(toPlaces places: Int) -> Double {
        let scale = pow(10, Double(places))
        return (self * scale).rounded() / scale
    }
}

@Suite struct PendingMemoryTests {
    /// Values at both ends of the range give a sketch of thousands of bins: the pending
    /// bytes grow with them, so the shard's byte limit is reached long before its bucket
    /// limit.
    @Test func wideSketchesReachTheByteLimitBeforeTheBucketLimit() throws {
        let resolutions = [try Resolution(parsing: "10s")]
        let aggregator = ShardAggregator(resolutions: resolutions, limit: PendingLimit(buckets: 100_000, bytes: 1 << 20))
        var reached = false
        var series = 0
        while !reached, series < 10_000 {
            let readings = [1e100, 1e-300, -1e100, -1e-300].map {
                Reading(device: "d\(series)", metric: "m", value: $0, timestamp: 0)
            }
            reached = aggregator.apply([JournaledBatch(readings: readings, position: 0, acceptedAt: nil)])
            series += 1
        }
        #expect(reached)
        // Four values per bucket, two full stores of 2048 bins: about 32 KiB each.
        #expect(series < 40, "the byte limit took \(series) buckets")
        var typical = PendingBuckets(resolutions: resolutions)
        typical.add(Reading(device: "t", metric: "m", value: 21.5, timestamp: 0))
        // Its fields and its one bin, kept in the bucket itself: nothing on the heap.
        #expect(typical.bytes == BucketStats.baseFootprint && typical.bytes < 256)
    }
}

/// A store that judges seqs itself gets every reading with a seq held, unbucketed.
@Suite struct AggregatorHeldReadingsTests {
    @Test func aStoreThatJudgesSeqsGetsTheReadingsWithASeqHeld() throws {
        let resolutions = [try Resolution(parsing: "10s")]
        let judging = ShardAggregator(resolutions: resolutions, holdsSequenced: true)
        let taking = ShardAggregator(resolutions: resolutions)
        // Two series: the queue holds their numbers, and a held reading is named again.
        let readings = (1...20).map { (index: Int) -> Reading in
            let device = index % 2 == 0 ? "d" : "e"
            let seq: UInt64? = index > 15 ? nil : UInt64(index)
            return Reading(device: device, metric: "m", value: Double(index), timestamp: Int64(index) * 1_000_000, seq: seq)
        }
        for aggregator in [judging, taking] { aggregator.apply([JournaledBatch(readings: readings, position: 1, acceptedAt: nil)]) }
        let judged = judging.drain().pending.flushBatch()
        #expect(judged.sequenced == Array(readings.prefix(15)))
        #expect(judged.allDeltas.map(\.readings).sorted() == [2, 3])
        let taken = taking.drain().pending.flushBatch()
        #expect(taken.sequenced.isEmpty)
        #expect(taken.allDeltas.map(\.readings) == [10, 10])
    }
}

/// A flush takes each seq window beside its series' counts, found by the series' number:
/// the window of a pending series goes with its counts, that of a series with nothing
/// pending goes alone, and a pending series without a new window gets none.
@Suite struct TakenWindowsTests {
    func window(_ seqs: ClosedRange<UInt64>) -> SeqWindow {
        var window = SeqWindow(first: seqs.lowerBound, at: 1_000_000)
        for seq in seqs.dropFirst() { _ = window.admit(seq, at: Int64(seq) * 1_000_000) }
        return window
    }

    @Test func eachWindowGoesWithItsSeriesCountsAndTagOrAlone() throws {
        let resolutions = [try Resolution(parsing: "10s")]
        let series = (0..<700).map { SeriesKey(device: "taken-\($0)", metric: "m") }
        var pending = PendingBuckets(resolutions: resolutions)
        // Every other series pending (over several pages of the list), in an order of
        // their own; the pending ones count 1, 2, 3 readings by turn.
        for index in stride(from: 0, to: series.count, by: 2).reversed() {
            for step in 0...(index / 2 % 3) {
                pending.add(Reading(device: series[index].device, metric: "m", value: 1, timestamp: Int64(step) * 1_000_000))
            }
        }
        // A window for every third series, pending or not.
        var windows = TakenWindows(pendingSeries: pending.seriesCount)
        var expectedWindows: [SeriesKey: [UInt8]] = [:]
        for index in stride(from: 0, to: series.count, by: 3) {
            let taken = window(1...UInt64(index + 1))
            let number = TestSeriesNumbers.number(of: series[index])
            windows.add(taken, number: number, place: pending.place(ofNumber: number))
            expectedWindows[series[index]] = taken.encoded
        }
        var batch = FlushBatch()
        pending.addDeltas(to: &batch, windows: windows)

        var seen: [SeriesKey: SeriesUpdate] = [:]
        try batch.forEachSeriesUpdate { update in
            #expect(seen[update.series] == nil, "\(update.series) given twice")
            seen[update.series] = update
        }
        let expectedSeries = series.indices.filter { $0 % 2 == 0 || $0 % 3 == 0 }.map { series[$0] }
        #expect(Set(seen.keys) == Set(expectedSeries))
        for (index, key) in series.enumerated() where seen[key] != nil {
            let update = try #require(seen[key])
            #expect(update.delta?.readings == (index % 2 == 0 ? Int64(index / 2 % 3 + 1) : nil), "\(key)")
            #expect(update.window.map(Array.init) == expectedWindows[key], "\(key)")
            // The store may keep the series' id by this tag: the series' own number.
            #expect(update.tag == SeriesTag(shard: 0, index: TestSeriesNumbers.number(of: key)), "\(key)")
        }
        try batch.forEachGroup { group in
            #expect(group.tag == SeriesTag(shard: 0, index: TestSeriesNumbers.number(of: group.series)), "\(group.series)")
        }
    }
}

@Suite struct PagedArrayTests {
    /// Elements over several pages read back, change in place, and a copy keeps what it
    /// had when the original changes (and the other way round).
    @Test func elementsOverSeveralPagesReadBackAndACopyKeepsItsOwn() {
        let count = 3 * PagedArray<Int>.pageSize + 7
        var paged = PagedArray<Int>()
        for value in 0..<count { paged.append(value) }
        #expect(paged.count == count)
        #expect(Array(paged) == Array(0..<count))

        let copy = paged
        for index in stride(from: 0, to: count, by: 5) { paged[index] += 1_000 }
        paged.append(-1)
        #expect(Array(copy) == Array(0..<count), "a change to the original reached the copy")
        #expect(Array(paged) == (0..<count).map { $0 % 5 == 0 ? $0 + 1_000 : $0 } + [-1])

        var second = PagedArray(paged.prefix(PagedArray<Int>.pageSize + 1))
        second[PagedArray<Int>.pageSize] = 42
        #expect(paged[PagedArray<Int>.pageSize] == PagedArray<Int>.pageSize, "a change to a copy reached the original")
        #expect(second.last == 42 && second.count == PagedArray<Int>.pageSize + 1)
    }
}
