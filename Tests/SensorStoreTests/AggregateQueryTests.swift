import SensorCore
@testable import SensorStore
import Testing

/// Writes generated readings through `write` and compares every query with a brute-force
/// computation over the raw readings.
@Suite struct AggregateQueryTests {
    let devices = ["dev-1", "dev-2", "gw.7:x"]
    let metrics = ["humidity", "temp"]

    func readings(seed: UInt64 = 42, perSeries: Int = 400) -> [Reading] {
        makeReadings(devices: devices, metrics: metrics, start: t0, span: hour, perSeries: perSeries, seed: seed)
    }

    /// Writes `readings` in `flushes` time-ordered flushes, like a daemon would.
    func write(_ readings: [Reading], to store: SQLiteStore, flushes: Int = 4, resolutions: [Resolution] = defaultResolutions) async throws {
        let sorted = readings.sorted { $0.timestamp < $1.timestamp }
        let size = (sorted.count + flushes - 1) / flushes
        for chunk in stride(from: 0, to: sorted.count, by: size) {
            try await store.write(makeBatch(Array(sorted[chunk..<min(chunk + size, sorted.count)]), resolutions: resolutions))
        }
    }

    @Test func tumblingWindowsAtEachStoredResolutionMatchRawReadings() async throws {
        let dir = try TempDirectory()
        let store = try await makeStore(dir)
        let raw = readings()
        try await write(raw, to: store)
        for window in ["10s", "1m", "1h"] {
            let rows = try await store.aggregates(AggregateQuery(window: res(window)))
            expectRows(rows, equal: expectedWindows(raw, window: res(window).microseconds))
        }
    }

    @Test func lateReadingMergesIntoStoredBucket() async throws {
        let dir = try TempDirectory()
        let store = try await makeStore(dir)
        let early = readings(perSeries: 200)
        try await store.write(makeBatch(early))
        // Late readings for windows already written, including exact ties and new extremes.
        var late = readings(seed: 7, perSeries: 50)
        late.append(Reading(device: "dev-1", metric: "temp", value: 1_000, timestamp: t0 + 5 * minute + 1))
        late.append(Reading(device: "dev-1", metric: "temp", value: -1_000, timestamp: t0))
        try await store.write(makeBatch(late))
        let all = early + late
        for window in ["10s", "1m", "5m", "1h"] {
            let rows = try await store.aggregates(AggregateQuery(window: res(window)))
            expectRows(rows, equal: expectedWindows(all, window: res(window).microseconds))
        }
    }

    @Test func repeatedFlushesOfOpenBucketsLateReadingsAndRestartMergeExactly() async throws {
        let dir = try TempDirectory()
        let path = dir.file("flushes.db")
        let raw = readings(perSeries: 600).sorted { $0.timestamp < $1.timestamp }
        // Many small flushes in time order (open buckets flushed again and again, served from
        // the writer's cache), every fifth one also carrying a late reading for an old window.
        var written: [Reading] = []
        var store: SQLiteStore? = try await makeStore(dir, name: "flushes.db")
        for (index, chunk) in stride(from: 0, to: raw.count, by: 90).enumerated() {
            var flush = Array(raw[chunk..<min(chunk + 90, raw.count)])
            if index % 5 == 4, let old = written.first {
                flush.append(Reading(device: old.device, metric: old.metric, value: Double(index), timestamp: old.timestamp + 1))
            }
            if index == 12 {
                // Restart half-way: a new store starts with empty caches on the same file.
                try await store?.close()
                store = try SQLiteStore(path: path, mode: .readWrite)
            }
            try await store?.write(makeBatch(flush))
            written += flush
        }
        for window in ["10s", "1m", "1h"] {
            let rows = try await store?.aggregates(AggregateQuery(window: res(window))) ?? []
            expectRows(rows, equal: expectedWindows(written, window: res(window).microseconds))
        }
    }

    @Test func sameBucketTwiceInOneBatchMerges() async throws {
        let dir = try TempDirectory()
        let store = try await makeStore(dir)
        let a = readings(seed: 1, perSeries: 30)
        let b = readings(seed: 2, perSeries: 30)
        let first = makeBatch(a)
        let second = makeBatch(b)
        try await store.write(FlushBatch(buckets: first.buckets + second.buckets, series: first.series + second.series))
        let rows = try await store.aggregates(AggregateQuery(window: res("1m")))
        expectRows(rows, equal: expectedWindows(a + b, window: minute))
        let summaries = try await store.devices()
        #expect(summaries.map(\.readings) == [120, 120, 120])
    }

    @Test func tumbling5mFrom1mAnd10sBuckets() async throws {
        let dir = try TempDirectory()
        let raw = readings()
        let expected = expectedWindows(raw, window: 5 * minute)

        let full = try await makeStore(dir, name: "full.db")
        try await write(raw, to: full)
        let plan = try WindowPlan(query: AggregateQuery(window: res("5m")), stored: defaultResolutions)
        #expect(plan.resolution == res("1m"), "5m should be read from the coarsest divisor, 1m")
        expectRows(try await full.aggregates(AggregateQuery(window: res("5m"))), equal: expected)

        let fine = try await makeStore(dir, name: "fine.db", resolutions: [res("10s")])
        try await write(raw, to: fine, resolutions: [res("10s")])
        expectRows(try await fine.aggregates(AggregateQuery(window: res("5m"))), equal: expected)
    }

    @Test(arguments: [("5m", "10s"), ("5m", "2m"), ("1m", "5m"), ("90s", "30s"), ("1h", "1m")])
    func slidingWindowsMatchRawReadings(window: String, step: String) async throws {
        let dir = try TempDirectory()
        let store = try await makeStore(dir)
        let raw = readings(perSeries: 250)
        try await write(raw, to: store)
        let query = AggregateQuery(window: res(window), step: res(step))
        let rows = try await store.aggregates(query)
        let expected = expectedWindows(raw, window: res(window).microseconds, step: res(step).microseconds)
        #expect(!expected.isEmpty)
        expectRows(rows, equal: expected)
    }

    /// Readings in a few short bursts with long gaps: windows that start or end in an empty
    /// block, hold a single chunk, or straddle a block boundary with data on one side only.
    @Test(arguments: [("5m", "10s"), ("90s", "30s"), ("1h", "10m"), ("2m", "1m")])
    func slidingWindowsOverSparseBurstsMatchRawReadings(window: String, step: String) async throws {
        let dir = try TempDirectory()
        let store = try await makeStore(dir)
        var raw: [Reading] = []
        for (index, burstStart) in [0, 7, 8, 31, 95, 96, 97].enumerated() {
            raw += makeReadings(
                devices: ["dev-1"], metrics: ["temp"], start: t0 + Int64(burstStart) * minute + 17 * second,
                span: 50 * second, perSeries: 15, seed: UInt64(index + 1))
        }
        try await write(raw, to: store)
        let rows = try await store.aggregates(AggregateQuery(window: res(window), step: res(step)))
        let expected = expectedWindows(raw, window: res(window).microseconds, step: res(step).microseconds)
        #expect(!expected.isEmpty)
        expectRows(rows, equal: expected)
    }

    @Test func fromToReturnsOnlyWindowsWhollyInside() async throws {
        let dir = try TempDirectory()
        let store = try await makeStore(dir)
        var raw = readings(perSeries: 300)
        // Readings exactly on the bounds below.
        raw.append(Reading(device: "dev-1", metric: "temp", value: 99, timestamp: t0 + 10 * minute))
        raw.append(Reading(device: "dev-1", metric: "temp", value: 98, timestamp: t0 + 40 * minute - 1))
        raw.append(Reading(device: "dev-1", metric: "temp", value: 97, timestamp: t0 + 40 * minute))
        try await write(raw, to: store)
        let cases: [(window: String, step: String?, from: Int64?, to: Int64?)] = [
            ("1m", nil, t0 + 10 * minute, t0 + 40 * minute),          // aligned
            ("1m", nil, t0 + 10 * minute + 1, t0 + 40 * minute - 1),  // unaligned: drops partial edges
            ("5m", nil, t0 + 7 * minute, nil),                          // from only
            ("5m", nil, nil, t0 + 33 * minute),                         // to only
            ("5m", "10s", t0 + 10 * minute + 5 * second, t0 + 20 * minute + 5 * second),
            ("1h", nil, t0 + 1, t0 + hour),                             // shorter than a window
            ("10s", nil, t0 + 10 * minute, t0 + 10 * minute + 10 * second), // exactly one window
        ]
        for c in cases {
            let query = AggregateQuery(window: res(c.window), step: c.step.map(res), from: c.from, to: c.to)
            let rows = try await store.aggregates(query)
            let expected = expectedWindows(
                raw, window: res(c.window).microseconds, step: c.step.map { res($0).microseconds }, from: c.from, to: c.to)
            expectRows(rows, equal: expected)
            for row in rows {
                #expect(row.windowStart >= (c.from ?? .min) && row.windowEnd <= (c.to ?? .max), "window \(row.windowStart)..<\(row.windowEnd) sticks out of \(c)")
            }
        }
    }

    @Test func globsFilterDevicesAndMetrics() async throws {
        let dir = try TempDirectory()
        let store = try await makeStore(dir)
        let raw = readings(perSeries: 100)
        try await write(raw, to: store)
        let cases: [(device: String, metric: String, wantDevice: (String) -> Bool, wantMetric: (String) -> Bool)] = [
            ("dev-*", "*", { $0.hasPrefix("dev-") }, { _ in true }),
            ("*", "t*", { _ in true }, { $0.hasPrefix("t") }),
            ("dev-2", "humidity", { $0 == "dev-2" }, { $0 == "humidity" }),
            ("gw.7:?", "*", { $0 == "gw.7:x" }, { _ in true }),
            ("*", "*", { _ in true }, { _ in true }),
            ("nope*", "*", { _ in false }, { _ in true }),
            ("DEV-1", "*", { _ in false }, { _ in true }), // GLOB is case-sensitive
        ]
        for c in cases {
            let rows = try await store.aggregates(AggregateQuery(deviceGlob: c.device, metricGlob: c.metric, window: res("10m")))
            expectRows(rows, equal: expectedWindows(raw, window: 10 * minute, device: c.wantDevice, metric: c.wantMetric))
        }
    }

    @Test func rowsAreOrderedByDeviceMetricWindowStart() async throws {
        let dir = try TempDirectory()
        let store = try await makeStore(dir)
        // Written in reverse order so insertion order cannot explain the result.
        let raw = readings(perSeries: 50).reversed()
        try await store.write(makeBatch(Array(raw)))
        let rows = try await store.aggregates(AggregateQuery(window: res("1m")))
        let keys = rows.map { ($0.series.device, $0.series.metric, $0.windowStart) }
        #expect(zip(keys, keys.dropFirst()).allSatisfy { $0 < $1 }, "rows are not strictly ordered by device, metric, window start")
    }

    @Test func windowsBefore1970AreFloorAligned() async throws {
        let dir = try TempDirectory()
        let store = try await makeStore(dir)
        let raw = makeReadings(devices: ["old"], metrics: ["t"], start: -3 * minute, span: 6 * minute, perSeries: 200)
        try await store.write(makeBatch(raw))
        expectRows(try await store.aggregates(AggregateQuery(window: res("1m"))), equal: expectedWindows(raw, window: minute))
        expectRows(
            try await store.aggregates(AggregateQuery(window: res("2m"), step: res("10s"), from: -2 * minute - 5 * second)),
            equal: expectedWindows(raw, window: 2 * minute, step: 10 * second, from: -2 * minute - 5 * second))
    }

    @Test func devicesSummariseSeriesOrderedByDevice() async throws {
        let dir = try TempDirectory()
        let store = try await makeStore(dir)
        let raw = readings(perSeries: 100)
        try await write(raw, to: store, flushes: 3)
        let summaries = try await store.devices()
        let expected = Dictionary(grouping: raw, by: \.device).keys.sorted().map { device in
            let mine = raw.filter { $0.device == device }
            return DeviceSummary(
                device: device, metrics: Set(mine.map(\.metric)).sorted(),
                lastSeen: mine.map(\.timestamp).max() ?? 0, readings: Int64(mine.count))
        }
        #expect(summaries == expected)
    }

    @Test func emptyStoreAnswersEmpty() async throws {
        let dir = try TempDirectory()
        let store = try await makeStore(dir)
        #expect(try await store.aggregates(AggregateQuery(window: res("1m"))).isEmpty)
        #expect(try await store.devices().isEmpty)
    }
}
