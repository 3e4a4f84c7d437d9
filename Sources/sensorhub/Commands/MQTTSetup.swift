import MQTTIngest
import SensorConfig

/// Translates the daemon's settings into the MQTT source's configuration.
enum MQTTSetup {
    /// The source's configuration, or nil when `mqtt.enabled` is false (HTTP only).
    /// - Throws: ``SettingsError`` when `mqtt.password_file` cannot be read.
    static func configuration(from settings: Settings) throws(SettingsError) -> MQTTSourceConfiguration? {
        let mqtt = settings.mqtt
        guard mqtt.enabled else { return nil }
        return MQTTSourceConfiguration(
            host: mqtt.url.host, port: mqtt.url.port, security: try security(from: mqtt),
            topics: mqtt.topics, qos: mqtt.qos, clientID: mqtt.clientID,
            protocolVersion: mqtt.protocolVersion == .v5 ? .v5 : .v311,
            keepalive: mqtt.keepalive, reconnectMin: mqtt.reconnectMin, reconnectMax: mqtt.reconnectMax,
            receiveMaximum: mqtt.receiveMaximum, sessionExpiry: mqtt.sessionExpiry, maxPayloadBytes: mqtt.maxPayloadBytes,
            sharedGroup: mqtt.sharedGroup)
    }

    /// User, password (from the URL or `mqtt.password_file`) and TLS (`mqtts://`).
    static func security(from mqtt: Settings.MQTT) throws(SettingsError) -> MQTTSecurity {
        var password = mqtt.url.password
        if let file = mqtt.passwordFile {
            password = try SecretFile.read(file, key: "mqtt.password_file")
        }
        let tls = mqtt.url.usesTLS
            ? MQTTSecurity.TLS(caFile: mqtt.tlsCA, certificateFile: mqtt.tlsClient?.certificate, keyFile: mqtt.tlsClient?.privateKey)
            : nil
        return MQTTSecurity(username: mqtt.url.username ?? mqtt.username, password: password, tls: tls)
    }
}
