/// One measurement from one sensor: the unit everything in SensorHub counts.
///
/// Event time is kept as whole microseconds since the Unix epoch: integral, so bucket
/// arithmetic is exact, and fine enough for any sensor (line protocol's nanoseconds are
/// truncated toward negative infinity).
public struct Reading: Sendable, Hashable {
    public var device: String
    public var metric: String
    public var value: Double
    /// Event time in microseconds since 1970-01-01T00:00:00Z.
    public var timestamp: Int64
    /// Optional per-series sequence number used for de-duplication.
    public var seq: UInt64?

    public init(device: String, metric: String, value: Double, timestamp: Int64, seq: UInt64? = nil) {
        self.device = device
        self.metric = metric
        self.value = value
        self.timestamp = timestamp
        self.seq = seq
    }

    public var series: SeriesKey { SeriesKey(device: device, metric: metric) }
}
