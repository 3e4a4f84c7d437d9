/// One aggregate row exactly as the contract prints it (CONTRACT.md §3): JSON object
/// (``appendJSON(to:)``), CSV header names and table columns all come from here; the CLI
/// decodes the daemon's answers back into it.
///
/// Percentiles come from the buckets' quantile sketches (within 1%); they are `nil` (JSON
/// `null`, empty CSV cell) only for windows holding buckets stored before sketches
/// existed — never made up from other statistics.
public struct AggregateRecord: Decodable, Sendable, Equatable {
    public var device: String
    public var metric: String
    public var windowStart: String
    public var windowEnd: String
    public var count: Int64
    public var sum: Double
    public var min: Double
    public var max: Double
    public var mean: Double
    public var stddev: Double
    public var first: Double
    public var last: Double
    public var p50: Double?
    public var p90: Double?
    public var p95: Double?
    public var p99: Double?

    /// Column names in contract order.
    public static let columns = [
        "device", "metric", "window_start", "window_end", "count", "sum", "min", "max",
        "mean", "stddev", "first", "last", "p50", "p90", "p95", "p99",
    ]

    /// A row whose percentiles are those of `stats`' sketch.
    public init(series: SeriesKey, windowStart: Int64, windowEnd: Int64, stats: BucketStats) {
        self.init(series: series, windowStart: windowStart, windowEnd: windowEnd, stats: stats, percentiles: stats.percentiles)
    }

    /// A row with percentiles computed apart (`stats` need not carry the sketch).
    public init(series: SeriesKey, windowStart: Int64, windowEnd: Int64, stats: BucketStats, percentiles: Percentiles?) {
        device = series.device
        metric = series.metric
        self.windowStart = RFC3339.format(windowStart)
        self.windowEnd = RFC3339.format(windowEnd)
        count = stats.count
        sum = stats.sum
        min = stats.min
        max = stats.max
        mean = stats.mean
        stddev = stats.stddev
        first = stats.first
        last = stats.last
        p50 = percentiles?.p50
        p90 = percentiles?.p90
        p95 = percentiles?.p95
        p99 = percentiles?.p99
    }

    enum CodingKeys: String, CodingKey {
        case device, metric, count, sum, min, max, mean, stddev, first, last, p50, p90, p95, p99
        case windowStart = "window_start"
        case windowEnd = "window_end"
    }

    /// Cell texts in ``columns`` order (numbers in shortest round-trip form).
    public var cells: [String] {
        [
            device, metric, windowStart, windowEnd, String(count), "\(sum)", "\(min)", "\(max)",
            "\(mean)", "\(stddev)", "\(first)", "\(last)",
            p50.map { "\($0)" } ?? "", p90.map { "\($0)" } ?? "",
            p95.map { "\($0)" } ?? "", p99.map { "\($0)" } ?? "",
        ]
    }
}
