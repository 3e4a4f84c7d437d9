/// The statistic of a window a threshold rule compares (CONTRACT §7 `stat`).
public enum AlertStatistic: String, Sendable, CaseIterable {
    case count, sum, min, max, mean, stddev, p50, p90, p95, p99

    /// The statistic in a window's row; nil for a percentile the row does not have.
    public func value(in record: AggregateRecord) -> Double? {
        switch self {
        case .count: Double(record.count)
        case .sum: record.sum
        case .min: record.min
        case .max: record.max
        case .mean: record.mean
        case .stddev: record.stddev
        case .p50: record.p50
        case .p90: record.p90
        case .p95: record.p95
        case .p99: record.p99
        }
    }
}
