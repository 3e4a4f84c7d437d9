public import SensorCore

/// How far from now an event time may be: readings more than `maxFutureSkew` ahead of the
/// clock are refused (`future_ts`: a device clock gone wrong would otherwise open buckets
/// nobody queries yet), and readings older than the longest retention are refused
/// (`too_late`: every bucket they could land in is already deleted, or about to be).
/// Everything in between is taken, late or not: it merges into its stored buckets.
public struct TimeRules: Sendable {
    public var maxFutureSkew: Duration
    /// How long each resolution's buckets are kept.
    public var retention: [Resolution: Duration]

    public init(maxFutureSkew: Duration, retention: [Resolution: Duration]) {
        self.maxFutureSkew = maxFutureSkew
        self.retention = retention
    }

    /// The first reading (0-based index) outside the rules, as a decode error, or nil.
    public func rejection(of readings: [Reading], now: Int64) -> DecodeError? {
        let latest = now + maxFutureSkew.microseconds
        let longest = retention.values.max() ?? .zero
        let earliest = now - longest.microseconds
        for (index, reading) in readings.enumerated() {
            if reading.timestamp > latest {
                return DecodeError(.futureTimestamp, index: index, "item \(index): ts \(RFC3339.format(reading.timestamp)) is more than \(maxFutureSkew.shortText) ahead of this daemon's clock")
            }
            if retention.isEmpty == false, reading.timestamp < earliest {
                return DecodeError(.tooLate, index: index, "item \(index): ts \(RFC3339.format(reading.timestamp)) is older than the longest retention (\(longest.shortText)); no bucket keeps it")
            }
        }
        return nil
    }

    /// Readings older than every resolution's retention.
    func tooLateCount(of readings: [Reading], now: Int64) -> Int {
        guard let longest = retention.values.max() else { return 0 }
        let earliest = now - longest.microseconds
        return readings.reduce(0) { $0 + ($1.timestamp < earliest ? 1 : 0) }
    }
}
