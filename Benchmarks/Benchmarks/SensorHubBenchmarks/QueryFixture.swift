import Foundation
import SensorCore
import SensorStore

/// The database the `query.*` benchmarks read: many series with buckets at 10s, 1m and 1h,
/// written through ``SQLiteStore/write(_:)`` in time order, in batches of about 50,000
/// bucket deltas, as a daemon's flushes would have left it.
///
/// - `seriesCount` series, `dev-00000`…: 4 metrics per device (`m0`…`m3`), all in the
///   `series` table (what `devices()` reads).
/// - The measured series `dev-00000`/`m0` has `measuredDays` days of buckets ending at
///   ``end``; every other series has the last `otherHours` hours.
/// - Every bucket holds 3 readings (values from splitmix64, in [-50, 150]), so its stats and
///   quantile sketch are those of a real bucket.
///
/// The file is generated once and kept under `/tmp` (named after the scale); a marker file
/// written after the last batch says it is complete, so a later run reuses it. Without the
/// marker the files are deleted and generated again.
struct QueryFixture: Sendable, CustomStringConvertible {
    var seriesCount: Int
    var measuredDays: Int
    var otherHours: Int

    /// End of the data (exclusive): 2025-11-26T14:00:00Z, an hour boundary.
    static let end: Int64 = 1_764_165_600 * 1_000_000
    static let day: Int64 = 86_400 * 1_000_000
    static let hour: Int64 = 3_600 * 1_000_000
    static let readingsPerBucket = 3
    static let batchSize = 50_000
    static let measured = SeriesKey(device: "dev-00000", metric: "m0")

    /// The scale the benchmarks use; `SENSORHUB_QUERYBENCH_SERIES`, `…_DAYS` and `…_OTHER_HOURS`
    /// override it (for trying smaller or larger scales).
    static var configured: QueryFixture {
        let environment = ProcessInfo.processInfo.environment
        func value(_ name: String, _ fallback: Int) -> Int {
            environment["SENSORHUB_QUERYBENCH_\(name)"].flatMap(Int.init) ?? fallback
        }
        return QueryFixture(seriesCount: value("SERIES", 10_000), measuredDays: value("DAYS", 7),
                            otherHours: value("OTHER_HOURS", 1))
    }

    var description: String {
        "\(seriesCount) series (\(measuredDays) d for \(Self.measured.device)/\(Self.measured.metric), "
            + "\(otherHours) h for the others)"
    }

    var path: String { "/tmp/sensorhub-querybench-\(seriesCount)-\(measuredDays)d-\(otherHours)h.db" }
    var markerPath: String { path + ".complete" }

    static func seriesKey(_ index: Int) -> SeriesKey {
        SeriesKey(device: HarnessReadings.deviceName(index / 4), metric: HarnessReadings.metricName(index % 4))
    }

    /// Bucket rows the generator writes.
    var bucketRows: Int {
        func rows(_ span: Int64) -> Int {
            ScratchStore.resolutions.reduce(0) { $0 + Int(span / $1.microseconds) }
        }
        return rows(Int64(measuredDays) * Self.day) + (seriesCount - 1) * rows(Int64(otherHours) * Self.hour)
    }

    /// Opens the complete database read-write, generating it first when it is missing or
    /// incomplete. Prints the generation time and size to stderr when it generates.
    func open() async throws -> SQLiteStore {
        if !FileManager.default.fileExists(atPath: markerPath) {
            try await generate()
        }
        return try SQLiteStore(path: path, mode: .readWrite, logger: ScratchStore.quietLogger)
    }

    private func generate() async throws {
        for suffix in ["", "-wal", "-shm", ".complete"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        let started = ContinuousClock.now
        let store = try SQLiteStore(path: path, mode: .readWrite, logger: ScratchStore.quietLogger)
        try await store.registerResolutions(ScratchStore.resolutions)

        let tenSeconds: Int64 = 10 * 1_000_000
        let measuredStart = Self.end - Int64(measuredDays) * Self.day
        let othersStart = Self.end - Int64(otherHours) * Self.hour
        // Every series once, in the first batch: its reading total and last event time.
        var series: [SeriesDelta] = []
        for index in 0..<seriesCount {
            let span = index == 0 ? Self.end - measuredStart : Self.end - othersStart
            series.append(SeriesDelta(series: Self.seriesKey(index),
                                      readings: span / tenSeconds * Int64(Self.readingsPerBucket),
                                      lastSeen: Self.end - 1))
        }
        let keys = (0..<seriesCount).map(Self.seriesKey)
        var written = 0
        // Buckets collect in an array of their own: `FlushBatch.buckets` regroups on every set.
        var buckets: [Bucket] = []
        buckets.reserveCapacity(Self.batchSize + seriesCount * 3)
        func writeBatch() async throws {
            written += buckets.count
            try await store.write(FlushBatch(buckets: buckets, series: series))
            series = []
            buckets.removeAll(keepingCapacity: true)
        }
        // Time order: each 10 s window, all series that have data then; the 1m and 1h
        // buckets at the first 10 s window they contain.
        for window in stride(from: measuredStart, to: Self.end, by: Int(tenSeconds)) {
            let active = window < othersStart ? 1 : seriesCount
            for resolution in ScratchStore.resolutions where window % resolution.microseconds == 0 {
                for index in 0..<active {
                    buckets.append(Bucket(series: keys[index], resolution: resolution, windowStart: window,
                                          stats: Self.stats(series: index, resolution: resolution, start: window)))
                }
            }
            if buckets.count >= Self.batchSize { try await writeBatch() }
        }
        if !buckets.isEmpty || !series.isEmpty { try await writeBatch() }
        try await store.close()
        let elapsed = ContinuousClock.now - started
        let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
        let report = "generated \(path): \(description), \(written) bucket rows in "
            + String(format: "%.1f s (%.0f rows/s), %.1f MiB", elapsed.seconds, Double(written) / elapsed.seconds,
                     Double(bytes) / 1_048_576)
        try Data((report + "\n").utf8).write(to: URL(fileURLWithPath: markerPath))
        FileHandle.standardError.write(Data((report + "\n").utf8))
    }

    /// 3 readings spread over the window, values in [-50, 150] with 3 decimals.
    static func stats(series: Int, resolution: Resolution, start: Int64) -> BucketStats {
        var stats = BucketStats()
        let spacing = resolution.microseconds / Int64(readingsPerBucket)
        for k in 0..<readingsPerBucket {
            let seed = UInt64(truncatingIfNeeded: start) &* 31 &+ UInt64(series) &* 0x9E37 &+ UInt64(k)
                &+ UInt64(resolution.seconds) << 48
            let milli = Int64(HarnessReadings.splitmix64(seed) % 200_001) - 50_000
            stats.add(Double(milli) / 1_000, at: start + Int64(k) * spacing + Int64(series % 1_000))
        }
        return stats
    }
}

