import Testing
@testable import SensorConfig

/// A bad value is an error naming its source and key, whichever source it comes from.
@Suite struct SettingsValueErrorTests {
    struct BadValue: CustomTestStringConvertible, Sendable {
        let key: SettingKey
        let text: String
        /// What the message must say after `source: ` (and `key: ` for the file).
        let problem: String
        var testDescription: String { "\(key.rawValue)=\(text)" }
    }

    static let duration = "expected a whole number followed by ms, s, m, h or d (e.g. 500ms, 10s, 5m, 2h, 7d)"
    static let size = "expected a whole number of bytes, optionally followed by KiB, MiB, GiB, kB, MB or GB (e.g. 512, 64KiB, 8MiB)"
    static let resolution = "expected a whole number followed by s, m, h or d, up to 3650d (e.g. 10s, 1m, 1h, 1d)"
    static let mqtt = "expected mqtt://[user:password@]host:port or mqtts://…"
    static let boolean = "is not a boolean: expected true or false (also yes/no or 1/0)"
    static let hashRule = "is not a valid topic filter: # must be alone in the last level (e.g. sensors/#)"
    static let plusRule = "is not a valid topic filter: + must be alone in its level (e.g. sensors/+/temperature)"
    static let clientID = "is not a valid client ID: use only A-Z, a-z, 0-9, '.', '_' and '-'"
    static let version = "is not an MQTT protocol version: expected 5 or 3.1.1 (also written 311)"

    static let badValues: [BadValue] = [
        // durations
        .init(key: .storeFlushInterval, text: "10", problem: "\"10\" is not a duration: \(duration)"),
        .init(key: .storeFlushInterval, text: "1.5s", problem: "\"1.5s\" is not a duration: \(duration)"),
        .init(key: .storeFlushInterval, text: "10 s", problem: "\"10 s\" is not a duration: \(duration)"),
        .init(key: .storeFlushInterval, text: "1h30m", problem: "\"1h30m\" is not a duration: \(duration)"),
        .init(key: .storeFlushInterval, text: "10S", problem: "\"10S\" is not a duration: \(duration)"),
        .init(key: .storeFlushInterval, text: "-1s", problem: "\"-1s\" is not a duration: \(duration)"),
        .init(key: .storeFlushInterval, text: "2w", problem: "\"2w\" is not a duration: \(duration)"),
        .init(key: .storeFlushInterval, text: "0s", problem: "\"0s\" is too short: must be at least 1ms"),
        .init(key: .httpQueueWait, text: "250", problem: "\"250\" is not a duration: \(duration)"),
        .init(key: .httpQueueWait, text: "99999999999999999999ms", problem: "\"99999999999999999999ms\" is not a duration: \(duration)"),
        // sizes
        .init(key: .httpMaxBody, text: "8XB", problem: "\"8XB\" is not a size: \(size)"),
        .init(key: .httpMaxBody, text: "8 MiB", problem: "\"8 MiB\" is not a size: \(size)"),
        .init(key: .httpMaxBody, text: "8mib", problem: "\"8mib\" is not a size: \(size)"),
        .init(key: .httpMaxBody, text: "1.5MiB", problem: "\"1.5MiB\" is not a size: \(size)"),
        .init(key: .httpMaxBody, text: "MiB", problem: "\"MiB\" is not a size: \(size)"),
        .init(key: .httpMaxBody, text: "0", problem: "\"0\" is out of range: must be 1 byte to 1GiB"),
        .init(key: .httpMaxBody, text: "2GiB", problem: "\"2GiB\" is out of range: must be 1 byte to 1GiB"),
        // ports
        .init(key: .httpPort, text: "80x", problem: "\"80x\" is not a port number (0-65535)"),
        .init(key: .httpPort, text: "65536", problem: "\"65536\" is not a port number (0-65535)"),
        .init(key: .httpPort, text: "-1", problem: "\"-1\" is not a port number (0-65535)"),
        .init(key: .httpPort, text: "", problem: "\"\" is not a port number (0-65535)"),
        // resolutions
        .init(key: .storeResolutions, text: "10x", problem: "\"10x\" is not a resolution: \(resolution)"),
        .init(key: .storeResolutions, text: "10s,1m,bogus", problem: "\"bogus\" is not a resolution: \(resolution)"),
        .init(key: .storeResolutions, text: "0s", problem: "\"0s\" is not a resolution: \(resolution)"),
        .init(key: .storeResolutions, text: "500ms", problem: "\"500ms\" is not a resolution: \(resolution)"),
        .init(key: .storeResolutions, text: "10s,,1m", problem: "has an empty item in \"10s,,1m\""),
        .init(key: .storeResolutions, text: "60s,1m", problem: "lists the same resolution twice (\"60s\" and \"1m\")"),
        .init(key: .storeResolutions, text: "", problem: "must list at least one resolution (e.g. 10s,1m,1h)"),
        // MQTT URLs
        .init(key: .mqttURL, text: "http://broker:1883", problem: "\"http://broker:1883\" has scheme \"http\", not mqtt or mqtts; \(mqtt)"),
        .init(key: .mqttURL, text: "broker:1883", problem: "\"broker:1883\" has scheme \"broker\", not mqtt or mqtts; \(mqtt)"),
        .init(key: .mqttURL, text: "mqtt://", problem: "\"mqtt://\" has no host; \(mqtt)"),
        .init(key: .mqttURL, text: "mqtt://broker:99999", problem: "\"mqtt://broker:99999\" has port 99999, not 1-65535; \(mqtt)"),
        .init(key: .mqttURL, text: "mqtt://broker:1883/topic", problem: "\"mqtt://broker:1883/topic\" has a path (/topic); \(mqtt)"),
        .init(key: .mqttURL, text: "mqtt://u:hunter2@broker:1883?x=1", problem: "\"mqtt://u:***@broker:1883?x=1\" has a query or fragment; \(mqtt)"),
        .init(key: .mqttURL, text: "not a url", problem: "\"not a url\" is not a URL; \(mqtt)"),
        // MQTT connection
        .init(key: .mqttEnabled, text: "maybe", problem: "\"maybe\" \(boolean)"),
        .init(key: .mqttEnabled, text: "on", problem: "\"on\" \(boolean)"),
        .init(key: .mqttEnabled, text: "2", problem: "\"2\" \(boolean)"),
        .init(key: .mqttEnabled, text: "", problem: "\"\" \(boolean)"),
        .init(key: .mqttTopics, text: "", problem: "must list at least one topic filter (e.g. sensors/#)"),
        .init(key: .mqttTopics, text: "a/#,,b/#", problem: "has an empty item in \"a/#,,b/#\""),
        .init(key: .mqttTopics, text: "a/#, ,b/#", problem: "has an empty item in \"a/#,,b/#\""),
        .init(key: .mqttTopics, text: "sensors/#/temp", problem: "\"sensors/#/temp\" \(hashRule)"),
        .init(key: .mqttTopics, text: "sensors#", problem: "\"sensors#\" \(hashRule)"),
        .init(key: .mqttTopics, text: "ok/#,sensors/t#", problem: "\"sensors/t#\" \(hashRule)"),
        .init(key: .mqttTopics, text: "##", problem: "\"##\" \(hashRule)"),
        .init(key: .mqttTopics, text: "sensors/+x/temp", problem: "\"sensors/+x/temp\" \(plusRule)"),
        .init(key: .mqttTopics, text: "sensors+", problem: "\"sensors+\" \(plusRule)"),
        .init(key: .mqttTopics, text: "a/b,c/#,a/b", problem: "lists the same topic filter twice (\"a/b\")"),
        .init(key: .mqttQoS, text: "3", problem: "\"3\" is not a valid QoS level: expected a whole number from 0 to 2"),
        .init(key: .mqttQoS, text: "-1", problem: "\"-1\" is not a valid QoS level: expected a whole number from 0 to 2"),
        .init(key: .mqttQoS, text: "one", problem: "\"one\" is not a valid QoS level: expected a whole number from 0 to 2"),
        .init(key: .mqttClientID, text: "", problem: "must not be empty"),
        .init(key: .mqttSharedGroup, text: "", problem: "must not be empty"),
        .init(key: .mqttSharedGroup, text: "hubs/a", problem: "\"hubs/a\" is not a share name: it may not contain '/', '+', '#' or NUL"),
        .init(key: .mqttSharedGroup, text: "h#", problem: "\"h#\" is not a share name: it may not contain '/', '+', '#' or NUL"),
        .init(key: .storeURL, text: "mysql://u@h/db", problem: "must be a postgres://user:password@host:port/database URL"),
        .init(key: .mqttClientID, text: "sensor hub", problem: "\"sensor hub\" \(clientID)"),
        .init(key: .mqttClientID, text: "hub/1", problem: "\"hub/1\" \(clientID)"),
        .init(key: .mqttClientID, text: "hübsch", problem: "\"hübsch\" \(clientID)"),
        .init(
            key: .mqttClientID,
            text: String(repeating: "c", count: 129),
            problem: "\"\(String(repeating: "c", count: 129))\" is too long: a client ID has at most 128 characters"
        ),
        .init(key: .mqttProtocol, text: "4", problem: "\"4\" \(version)"),
        .init(key: .mqttProtocol, text: "3.1", problem: "\"3.1\" \(version)"),
        .init(key: .mqttProtocol, text: "v5", problem: "\"v5\" \(version)"),
        .init(key: .mqttProtocol, text: "", problem: "\"\" \(version)"),
        .init(key: .mqttKeepalive, text: "60", problem: "\"60\" is not a duration: \(duration)"),
        .init(key: .mqttKeepalive, text: "4s", problem: "\"4s\" is too short: must be at least 5s"),
        .init(key: .mqttKeepalive, text: "65536s", problem: "\"65536s\" is too long: must be at most 65535s"),
        .init(key: .mqttKeepalive, text: "1d", problem: "\"1d\" is too long: must be at most 65535s"),
        .init(key: .mqttKeepalive, text: "5500ms", problem: "\"5500ms\" is not a whole number of seconds"),
        .init(key: .mqttReconnectMin, text: "9ms", problem: "\"9ms\" is too short: must be at least 10ms"),
        .init(key: .mqttReconnectMin, text: "0s", problem: "\"0s\" is too short: must be at least 10ms"),
        .init(key: .mqttReconnectMin, text: "soon", problem: "\"soon\" is not a duration: \(duration)"),
        .init(key: .mqttReconnectMax, text: "5ms", problem: "\"5ms\" is too short: must be at least 10ms"),
        .init(key: .mqttReconnectMax, text: "1 m", problem: "\"1 m\" is not a duration: \(duration)"),
        .init(key: .mqttReceiveMaximum, text: "0", problem: "\"0\" is not a valid receive maximum: expected a whole number from 1 to 65535"),
        .init(key: .mqttReceiveMaximum, text: "65536", problem: "\"65536\" is not a valid receive maximum: expected a whole number from 1 to 65535"),
        .init(key: .mqttSessionExpiry, text: "forever", problem: "\"forever\" is not a duration: \(duration)"),
        .init(key: .mqttSessionExpiry, text: "-1s", problem: "\"-1s\" is not a duration: \(duration)"),
        .init(key: .mqttSessionExpiry, text: "4294967296s", problem: "\"4294967296s\" is too long: must be at most 4294967295s"),
        .init(key: .mqttSessionExpiry, text: "50000d", problem: "\"50000d\" is too long: must be at most 4294967295s"),
        .init(key: .mqttSessionExpiry, text: "1500ms", problem: "\"1500ms\" is not a whole number of seconds"),
        // counts
        .init(key: .pipelineShards, text: "0", problem: "\"0\" is not a valid shard count: expected a whole number from 1 to 1024"),
        .init(key: .pipelineShards, text: "-2", problem: "\"-2\" is not a valid shard count: expected a whole number from 1 to 1024"),
        .init(key: .pipelineShards, text: "two", problem: "\"two\" is not a valid shard count: expected a whole number from 1 to 1024"),
        .init(key: .pipelineShards, text: "1025", problem: "\"1025\" is not a valid shard count: expected a whole number from 1 to 1024"),
        .init(key: .pipelineQueueCapacity, text: "0", problem: "\"0\" is not a valid queue capacity: expected a whole number from 1 to 16777216"),
        // choices
        .init(key: .logLevel, text: "verbose", problem: "\"verbose\" is not a log level: expected one of trace, debug, info, notice, warning, error, critical"),
        .init(key: .logFormat, text: "xml", problem: "\"xml\" is not a log format: expected one of text, json"),
        // text
        .init(key: .httpHost, text: "", problem: "must not be empty"),
        .init(key: .httpHost, text: "local host", problem: "\"local host\" is not a host name or address"),
        .init(key: .storePath, text: "", problem: "must not be empty"),
        .init(key: .httpToken, text: "", problem: "must not be empty (leave http.token unset to disable authentication)"),
    ]

    @Test(arguments: badValues)
    func badValueInEnvironmentNamesTheVariable(bad: BadValue) {
        let error = #expect(throws: SettingsError.self) {
            try Settings.load(file: nil, environment: [bad.key.environmentVariable: bad.text], flags: [:])
        }
        #expect(error?.source == .environment(bad.key.environmentVariable))
        #expect(error?.key == bad.key.rawValue)
        #expect(error?.description == "\(bad.key.environmentVariable): \(bad.problem)")
    }

    @Test(arguments: badValues)
    func badValueInFlagsNamesTheFlag(bad: BadValue) {
        let error = #expect(throws: SettingsError.self) {
            try Settings.load(file: nil, environment: [:], flags: [bad.key.rawValue: bad.text])
        }
        #expect(error?.source == .flag(bad.key.flag))
        #expect(error?.description == "\(bad.key.flag): \(bad.problem)")
    }

    @Test(arguments: badValues)
    func badValueInFileNamesTheFileAndKey(bad: BadValue) throws {
        // Quoted so YAML keeps the text exactly (an empty plain scalar would be a null).
        let escaped = bad.text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        let file = try TemporaryConfigFile("\(bad.key.section):\n  \(bad.key.name): \"\(escaped)\"\n")
        let error = #expect(throws: SettingsError.self) {
            try Settings.load(file: file.path, environment: [:], flags: [:])
        }
        #expect(error?.source == .file(file.path))
        #expect(error?.description == "\(file.path): \(bad.key.rawValue): \(bad.problem)")
    }

    @Test func portErrorReadsAsDocumented() {
        let error = #expect(throws: SettingsError.self) {
            try Settings.load(file: nil, environment: ["SENSORHUB_HTTP_PORT": "80x"], flags: [:])
        }
        #expect(error?.description == #"SENSORHUB_HTTP_PORT: "80x" is not a port number (0-65535)"#)
    }

    @Test func badResolutionInYAMLList() throws {
        let file = try TemporaryConfigFile("store:\n  resolutions:\n    - 10s\n    - 10\n")
        let error = #expect(throws: SettingsError.self) {
            try Settings.load(file: file.path, environment: [:], flags: [:])
        }
        #expect(error?.description == "\(file.path): store.resolutions: \"10\" is not a resolution: \(Self.resolution)")
    }

    @Test func badTopicInYAMLList() throws {
        let file = try TemporaryConfigFile("mqtt:\n  topics:\n    - sensors/#\n    - alerts/#/high\n")
        let error = #expect(throws: SettingsError.self) {
            try Settings.load(file: file.path, environment: [:], flags: [:])
        }
        #expect(error?.description == "\(file.path): mqtt.topics: \"alerts/#/high\" \(Self.hashRule)")
    }

    @Test func emptyTopicsYAMLListIsRejected() throws {
        let file = try TemporaryConfigFile("mqtt:\n  topics: []\n")
        let error = #expect(throws: SettingsError.self) {
            try Settings.load(file: file.path, environment: [:], flags: [:])
        }
        #expect(error?.description == "\(file.path): mqtt.topics: must list at least one topic filter (e.g. sensors/#)")
    }

    /// A NUL cannot be written raw in YAML (nor reach a real environment or argv), so it is
    /// shown as `\0` and tested through the YAML escape and the in-memory sources.
    @Test func topicWithNULIsRejectedAndShownEscaped() throws {
        let problem = #""a\0b" is not a valid topic filter: contains a NUL character"#
        let fromFlag = #expect(throws: SettingsError.self) {
            try Settings.load(file: nil, environment: [:], flags: ["mqtt.topics": "a\0b"])
        }
        #expect(fromFlag?.description == "--mqtt-topics: \(problem)")
        let fromEnvironment = #expect(throws: SettingsError.self) {
            try Settings.load(file: nil, environment: ["SENSORHUB_MQTT_TOPICS": "x/#,a\0b"], flags: [:])
        }
        #expect(fromEnvironment?.description == "SENSORHUB_MQTT_TOPICS: \(problem)")
        let file = try TemporaryConfigFile(#"mqtt:\#n  topics: ["a\0b"]\#n"#)
        let fromFile = #expect(throws: SettingsError.self) {
            try Settings.load(file: file.path, environment: [:], flags: [:])
        }
        #expect(fromFile?.description == "\(file.path): mqtt.topics: \(problem)")
    }

    @Test func topicLongerThan65535BytesIsRejectedWithoutEchoingIt() throws {
        let longest = String(repeating: "t", count: 65_535)
        #expect(try Settings.load(file: nil, environment: [:], flags: ["mqtt.topics": longest]).mqtt.topics == [longest])
        let error = #expect(throws: SettingsError.self) {
            try Settings.load(file: nil, environment: [:], flags: ["mqtt.topics": "a/#," + longest + "é"])
        }
        #expect(error?.description == "--mqtt-topics: has a topic filter longer than 65535 bytes")
    }

    // MARK: mqtt.reconnect_max must not be below mqtt.reconnect_min

    @Test func reconnectMaxBelowMinNamesBothKeysAndWhereMinComesFrom() {
        let error = #expect(throws: SettingsError.self) {
            try Settings.load(
                file: nil,
                environment: ["SENSORHUB_MQTT_RECONNECT_MIN": "1s", "SENSORHUB_MQTT_RECONNECT_MAX": "100ms"],
                flags: [:]
            )
        }
        #expect(error?.source == .environment("SENSORHUB_MQTT_RECONNECT_MAX"))
        #expect(error?.key == "mqtt.reconnect_max")
        #expect(error?.description == "SENSORHUB_MQTT_RECONNECT_MAX: \"100ms\" is shorter than mqtt.reconnect_min "
            + "(\"1s\" from SENSORHUB_MQTT_RECONNECT_MIN); mqtt.reconnect_max must be at least mqtt.reconnect_min")
    }

    @Test func reconnectMaxBelowTheDefaultMin() {
        let error = #expect(throws: SettingsError.self) {
            try Settings.load(file: nil, environment: [:], flags: ["mqtt.reconnect_max": "100ms"])
        }
        #expect(error?.description == "--mqtt-reconnect-max: \"100ms\" is shorter than mqtt.reconnect_min "
            + "(500ms by default); mqtt.reconnect_max must be at least mqtt.reconnect_min")
    }

    @Test func reconnectMinAboveTheDefaultMaxBlamesMin() throws {
        let file = try TemporaryConfigFile("mqtt:\n  reconnect_min: 1m\n")
        let error = #expect(throws: SettingsError.self) {
            try Settings.load(file: file.path, environment: [:], flags: [:])
        }
        #expect(error?.source == .file(file.path))
        #expect(error?.key == "mqtt.reconnect_min")
        #expect(error?.description == "\(file.path): mqtt.reconnect_min: \"1m\" is longer than mqtt.reconnect_max "
            + "(30s by default); mqtt.reconnect_min must be at most mqtt.reconnect_max")
    }

    @Test func reconnectDelaysFromDifferentSources() throws {
        let file = try TemporaryConfigFile("mqtt:\n  reconnect_max: 1000ms\n")
        let error = #expect(throws: SettingsError.self) {
            try Settings.load(file: file.path, environment: [:], flags: ["mqtt.reconnect_min": "2s"])
        }
        #expect(error?.description == "\(file.path): mqtt.reconnect_max: \"1000ms\" is shorter than mqtt.reconnect_min "
            + "(\"2s\" from --mqtt-reconnect-min); mqtt.reconnect_max must be at least mqtt.reconnect_min")
    }

    @Test func badTokenIsNeverEchoed() {
        let error = #expect(throws: SettingsError.self) {
            try Settings.load(file: nil, environment: ["SENSORHUB_HTTP_TOKEN": "abc def-secret"], flags: [:])
        }
        #expect(error?.description == "SENSORHUB_HTTP_TOKEN: must not contain spaces or control characters")
    }

    @Test func badValueShadowedByAHigherSourceIsStillAnError() throws {
        let file = try TemporaryConfigFile("http:\n  port: nope\n")
        let fromFile = #expect(throws: SettingsError.self) {
            try Settings.load(file: file.path, environment: ["SENSORHUB_HTTP_PORT": "1"], flags: ["http.port": "2"])
        }
        #expect(fromFile?.description == "\(file.path): http.port: \"nope\" is not a port number (0-65535)")

        let fromEnvironment = #expect(throws: SettingsError.self) {
            try Settings.load(file: nil, environment: ["SENSORHUB_LOG_LEVEL": "loud"], flags: ["log.level": "debug"])
        }
        #expect(fromEnvironment?.source == .environment("SENSORHUB_LOG_LEVEL"))
    }

    @Test func highestSourceErrorIsReportedFirst() {
        let error = #expect(throws: SettingsError.self) {
            try Settings.load(file: nil, environment: ["SENSORHUB_HTTP_PORT": "x"], flags: ["http.port": "y"])
        }
        #expect(error?.source == .flag("--http-port"))
    }
}
