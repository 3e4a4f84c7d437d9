import SensorCore
import Testing
@testable import SensorConfig

/// Where values come from, and which source wins.
@Suite struct SettingsSourcesTests {
    static let fullFile = """
        # every key, none at its default
        store:
          path: /var/lib/sensorhub/data.db
          flush_interval: 500ms
          resolutions: [1m, 5m, 1d]
        http:
          host: 0.0.0.0
          port: 9090
          token: file-token
          max_body: 64KiB
          queue_wait: 2s
        mqtt:
          url: mqtt://user:pass@broker:1884
          enabled: no
          topics:
            - plant/+/sensors/#
            - "#"
          qos: 2
          client_id: edge-box.01
          protocol: 3.1.1
          keepalive: 2m
          reconnect_min: 1s
          reconnect_max: 5m
          receive_maximum: 20
          session_expiry: 0s
        pipeline:
          shards: 3
          queue_capacity: 1024
          max_pending_buckets: 2000
        log:
          level: debug
          format: json
        """

    @Test func fileAloneSetsEveryKey() throws {
        let file = try TemporaryConfigFile(Self.fullFile)
        let settings = try Settings.load(file: file.path, environment: [:], flags: [:])
        #expect(settings.store.path == "/var/lib/sensorhub/data.db")
        #expect(settings.store.flushInterval == .milliseconds(500))
        #expect(settings.store.resolutions.map(\.seconds) == [60, 300, 86_400])
        #expect(settings.http.host == "0.0.0.0")
        #expect(settings.http.port == 9090)
        #expect(settings.http.token == "file-token")
        #expect(settings.http.maxBodyBytes == 65_536)
        #expect(settings.http.queueWait == .seconds(2))
        #expect(settings.mqtt.url == MQTTURL(host: "broker", port: 1884, username: "user", password: "pass"))
        #expect(settings.mqtt.enabled == false)
        #expect(settings.mqtt.topics == ["plant/+/sensors/#", "#"])
        #expect(settings.mqtt.qos == 2)
        #expect(settings.mqtt.clientID == "edge-box.01")
        #expect(settings.mqtt.protocolVersion == .v311)
        #expect(settings.mqtt.keepalive == .seconds(120))
        #expect(settings.mqtt.reconnectMin == .seconds(1))
        #expect(settings.mqtt.reconnectMax == .seconds(300))
        #expect(settings.mqtt.receiveMaximum == 20)
        #expect(settings.mqtt.sessionExpiry == .zero)
        #expect(settings.pipeline.shards == 3)
        #expect(settings.pipeline.queueCapacity == 1024)
        #expect(settings.pipeline.maxPendingBuckets == 2000)
        #expect(settings.log.level == .debug)
        #expect(settings.log.format == .json)
    }

    @Test func fileKeysNotSetKeepTheirDefaults() throws {
        let file = try TemporaryConfigFile("http:\n  port: 0\n")
        let settings = try Settings.load(file: file.path, environment: [:], flags: [:])
        var expected = Settings.defaults
        expected.http.port = 0
        #expect(settings == expected)
    }

    @Test(arguments: ["", "# only a comment\n", "---\n"])
    func fileWithoutAnyDocumentMeansDefaults(contents: String) throws {
        let file = try TemporaryConfigFile(contents)
        #expect(try Settings.load(file: file.path, environment: [:], flags: [:]) == Settings.defaults)
    }

    @Test func emptySectionIsAllowed() throws {
        let file = try TemporaryConfigFile("http:\nlog:\n  level: warning\n")
        let settings = try Settings.load(file: file.path, environment: [:], flags: [:])
        #expect(settings.log.level == .warning)
        #expect(settings.http == Settings.defaults.http)
    }

    @Test func resolutionsAsCommaSeparatedStringInFile() throws {
        let file = try TemporaryConfigFile("store:\n  resolutions: 1h, 10s,1m\n")
        let settings = try Settings.load(file: file.path, environment: [:], flags: [:])
        #expect(settings.store.resolutions.map(\.seconds) == [10, 60, 3_600], "sorted finest first")
    }

    @Test func topicsAsCommaSeparatedStringInFile() throws {
        let file = try TemporaryConfigFile("mqtt:\n  topics: sensors/#, alerts/+/high,$SYS/broker/#\n")
        let settings = try Settings.load(file: file.path, environment: [:], flags: [:])
        #expect(settings.mqtt.topics == ["sensors/#", "alerts/+/high", "$SYS/broker/#"], "in the order given")
    }

    @Test func topicsYAMLListKeepsCommasAndSpacesInsideFilters() throws {
        let file = try TemporaryConfigFile("mqtt:\n  topics:\n    - \"site a/temp,humidity\"\n    - \"+\"\n    - a//b\n")
        let settings = try Settings.load(file: file.path, environment: [:], flags: [:])
        #expect(settings.mqtt.topics == ["site a/temp,humidity", "+", "a//b"])
    }

    @Test(arguments: [
        ("true", true), ("false", false), ("yes", true), ("no", false), ("1", true), ("0", false),
        ("TRUE", true), ("No", false),
    ])
    func enabledAcceptsBooleanSpellings(text: String, expected: Bool) throws {
        let fromFlag = try Settings.load(file: nil, environment: [:], flags: ["mqtt.enabled": text])
        #expect(fromFlag.mqtt.enabled == expected)
        let fromEnvironment = try Settings.load(file: nil, environment: ["SENSORHUB_MQTT_ENABLED": text], flags: [:])
        #expect(fromEnvironment.mqtt.enabled == expected)
        // Unquoted in YAML, where yes/no/true/false are booleans and 1/0 numbers: read as text.
        let file = try TemporaryConfigFile("mqtt:\n  enabled: \(text)\n")
        #expect(try Settings.load(file: file.path, environment: [:], flags: [:]).mqtt.enabled == expected)
    }

    @Test(arguments: [("5", MQTTProtocol.v5), ("3.1.1", .v311), ("311", .v311)])
    func protocolAcceptsItsSpellings(text: String, expected: MQTTProtocol) throws {
        let settings = try Settings.load(file: nil, environment: ["SENSORHUB_MQTT_PROTOCOL": text], flags: [:])
        #expect(settings.mqtt.protocolVersion == expected)
        let file = try TemporaryConfigFile("mqtt:\n  protocol: \(text)\n")
        #expect(try Settings.load(file: file.path, environment: [:], flags: [:]).mqtt.protocolVersion == expected)
    }

    @Test func protocolLevelsAreTheCONNECTValues() {
        #expect(MQTTProtocol.v5.protocolLevel == 5)
        #expect(MQTTProtocol.v311.protocolLevel == 4)
    }

    @Test func reconnectDelaysMayBeEqualAndMinMayPassTheDefaultMaxWhenMaxIsRaised() throws {
        let equal = try Settings.load(
            file: nil,
            environment: ["SENSORHUB_MQTT_RECONNECT_MIN": "2s", "SENSORHUB_MQTT_RECONNECT_MAX": "2s"],
            flags: [:]
        )
        #expect(equal.mqtt.reconnectMin == .seconds(2))
        #expect(equal.mqtt.reconnectMax == .seconds(2))
        let file = try TemporaryConfigFile("mqtt:\n  reconnect_min: 1m\n")
        let raised = try Settings.load(file: file.path, environment: [:], flags: ["mqtt.reconnect_max": "5m"])
        #expect(raised.mqtt.reconnectMin == .seconds(60))
        #expect(raised.mqtt.reconnectMax == .seconds(300))
    }

    @Test func environmentOverridesFile() throws {
        let file = try TemporaryConfigFile(Self.fullFile)
        let settings = try Settings.load(
            file: file.path,
            environment: [
                "SENSORHUB_HTTP_PORT": "7070",
                "SENSORHUB_STORE_FLUSH_INTERVAL": "2s",
                "SENSORHUB_STORE_RESOLUTIONS": "30s,1h",
                "SENSORHUB_HTTP_TOKEN": "env-token",
                "SENSORHUB_PIPELINE_QUEUE_CAPACITY": "4096",
                "SENSORHUB_LOG_LEVEL": "error",
                "SENSORHUB_MQTT_ENABLED": "true",
                "SENSORHUB_MQTT_TOPICS": "a/#,b/+",
            ],
            flags: [:]
        )
        #expect(settings.mqtt.enabled == true)
        #expect(settings.mqtt.topics == ["a/#", "b/+"], "the variable's list replaces the file's")
        #expect(settings.http.port == 7070)
        #expect(settings.store.flushInterval == .seconds(2))
        #expect(settings.store.resolutions.map(\.seconds) == [30, 3_600])
        #expect(settings.http.token == "env-token")
        #expect(settings.pipeline.queueCapacity == 4096)
        #expect(settings.log.level == .error)
        // Keys the environment does not set still come from the file.
        #expect(settings.http.host == "0.0.0.0")
        #expect(settings.pipeline.shards == 3)
        #expect(settings.store.path == "/var/lib/sensorhub/data.db")
    }

    @Test func flagsOverrideEnvironmentAndFile() throws {
        let file = try TemporaryConfigFile(Self.fullFile)
        let settings = try Settings.load(
            file: file.path,
            environment: [
                "SENSORHUB_HTTP_PORT": "7070",
                "SENSORHUB_STORE_PATH": "/env.db",
                "SENSORHUB_MQTT_URL": "mqtt://env-broker:1883",
            ],
            flags: [
                "http.port": "0",
                "store.path": "/flag.db",
                "mqtt.url": "mqtt://flag-broker:2883",
                "http.host": "::1",
            ]
        )
        #expect(settings.http.port == 0)
        #expect(settings.store.path == "/flag.db")
        #expect(settings.mqtt.url == MQTTURL(host: "flag-broker", port: 2883))
        #expect(settings.http.host == "::1")
        // Not set by flags: environment, then file.
        #expect(settings.http.token == "file-token")
        #expect(settings.log.format == .json)
    }

    /// Every key can be set through its `SENSORHUB_*` variable: proves the name the provider
    /// looks up is the one we document and accept.
    @Test(arguments: SettingKey.allCases)
    func everyKeyIsReadFromItsEnvironmentVariable(key: SettingKey) throws {
        let sample: [SettingKey: String] = [
            .storePath: "/tmp/e.db", .storeFlushInterval: "3s", .storeResolutions: "5m",
            .httpHost: "10.0.0.1", .httpPort: "1234", .httpToken: "t", .httpMaxBody: "1MiB",
            .httpQueueWait: "0ms", .httpStreamBuffer: "17", .httpMaxStreams: "3", .httpMaxConnections: "5",
            .httpIdleTimeout: "90s", .httpAnswerUnflushed: "false", .mqttMaxPayload: "64KiB", .limitsMaxSeries: "10", .limitsMaxMetricsPerDevice: "3",
            .limitsMaxReadingsPerPayload: "2", .limitsMaxQueryRows: "50", .mqttURL: "mqtt://h:1", .mqttEnabled: "false", .mqttTopics: "a/+/b,c/#",
            .mqttQoS: "2", .mqttClientID: String(repeating: "x", count: 128), .mqttProtocol: "3.1.1",
            .mqttKeepalive: "90s", .mqttReconnectMin: "10ms", .mqttReconnectMax: "1m", .mqttReceiveMaximum: "65535",
            .mqttSessionExpiry: "0ms", .pipelineShards: "7",
            .pipelineQueueCapacity: "9", .pipelineMaxPendingBuckets: "5000", .pipelineMaxPendingBytes: "2MiB",
            .pipelineShutdownDeadline: "30s", .pipelineMaxFutureSkew: "1h", .storeRetention: "10s=30d,1m=60d,1h=400d", .storeRetentionInterval: "10s", .journalDirectory: "/srv/j", .journalFsync: "never",
            .journalFsyncInterval: "2s", .journalSegmentSize: "128MiB", .logLevel: "trace", .logFormat: "json",
            .httpTLSCert: "/etc/c.pem", .httpTLSKey: "/etc/k.pem", .mqttUsername: "u", .mqttPasswordFile: "/etc/pw",
            .mqttTLSCA: "/etc/ca.pem", .mqttTLSCert: "/etc/mc.pem", .mqttTLSKey: "/etc/mk.pem",
            .alertsLateness: "0ms", .alertsRetryMin: "10ms", .alertsRetryMax: "5m", .alertsWebhookTimeout: "3s",
            .alertsMaxQueued: "5000", .alertsKeepResolved: "1h", .storeURL: "postgresql://hub@db.internal/hub", .mqttSharedGroup: "hubs",
        ]
        let text = try #require(sample[key])
        var environment = [key.environmentVariable: text]
        for (other, value) in companions(of: key) { environment[other.environmentVariable] = value }
        let settings = try Settings.load(file: nil, environment: environment, flags: [:])
        #expect(settings != Settings.defaults, "\(key.environmentVariable)=\(text) was not applied")
        #expect(settings.text(of: key) == text)
    }

    /// Every key can be set by a flag keyed by its dotted key.
    @Test(arguments: SettingKey.allCases)
    func everyKeyIsReadFromFlags(key: SettingKey) throws {
        let text = sampleText(key)
        var flags = [key.rawValue: text]
        for (other, value) in companions(of: key) { flags[other.rawValue] = value }
        let settings = try Settings.load(file: nil, environment: [:], flags: flags)
        #expect(settings != Settings.defaults, "flag \(key.rawValue)=\(text) was not applied")
        #expect(settings.text(of: key) == text)
    }

    /// The other keys a key needs to be valid: a certificate's key, an `mqtts://` URL
    /// for the MQTT TLS files, a user for a password file.
    private func companions(of key: SettingKey) -> [SettingKey: String] {
        switch key {
        case .httpTLSCert: [.httpTLSKey: "/k.pem"]
        case .httpTLSKey: [.httpTLSCert: "/c.pem"]
        case .mqttTLSCA: [.mqttURL: "mqtts://b"]
        case .mqttTLSCert: [.mqttURL: "mqtts://b", .mqttTLSKey: "/mk.pem"]
        case .mqttTLSKey: [.mqttURL: "mqtts://b", .mqttTLSCert: "/mc.pem"]
        case .mqttPasswordFile: [.mqttUsername: "u"]
        default: [:]
        }
    }

    private func sampleText(_ key: SettingKey) -> String {
        switch key {
        case .httpTLSCert: "/c.pem"
        case .httpTLSKey: "/k.pem"
        case .mqttUsername: "device-7"
        case .mqttPasswordFile: "/run/secrets/mqtt"
        case .mqttTLSCA: "/ca.pem"
        case .mqttTLSCert: "/mc.pem"
        case .mqttTLSKey: "/mk.pem"
        case .storePath: "/f.db"
        case .storeURL: "postgres://u:p@db:5433/hub"
        case .storeFlushInterval: "7d"
        case .storeResolutions: "2h"
        case .httpHost: "example.org"
        case .httpPort: "65535"
        case .httpToken: "abc"
        case .httpMaxBody: "1GiB"
        case .httpQueueWait: "5m"
        case .httpStreamBuffer: "1000000"
        case .httpMaxStreams: "10000"
        case .httpMaxConnections: "1"
        case .httpIdleTimeout: "1s"
        case .httpAnswerUnflushed: "false"
        case .mqttURL: "mqtt://b:2"
        case .mqttEnabled: "false"
        case .mqttTopics: "x"
        case .mqttQoS: "0"
        case .mqttClientID: "c"
        case .mqttSharedGroup: "g"
        case .mqttProtocol: "3.1.1"
        case .mqttKeepalive: "5s"
        case .mqttReconnectMin: "30s"
        case .mqttReconnectMax: "500ms"
        case .mqttReceiveMaximum: "1"
        case .mqttSessionExpiry: "4294967295s"
        case .mqttMaxPayload: "256MiB"
        case .limitsMaxSeries: "100000000"
        case .limitsMaxMetricsPerDevice: "1"
        case .limitsMaxReadingsPerPayload: "900000"
        case .limitsMaxQueryRows: "1"
        case .pipelineShards: "1024"
        case .pipelineQueueCapacity: "1"
        case .pipelineMaxPendingBuckets: "1000"
        case .pipelineMaxPendingBytes: "64GiB"
        case .pipelineShutdownDeadline: "1m"
        case .pipelineMaxFutureSkew: "0ms"
        case .storeRetention: "10s=1d,1m=2d,1h=3d"
        case .storeRetentionInterval: "2h"
        case .journalDirectory: "/var/lib/j"
        case .journalFsync: "always"
        case .journalFsyncInterval: "250ms"
        case .journalSegmentSize: "1MiB"
        case .logLevel: "critical"
        case .logFormat: "json"
        case .alertsLateness: "1h"
        case .alertsRetryMin: "30s"
        case .alertsRetryMax: "2m"
        case .alertsWebhookTimeout: "100ms"
        case .alertsMaxQueued: "1000"
        case .alertsKeepResolved: "7d"
        }
    }

    @Test func yamlScalarsOfOtherTypesAreReadAsText() throws {
        // Unquoted YAML numbers are fine where a number is expected ...
        let file = try TemporaryConfigFile(
            "http:\n  port: 8081\n  max_body: 1024\npipeline:\n  shards: 2\nmqtt:\n  qos: 0\n  receive_maximum: 10\n"
        )
        let settings = try Settings.load(file: file.path, environment: [:], flags: [:])
        #expect(settings.http.port == 8081)
        #expect(settings.http.maxBodyBytes == 1024)
        #expect(settings.pipeline.shards == 2)
        #expect(settings.mqtt.qos == 0)
        #expect(settings.mqtt.receiveMaximum == 10)
        // ... and quoted ones too.
        let quoted = try TemporaryConfigFile("http:\n  port: \"8082\"\n")
        #expect(try Settings.load(file: quoted.path, environment: [:], flags: [:]).http.port == 8082)
    }
}
