/// Where the MQTT source stands, for `/healthz` and the connection gauge.
public enum MQTTConnectionState: UInt8, Sendable, CustomStringConvertible {
    /// Not started, or stopped.
    case stopped = 0
    /// Trying to reach the broker (first attempt or after a failure, backing off).
    case connecting = 1
    /// Connected and subscribed.
    case connected = 2

    public var description: String {
        switch self {
        case .stopped: "stopped"
        case .connecting: "connecting"
        case .connected: "connected"
        }
    }
}
