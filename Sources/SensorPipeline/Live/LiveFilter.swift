public import SensorCore

/// Which bucket updates a live subscriber wants: device and metric globs (``NameGlob``)
/// and optionally some resolutions.
public struct LiveFilter: Sendable, Equatable {
    public var deviceGlob: String
    public var metricGlob: String
    /// Resolutions to send; nil for every resolution.
    public var resolutions: Set<Resolution>?

    public init(deviceGlob: String = "*", metricGlob: String = "*", resolutions: Set<Resolution>? = nil) {
        self.deviceGlob = deviceGlob
        self.metricGlob = metricGlob
        self.resolutions = resolutions
    }

    /// Whether the series matches both globs (resolutions are checked by the caller).
    public func matches(_ series: SeriesKey) -> Bool {
        NameGlob(deviceGlob).matches(series.device) && NameGlob(metricGlob).matches(series.metric)
    }
}
