import MQTTIngest
import SensorConfig

/// Translates the daemon's settings into the MQTT source's configuration.
enum MQTTSetup {
    /// The source's configuration, or nil when `mqtt.enabled` is false (HTTP only).
    static func configuration(from settings: Settings) -> MQTTSourceConfiguration? {
        let mqtt = settings.mqtt
        guard mqtt.enabled else { return nil }
        return MQTTSourceConfiguration(
            host: mqtt.url.host, port: mqtt.url.port, username: mqtt.url.username, password: mqtt.url.password,
            topics: mqtt.topics, qos: mqtt.qos, clientID: mqtt.clientID,
            protocolVersion: mqtt.protocolVersion == .v5 ? .v5 : .v311,
            keepalive: mqtt.keepalive, reconnectMin: mqtt.reconnectMin, reconnectMax: mqtt.reconnectMax,
            receiveMaximum: mqtt.receiveMaximum, sessionExpiry: mqtt.sessionExpiry, maxPayloadBytes: mqtt.maxPayloadBytes)
    }
}
