/// What the transport knows about a payload before reading it.
///
/// On MQTT the topic `sensors/<device>[/<metric>]` names the device (and metric): those
/// names are authoritative, items may omit them, and an item that names another device or
/// metric rejects the whole payload (`topic_mismatch`). HTTP and gateway topics give
/// neither. `arrivalTime` is the event time of readings that carry none.
public struct DecodeContext: Sendable, Hashable {
    /// Device named by the MQTT topic, if any.
    public var device: String?
    /// Metric named by the MQTT topic, if any.
    public var metric: String?
    /// Arrival time in microseconds since the epoch; the ts of readings without one.
    public var arrivalTime: Int64
    /// Most readings one payload may give (`limits.max_readings_per_payload`): decoding
    /// stops with `too_large` at the first one past it, before building more.
    public var maxReadings: Int

    public init(device: String? = nil, metric: String? = nil, arrivalTime: Int64, maxReadings: Int = .max) {
        self.device = device
        self.metric = metric
        self.arrivalTime = arrivalTime
        self.maxReadings = maxReadings
    }

    /// A bare number payload is readable only when the topic names both device and metric.
    public var allowsBareNumber: Bool { device != nil && metric != nil }
}
