/// One device as ``SensorStore/devices()`` reports it: its metrics, the latest event time
/// and the number of counted readings (duplicates excluded) over all its metrics.
public struct DeviceSummary: Sendable, Equatable {
    public var device: String
    /// Metric names, sorted.
    public var metrics: [String]
    /// Latest event time over all metrics, µs since the epoch.
    public var lastSeen: Int64
    public var readings: Int64

    public init(device: String, metrics: [String], lastSeen: Int64, readings: Int64) {
        self.device = device
        self.metrics = metrics
        self.lastSeen = lastSeen
        self.readings = readings
    }
}
