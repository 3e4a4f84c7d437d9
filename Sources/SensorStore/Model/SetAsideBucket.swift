public import SensorCore

/// A bucket delta a flush could not store and kept in the `set_aside_buckets` table
/// instead (see ``SensorStore/write(_:report:)``), and why.
public struct SetAsideBucket: Sendable, Equatable {
    public var series: SeriesKey
    public var resolution: Resolution
    /// Start of the window, µs since the epoch.
    public var windowStart: Int64
    public var reason: String

    package init(series: SeriesKey, resolution: Resolution, windowStart: Int64, reason: String) {
        self.series = series
        self.resolution = resolution
        self.windowStart = windowStart
        self.reason = reason
    }
}
