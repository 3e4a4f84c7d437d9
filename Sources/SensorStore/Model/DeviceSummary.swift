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

extension [DeviceSummary] {
    /// Adds one series row, read in (device, metric) order, to the device it belongs to.
    package mutating func add(device: String, metric: String, readings: Int64, lastSeen: Int64) {
        if let last = indices.last, self[last].device == device {
            self[last].metrics.append(metric)
            self[last].readings += readings
            self[last].lastSeen = Swift.max(self[last].lastSeen, lastSeen)
        } else {
            append(DeviceSummary(device: device, metrics: [metric], lastSeen: lastSeen, readings: readings))
        }
    }
}
