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
    static let mqtt = "expected mqtt://[user:password@]host:port"

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
        .init(key: .mqttURL, text: "http://broker:1883", problem: "\"http://broker:1883\" has scheme \"http\", not mqtt; \(mqtt)"),
        .init(key: .mqttURL, text: "broker:1883", problem: "\"broker:1883\" has scheme \"broker\", not mqtt; \(mqtt)"),
        .init(key: .mqttURL, text: "mqtt://", problem: "\"mqtt://\" has no host; \(mqtt)"),
        .init(key: .mqttURL, text: "mqtt://broker:99999", problem: "\"mqtt://broker:99999\" has port 99999, not 1-65535; \(mqtt)"),
        .init(key: .mqttURL, text: "mqtt://broker:1883/topic", problem: "\"mqtt://broker:1883/topic\" has a path (/topic); \(mqtt)"),
        .init(key: .mqttURL, text: "mqtt://u:hunter2@broker:1883?x=1", problem: "\"mqtt://u:***@broker:1883?x=1\" has a query or fragment; \(mqtt)"),
        .init(key: .mqttURL, text: "not a url", problem: "\"not a url\" is not a URL; \(mqtt)"),
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
