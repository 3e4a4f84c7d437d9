import Foundation
import SensorCore
@testable import SensorStore
import Testing

/// A fresh directory under the system temp dir, removed when the test is done with it.
final class TempDirectory: Sendable {
    let path: String

    init() throws {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("sensorstore-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        path = url.path
    }

    func file(_ name: String) -> String { path + "/" + name }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

let second: Int64 = 1_000_000
let minute: Int64 = 60 * second
let hour: Int64 = 60 * minute
/// 2025-11-26T14:00:00Z, aligned to 1h.
let t0: Int64 = 1_764_165_600 * second

func res(_ text: String) -> Resolution {
    // Only test literals reach here.
    (try? Resolution(parsing: text)) ?? Resolution(seconds: 1)!
}

let defaultResolutions = [res("10s"), res("1m"), res("1h")]

/// Random readings for `devices` × `metrics` spread over `[start, start + span)`, with a few
/// exact timestamp ties (to exercise first/last tie-breaks) and values around `offset`.
func makeReadings(
    devices: [String], metrics: [String], start: Int64, span: Int64, perSeries: Int,
    offset: Double = 20, seed: UInt64 = 42
) -> [Reading] {
    var rng = SeededGenerator(seed: seed)
    var readings: [Reading] = []
    for device in devices {
        for metric in metrics {
            var previous: Int64?
            for _ in 0..<perSeries {
                let ts: Int64
                if let previous, Int.random(in: 0..<20, using: &rng) == 0 {
                    ts = previous // a tie
                } else {
                    ts = start + Int64.random(in: 0..<span, using: &rng)
                }
                previous = ts
                let value = offset + Double.random(in: -10...10, using: &rng).rounded(toPlaces: 3)
                readings.append(Reading(device: device, metric: metric, value: value, timestamp: ts))
            }
        }
    }
    return readings
}

extension Double {
    func rounded(toPlaces places: Int) -> Double {
        let scale = pow(10, Double(places))
        return (self * scale).rounded() / scale
    }
}

/// The flush a pipeline would produce for `readings`: one delta per (series, resolution,
/// window), each built with `BucketStats.add`, and one series delta per series.
func makeBatch(_ readings: [Reading], resolutions: [Resolution] = defaultResolutions) -> FlushBatch {
    struct Key: Hashable { var series: SeriesKey; var resolution: Resolution; var start: Int64 }
    var buckets: [Key: BucketStats] = [:]
    var series: [SeriesKey: (count: Int64, last: Int64)] = [:]
    for reading in readings {
        for resolution in resolutions {
            let key = Key(series: reading.series, resolution: resolution, start: resolution.windowStart(containing: reading.timestamp))
            buckets[key, default: BucketStats()].add(reading.value, at: reading.timestamp)
        }
        let current = series[reading.series] ?? (0, .min)
        series[reading.series] = (current.count + 1, max(current.last, reading.timestamp))
    }
    return FlushBatch(
        buckets: buckets.map { Bucket(series: $0.key.series, resolution: $0.key.resolution, windowStart: $0.key.start, stats: $0.value) },
        series: series.map { SeriesDelta(series: $0.key, readings: $0.value.count, lastSeen: $0.value.last) })
}

/// A window's expected aggregate, computed directly from raw readings (two-pass variance).
struct Expected: CustomStringConvertible {
    var series: SeriesKey
    var windowStart: Int64
    var windowEnd: Int64
    var count: Int64
    var sum: Double
    var min: Double
    var max: Double
    var mean: Double
    var stddev: Double
    var first: Double
    var last: Double
    /// The values in ascending order, for exact quantiles.
    var sortedValues: [Double]

    init(series: SeriesKey, windowStart: Int64, windowEnd: Int64, readings: [Reading]) {
        self.series = series
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        let values = readings.map(\.value)
        sortedValues = values.sorted()
        count = Int64(values.count)
        sum = values.reduce(0, +)
        min = values.min() ?? .nan
        max = values.max() ?? .nan
        mean = sum / Double(values.count)
        let m = mean
        stddev = (values.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(values.count)).squareRoot()
        // Earliest event time, smaller value on a tie; latest, larger value on a tie.
        let byTime = readings.sorted { ($0.timestamp, $0.value) < ($1.timestamp, $1.value) }
        first = byTime.first?.value ?? .nan
        last = byTime.last?.value ?? .nan
    }

    var description: String {
        "\(series) [\(windowStart), \(windowEnd)) count=\(count) sum=\(sum) min=\(min) max=\(max) mean=\(mean) stddev=\(stddev) first=\(first) last=\(last)"
    }
}

/// Every window `[k·step, k·step + window)` lying wholly inside `[from, to)` that holds a
/// reading, per series, ordered by device, metric, start — computed by brute force.
func expectedWindows(
    _ readings: [Reading], window: Int64, step: Int64? = nil, from: Int64? = nil, to: Int64? = nil,
    device: (String) -> Bool = { _ in true }, metric: (String) -> Bool = { _ in true }
) -> [Expected] {
    let step = step ?? window
    let bySeries = Dictionary(grouping: readings.filter { device($0.device) && metric($0.metric) }, by: \.series)
    var result: [Expected] = []
    for key in bySeries.keys.sorted() {
        let list = bySeries[key]!
        let times = list.map(\.timestamp)
        let lowK = floorDiv(times.min()! - window, step)
        let highK = floorDiv(times.max()!, step) + 1
        for k in lowK...highK {
            let start = k * step
            let end = start + window
            if let from, start < from { continue }
            if let to, end > to { continue }
            let inside = list.filter { $0.timestamp >= start && $0.timestamp < end }
            if !inside.isEmpty {
                result.append(Expected(series: key, windowStart: start, windowEnd: end, readings: inside))
            }
        }
    }
    return result
}

func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b < 0) ? q - 1 : q
}

func close(_ a: Double, _ b: Double, relative: Double = 1e-9) -> Bool {
    if a == b { return true }
    return abs(a - b) <= relative * Swift.max(1, abs(a), abs(b))
}

/// Compares rows with expectations one by one, recording a message naming the first field
/// that differs in each window.
func expectRows(
    _ rows: [AggregateRow], equal expected: [Expected], sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(rows.count == expected.count, "row count \(rows.count) != expected \(expected.count)", sourceLocation: sourceLocation)
    for (row, want) in zip(rows, expected) {
        let s = row.stats
        let problems = ([
            row.series == want.series ? nil : "series \(row.series)",
            row.windowStart == want.windowStart ? nil : "windowStart \(row.windowStart)",
            row.windowEnd == want.windowEnd ? nil : "windowEnd \(row.windowEnd)",
            s.count == want.count ? nil : "count \(s.count)",
            close(s.sum, want.sum) ? nil : "sum \(s.sum)",
            s.min == want.min ? nil : "min \(s.min)",
            s.max == want.max ? nil : "max \(s.max)",
            close(s.mean, want.mean) ? nil : "mean \(s.mean)",
            close(s.stddev, want.stddev, relative: 1e-7) ? nil : "stddev \(s.stddev)",
            s.first == want.first ? nil : "first \(s.first)",
            s.last == want.last ? nil : "last \(s.last)",
        ] + zip(Percentiles.quantiles, row.percentiles.map { [$0.p50, $0.p90, $0.p95, $0.p99] } ?? [.nan, .nan, .nan, .nan]).map { q, got in
            // The sketch's answer within 1% of the exact value of rank ⌊q·(n−1)⌋.
            let exact = want.sortedValues[Int((q * Double(want.sortedValues.count - 1)).rounded(.down))]
            return abs(got - exact) <= 0.01 * abs(exact) ? nil : "p\(Int(q * 100)) \(got) (exact \(exact))"
        }).compactMap { $0 }
        #expect(problems.isEmpty, "got \(problems.joined(separator: ", ")) for expected \(want)", sourceLocation: sourceLocation)
    }
}

/// A read-write store on a new file with `resolutions` registered.
func makeStore(_ dir: TempDirectory, name: String = "sensorhub.db", resolutions: [Resolution] = defaultResolutions) async throws -> SQLiteStore {
    let store = try SQLiteStore(path: dir.file(name), mode: .readWrite)
    try await store.registerResolutions(resolutions)
    return store
}
