/// One row of `GET /v1/devices` and `sensorhub devices` (CONTRACT.md §3): a device, its
/// metrics, when it was last seen (latest event time, RFC 3339) and how many readings
/// were counted for it (duplicates excluded).
public struct DeviceRecord: Decodable, Sendable, Equatable {
    public var device: String
    public var metrics: [String]
    public var lastSeen: String
    public var readings: Int64

    public static let columns = ["device", "metrics", "last_seen", "readings"]

    public init(device: String, metrics: [String], lastSeen: Int64, readings: Int64) {
        self.device = device
        self.metrics = metrics
        self.lastSeen = RFC3339.format(lastSeen)
        self.readings = readings
    }

    enum CodingKeys: String, CodingKey {
        case device, metrics, readings
        case lastSeen = "last_seen"
    }

    /// Cell texts in ``columns`` order; metrics joined with spaces.
    public var cells: [String] { [device, metrics.joined(separator: " "), lastSeen, String(readings)] }
}
