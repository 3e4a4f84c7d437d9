import Foundation
import SensorCore
import Testing
@testable import SensorConfig

@Suite struct SettingsDefaultsTests {
    @Test func noSourceGivesTheDocumentedDefaults() throws {
        let settings = try Settings.load(file: nil, environment: [:], flags: [:])
        #expect(settings.store.path == "./sensorhub.db")
        #expect(settings.store.flushInterval == .seconds(1))
        #expect(settings.store.resolutions.map(\.seconds) == [10, 60, 3_600])
        #expect(settings.http.host == "127.0.0.1")
        #expect(settings.http.port == 8080)
        #expect(settings.http.token == nil)
        #expect(settings.http.maxBodyBytes == 8 * 1024 * 1024)
        #expect(settings.http.queueWait == .milliseconds(250))
        #expect(settings.mqtt.url == MQTTURL(host: "127.0.0.1", port: 1883))
        #expect(settings.mqtt.enabled == true)
        #expect(settings.mqtt.topics == ["sensors/#"])
        #expect(settings.mqtt.qos == 1)
        #expect(settings.mqtt.clientID == MQTTClientID.defaultID(hostName: ProcessInfo.processInfo.hostName))
        #expect(settings.mqtt.protocolVersion == .v5)
        #expect(settings.mqtt.keepalive == .seconds(60))
        #expect(settings.mqtt.reconnectMin == .milliseconds(500))
        #expect(settings.mqtt.reconnectMax == .seconds(30))
        #expect(settings.mqtt.receiveMaximum == 100)
        #expect(settings.mqtt.sessionExpiry == .seconds(86_400))
        #expect(settings.pipeline.shards == Settings.Pipeline.defaultShards(processors: ProcessInfo.processInfo.activeProcessorCount))
        #expect(settings.pipeline.queueCapacity == 131_072)
        #expect(settings.pipeline.maxPendingBuckets == 1_000_000)
        #expect(settings.log.level == .info)
        #expect(settings.log.format == .text)
        #expect(settings == Settings.defaults)
    }

    /// One shard per four processors, at least one: a two-core machine runs one.
    @Test func defaultShardsAreOnePerFourProcessors() {
        let shards = [1, 2, 3, 4, 7, 8, 16, 64].map { Settings.Pipeline.defaultShards(processors: $0) }
        #expect(shards == [1, 1, 1, 1, 1, 2, 4, 16])
    }

    @Test func environmentWithoutSensorHubNamesIsIgnored() throws {
        let settings = try Settings.load(
            file: nil,
            environment: ["PATH": "/usr/bin", "HTTP_PORT": "1", "SENSORHUB_BIN": "/x/sensorhub", "SENSORHUB_CONFIG": "a"],
            flags: [:]
        )
        #expect(settings == Settings.defaults)
    }

    @Test func environmentVariableNamesFollowTheConvention() {
        let names = SettingKey.allCases.map(\.environmentVariable)
        #expect(names == [
            "SENSORHUB_STORE_PATH", "SENSORHUB_STORE_URL", "SENSORHUB_STORE_FLUSH_INTERVAL", "SENSORHUB_STORE_RESOLUTIONS", "SENSORHUB_STORE_RETENTION", "SENSORHUB_STORE_RETENTION_INTERVAL",
            "SENSORHUB_HTTP_HOST", "SENSORHUB_HTTP_PORT", "SENSORHUB_HTTP_TOKEN", "SENSORHUB_HTTP_MAX_BODY",
            "SENSORHUB_HTTP_QUEUE_WAIT", "SENSORHUB_HTTP_STREAM_BUFFER", "SENSORHUB_HTTP_MAX_STREAMS", "SENSORHUB_HTTP_MAX_CONNECTIONS",
            "SENSORHUB_HTTP_IDLE_TIMEOUT", "SENSORHUB_HTTP_ANSWER_UNFLUSHED", "SENSORHUB_HTTP_TLS_CERT", "SENSORHUB_HTTP_TLS_KEY", "SENSORHUB_MQTT_URL", "SENSORHUB_MQTT_ENABLED", "SENSORHUB_MQTT_TOPICS",
            "SENSORHUB_MQTT_QOS", "SENSORHUB_MQTT_CLIENT_ID", "SENSORHUB_MQTT_SHARED_GROUP", "SENSORHUB_MQTT_PROTOCOL", "SENSORHUB_MQTT_KEEPALIVE",
            "SENSORHUB_MQTT_RECONNECT_MIN", "SENSORHUB_MQTT_RECONNECT_MAX", "SENSORHUB_MQTT_RECEIVE_MAXIMUM",
            "SENSORHUB_MQTT_SESSION_EXPIRY", "SENSORHUB_MQTT_MAX_PAYLOAD", "SENSORHUB_MQTT_USERNAME", "SENSORHUB_MQTT_PASSWORD_FILE",
            "SENSORHUB_MQTT_TLS_CA", "SENSORHUB_MQTT_TLS_CERT", "SENSORHUB_MQTT_TLS_KEY", "SENSORHUB_PIPELINE_SHARDS",
            "SENSORHUB_PIPELINE_QUEUE_CAPACITY", "SENSORHUB_PIPELINE_MAX_PENDING_BUCKETS", "SENSORHUB_PIPELINE_MAX_PENDING_BYTES",
            "SENSORHUB_PIPELINE_SHUTDOWN_DEADLINE", "SENSORHUB_PIPELINE_MAX_FUTURE_SKEW", "SENSORHUB_LIMITS_MAX_SERIES",
            "SENSORHUB_LIMITS_MAX_METRICS_PER_DEVICE", "SENSORHUB_LIMITS_MAX_READINGS_PER_PAYLOAD", "SENSORHUB_LIMITS_MAX_QUERY_ROWS",
            "SENSORHUB_JOURNAL_DIRECTORY", "SENSORHUB_JOURNAL_FSYNC",
            "SENSORHUB_JOURNAL_FSYNC_INTERVAL", "SENSORHUB_JOURNAL_SEGMENT_SIZE", "SENSORHUB_LOG_LEVEL", "SENSORHUB_LOG_FORMAT",
            "SENSORHUB_ALERTS_LATENESS", "SENSORHUB_ALERTS_RETRY_MIN", "SENSORHUB_ALERTS_RETRY_MAX", "SENSORHUB_ALERTS_WEBHOOK_TIMEOUT",
            "SENSORHUB_ALERTS_MAX_QUEUED", "SENSORHUB_ALERTS_KEEP_RESOLVED",
        ])
    }

    @Test func contractFlagsHaveTheirContractNames() {
        #expect(SettingKey.storePath.flag == "--db")
        #expect(SettingKey.httpHost.flag == "--http-host")
        #expect(SettingKey.httpPort.flag == "--http-port")
        #expect(SettingKey.mqttURL.flag == "--mqtt-url")
        #expect(SettingKey.logLevel.flag == "--log-level")
        #expect(SettingKey.mqttClientID.flag == "--mqtt-client-id")
        #expect(SettingKey.mqttReconnectMax.flag == "--mqtt-reconnect-max")
    }

    @Test func defaultClientIDIsSensorHubAndThisHostsName() throws {
        let id = Settings.defaults.mqtt.clientID
        #expect(id == MQTTClientID.defaultID(hostName: ProcessInfo.processInfo.hostName))
        #expect(id.hasPrefix("sensorhub"))
        #expect(Settings.defaults.mqtt.clientID == id, "the same on every call")
        // The default is a value the setting itself accepts.
        let settings = try Settings.load(file: nil, environment: ["SENSORHUB_MQTT_CLIENT_ID": id], flags: [:])
        #expect(settings == Settings.defaults)
    }

    @Test(arguments: [
        ("vm", "sensorhub-vm"),
        ("edge-01.plant.example.com", "sensorhub-edge-01.plant.example.com"),
        ("Build_Box", "sensorhub-Build_Box"),
        ("my host", "sensorhub-my-host"),
        ("hôte:1", "sensorhub-h-te-1"),
        ("", "sensorhub"),
    ])
    func defaultClientIDReplacesCharactersMQTTDoesNotAllow(hostName: String, expected: String) {
        #expect(MQTTClientID.defaultID(hostName: hostName) == expected)
    }

    @Test func defaultClientIDIsCutTo128Characters() {
        let id = MQTTClientID.defaultID(hostName: String(repeating: "h", count: 200))
        #expect(id == "sensorhub-" + String(repeating: "h", count: 118))
    }

    @Test func redactedDescriptionListsEveryKeyOnOneLine() throws {
        var settings = Settings.defaults
        settings.pipeline.shards = 3
        settings.mqtt.clientID = "sensorhub-box"
        let line = settings.redactedDescription
        #expect(!line.contains("\n"))
        #expect(line == "store.path=./sensorhub.db store.url=<none> store.flush_interval=1s store.resolutions=10s,1m,1h store.retention=\"10s=7d,1m=90d,1h=1825d\" store.retention_interval=1m "
            + "http.host=127.0.0.1 http.port=8080 http.token=<none> http.max_body=8MiB http.queue_wait=250ms http.stream_buffer=4096 http.max_streams=64 "
            + "http.max_connections=1024 http.idle_timeout=1m http.answer_unflushed=true http.tls.cert=<none> http.tls.key=<none> "
            + "mqtt.url=mqtt://127.0.0.1:1883 mqtt.enabled=true mqtt.topics=sensors/# mqtt.qos=1 mqtt.client_id=sensorhub-box mqtt.shared_group=<none> "
            + "mqtt.protocol=5 mqtt.keepalive=1m mqtt.reconnect_min=500ms mqtt.reconnect_max=30s mqtt.receive_maximum=100 "
            + "mqtt.session_expiry=1d mqtt.max_payload=1MiB mqtt.username=<none> mqtt.password_file=<none> mqtt.tls.ca=<none> mqtt.tls.cert=<none> "
            + "mqtt.tls.key=<none> pipeline.shards=3 pipeline.queue_capacity=131072 pipeline.max_pending_buckets=1000000 pipeline.max_pending_bytes=256MiB "
            + "pipeline.shutdown_deadline=10s pipeline.max_future_skew=5m limits.max_series=100000 limits.max_metrics_per_device=1000 "
            + "limits.max_readings_per_payload=100000 limits.max_query_rows=1000000 journal.directory=./sensorhub.db.journal journal.fsync=interval "
            + "journal.fsync_interval=1s journal.segment_size=64MiB log.level=info log.format=text "
            + "alerts.lateness=5s alerts.retry_min=1s alerts.retry_max=1m alerts.webhook_timeout=10s alerts.max_queued=1000000 alerts.keep_resolved=1d "
            + "http.tokens=<none> rules=<none> forward=<none>")
    }

    @Test func redactedDescriptionMasksTheTokenAndTheMQTTPassword() throws {
        let settings = try Settings.load(
            file: nil,
            environment: [
                "SENSORHUB_HTTP_TOKEN": "s3cr3t-t0ken",
                "SENSORHUB_MQTT_URL": "mqtt://alice:hunter2@broker.local:8883",
            ],
            flags: [:]
        )
        #expect(settings.http.token == "s3cr3t-t0ken")
        #expect(settings.mqtt.url.password == "hunter2")
        let line = settings.redactedDescription
        #expect(line.contains("http.token=***"))
        #expect(line.contains("mqtt.url=mqtt://alice:***@broker.local:8883"))
        #expect(!line.contains("s3cr3t"), "token leaked: \(line)")
        #expect(!line.contains("hunter2"), "MQTT password leaked: \(line)")
    }

    @Test func redactedDescriptionQuotesValuesWithSpaces() {
        var settings = Settings.defaults
        settings.store.path = "/var/lib/sensor hub/db.sqlite"
        #expect(settings.redactedDescription.hasPrefix("store.path=\"/var/lib/sensor hub/db.sqlite\" "))
    }
}
