/// What one client may make the daemon hold (CONTRACT §4): every limit is a setting, and
/// going past it rejects the offending payload with a reason, never anything around it.
public struct IngestLimits: Sendable, Equatable {
    /// `limits.max_series`: series the store may hold; a reading that would create one
    /// more is rejected (`series_limit`).
    public var maxSeries: Int
    /// `limits.max_metrics_per_device`: metrics one device may have (`series_limit`).
    public var maxMetricsPerDevice: Int
    /// `limits.max_readings_per_payload`: readings one HTTP body or MQTT message may give
    /// (`too_large`).
    public var maxReadingsPerPayload: Int

    public init(maxSeries: Int = 100_000, maxMetricsPerDevice: Int = 1_000, maxReadingsPerPayload: Int = 100_000) {
        self.maxSeries = maxSeries
        self.maxMetricsPerDevice = maxMetricsPerDevice
        self.maxReadingsPerPayload = maxReadingsPerPayload
    }
}
