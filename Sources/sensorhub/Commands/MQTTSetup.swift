import MQTTIngest
import SensorConfig

/// Translates the daemon's settings into the MQTT source's configuration.
enum MQTTSetup {
    static func configuration(from settings: Settings) -> MQTTSourceConfiguration {
        let url = settings.mqtt.url
        return MQTTSourceConfiguration(
            host: url.host, port: url.port, username: url.username, password: url.password,
            clientID: "sensorhub")
    }
}
