import ArgumentParser
import Foundation
import MQTTIngest
import SensorConfig

/// How `simulate` logs in to the broker and checks it: the options of the daemon's
/// `mqtt.*` security settings.
struct MQTTClientOptions: ParsableArguments {
    @Option(help: "User name for the broker (or mqtt://user@host in --mqtt-url).")
    var mqttUsername: String?

    @Option(help: "File holding the broker password (or mqtt://user:password@host).")
    var mqttPasswordFile: String?

    @Option(help: "PEM CA file the broker's certificate must chain to, for mqtts:// (default: $SENSORHUB_CACERT, else the system's).")
    var mqttCa: String?

    @Option(help: "PEM client certificate for brokers that require one (with --mqtt-key).")
    var mqttCert: String?

    @Option(help: "PEM key of --mqtt-cert.")
    var mqttKey: String?

    /// The credentials and TLS options for `url`.
    func security(for url: MQTTURL) throws -> MQTTSecurity {
        guard (mqttCert == nil) == (mqttKey == nil) else { throw CommandFailure.usage("give --mqtt-cert and --mqtt-key together") }
        if !url.usesTLS, mqttCa != nil || mqttCert != nil {
            throw CommandFailure.usage("--mqtt-ca and --mqtt-cert need an mqtts:// --mqtt-url")
        }
        if url.username != nil, mqttUsername != nil { throw CommandFailure.usage("give the user in --mqtt-url or --mqtt-username, not both") }
        var password = url.password
        if let mqttPasswordFile {
            do {
                password = try SecretFile.read(mqttPasswordFile, key: "--mqtt-password-file")
            } catch {
                throw CommandFailure.usage(error.description)
            }
        }
        let caFile = mqttCa ?? (url.usesTLS ? ProcessInfo.processInfo.environment["SENSORHUB_CACERT"] : nil)
        let tls = url.usesTLS ? MQTTSecurity.TLS(caFile: caFile, certificateFile: mqttCert, keyFile: mqttKey) : nil
        return MQTTSecurity(username: url.username ?? mqttUsername, password: password, tls: tls)
    }
}
