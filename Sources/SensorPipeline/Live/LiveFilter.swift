#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#endif
public import SensorCore
public import SensorStore

/// Which bucket updates a live subscriber wants: device and metric globs (`*`, `?`,
/// `[…]`, case-sensitive, as the query routes' GLOB) and optionally some resolutions.
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

    public func matches(_ bucket: StoredBucket) -> Bool {
        if let resolutions, !resolutions.contains(bucket.resolution) { return false }
        return Self.glob(deviceGlob, bucket.series.device) && Self.glob(metricGlob, bucket.series.metric)
    }

    /// True when `text` matches `pattern`; `*` alone matches everything without a call.
    static func glob(_ pattern: String, _ text: String) -> Bool {
        pattern == "*" || fnmatch(pattern, text, 0) == 0
    }
}
