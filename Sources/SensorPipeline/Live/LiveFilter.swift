#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#endif
public import SensorCore

/// Which bucket updates a live subscriber wants: device and metric globs (`*`, `?`,
/// `[…]`, case-sensitive, matched with fnmatch(3), which agrees with the query routes'
/// SQLite GLOB on every name the daemon accepts) and optionally some resolutions.
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
        Self.glob(deviceGlob, series.device) && Self.glob(metricGlob, series.metric)
    }

    /// True when `text` matches `pattern`; `*` alone matches everything without a call.
    static func glob(_ pattern: String, _ text: String) -> Bool {
        pattern == "*" || fnmatch(pattern, text, 0) == 0
    }
}
