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
        #expect(settings.pipeline.shards == max(1, ProcessInfo.processInfo.activeProcessorCount))
        #expect(settings.pipeline.queueCapacity == 65_536)
        #expect(settings.log.level == .info)
        #expect(settings.log.format == .text)
        #expect(settings == Settings.defaults)
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
            "SENSORHUB_STORE_PATH", "SENSORHUB_STORE_FLUSH_INTERVAL", "SENSORHUB_STORE_RESOLUTIONS",
            "SENSORHUB_HTTP_HOST", "SENSORHUB_HTTP_PORT", "SENSORHUB_HTTP_TOKEN", "SENSORHUB_HTTP_MAX_BODY",
            "SENSORHUB_HTTP_QUEUE_WAIT", "SENSORHUB_MQTT_URL", "SENSORHUB_PIPELINE_SHARDS",
            "SENSORHUB_PIPELINE_QUEUE_CAPACITY", "SENSORHUB_PIPELINE_MAX_PENDING_BUCKETS", "SENSORHUB_LOG_LEVEL", "SENSORHUB_LOG_FORMAT",
        ])
    }

    @Test func contractFlagsHaveTheirContractNames() {
        #expect(SettingKey.storePath.flag == "--db")
        #expect(SettingKey.httpHost.flag == "--http-host")
        #expect(SettingKey.httpPort.flag == "--http-port")
        #expect(SettingKey.mqttURL.flag == "--mqtt-url")
        #expect(SettingKey.logLevel.flag == "--log-level")
    }

    @Test func redactedDescriptionListsEveryKeyOnOneLine() throws {
        var settings = Settings.defaults
        settings.pipeline.shards = 3
        let line = settings.redactedDescription
        #expect(!line.contains("\n"))
        #expect(line == "store.path=./sensorhub.db store.flush_interval=1s store.resolutions=10s,1m,1h "
            + "http.host=127.0.0.1 http.port=8080 http.token=<none> http.max_body=8MiB http.queue_wait=250ms "
            + "mqtt.url=mqtt://127.0.0.1:1883 pipeline.shards=3 pipeline.queue_capacity=65536 pipeline.max_pending_buckets=100000 "
            + "log.level=info log.format=text")
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
