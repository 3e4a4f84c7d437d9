public import SensorCore

/// The change to one series' totals produced by one flush: how many readings were newly
/// counted (duplicates excluded) and the latest event time among them.
public struct SeriesDelta: Sendable {
    public var series: SeriesKey
    /// Readings counted since the previous flush; added to the stored total.
    public var readings: Int64
    /// Latest event time (µs since the epoch) among them; the stored value keeps the maximum.
    public var lastSeen: Int64

    public init(series: SeriesKey, readings: Int64, lastSeen: Int64) {
        self.series = series
        self.readings = readings
        self.lastSeen = lastSeen
    }
}
