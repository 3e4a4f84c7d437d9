import Foundation
import Testing
@testable import SensorConfig

/// Problems with the sources themselves: the file, unknown keys and names.
@Suite struct SettingsSourceErrorTests {
    private func loadError(file: String? = nil, environment: [String: String] = [:], flags: [String: String] = [:]) -> SettingsError? {
        #expect(throws: SettingsError.self) {
            try Settings.load(file: file, environment: environment, flags: flags)
        }
    }

    private func fileError(_ yaml: String) throws -> (error: SettingsError?, path: String) {
        let file = try TemporaryConfigFile(yaml)
        return (loadError(file: file.path), file.path)
    }

    @Test func missingFileIsAnError() {
        let path = "/nonexistent/dir/sensorhub.yaml"
        let error = loadError(file: path)
        #expect(error?.source == .file(path))
        #expect(error?.description == "/nonexistent/dir/sensorhub.yaml: config file not found")
    }

    @Test func directoryIsNotAConfigFile() throws {
        let file = try TemporaryConfigFile("")
        let error = loadError(file: file.directory.path)
        #expect(error?.description == "\(file.directory.path): is a directory, not a config file")
    }

    @Test func unreadableFileIsAnError() throws {
        guard getuid() != 0 else { return }  // root reads anything; nothing to prove
        let file = try TemporaryConfigFile("http:\n  port: 1\n")
        try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: file.path)
        let error = loadError(file: file.path)
        #expect(error?.description.hasPrefix("\(file.path): cannot read config file") == true)
    }

    @Test func invalidYAMLNamesTheLine() throws {
        let (error, path) = try fileError("http:\n  port: 8080\n  host: [unclosed\n")
        let description = try #require(error?.description)
        #expect(description.hasPrefix("\(path): invalid YAML: line "), "got: \(description)")
        #expect(!description.contains("\n"), "message spans lines: \(description)")
    }

    @Test func duplicateKeyIsInvalidYAML() throws {
        let (error, path) = try fileError("http:\n  port: 1\n  port: 2\n")
        #expect(error?.description.hasPrefix("\(path): invalid YAML") == true, "got: \(String(describing: error))")
    }

    @Test func topLevelMustBeAMapping() throws {
        let (error, path) = try fileError("- http\n- store\n")
        #expect(error?.description == "\(path): the top level must be a mapping of sections (store, http, mqtt, pipeline, limits, journal, log, alerts, rules, forward) (line 1)")
    }

    @Test func unknownKeyInSectionIsNamedWithItsLine() throws {
        let (error, path) = try fileError("http:\n  port: 8080\n  prot: 8081\n")
        #expect(error?.key == nil)
        #expect(error?.description
            == "\(path): unknown key \"http.prot\" (line 3); keys of section http are host, port, token, max_body, queue_wait, stream_buffer, max_streams, max_connections, idle_timeout, answer_unflushed, tls.cert, tls.key, tokens")
    }

    @Test func unknownSectionIsNamed() throws {
        let (error, path) = try fileError("htp:\n  port: 8080\n")
        #expect(error?.description == "\(path): unknown key \"htp\" (line 1); sections are store, http, mqtt, pipeline, limits, journal, log, alerts, rules, forward")
    }

    @Test func keyAtTheWrongLevelIsUnknown() throws {
        // `port` belongs under `http:`, not at the top.
        let (error, path) = try fileError("port: 8080\n")
        #expect(error?.description == "\(path): unknown key \"port\" (line 1); sections are store, http, mqtt, pipeline, limits, journal, log, alerts, rules, forward")
    }

    @Test func nestedMappingUnderAKeyIsRejected() throws {
        let (error, path) = try fileError("http:\n  port:\n    number: 8080\n")
        #expect(error?.description == "\(path): http.port: must be a value, not a section (line 3)")
    }

    @Test func sectionGivenAsValueIsRejected() throws {
        let (error, path) = try fileError("http: 8080\n")
        #expect(error?.description
            == "\(path): \"http\" must be a section of keys (host, port, token, max_body, queue_wait, stream_buffer, max_streams, max_connections, idle_timeout, answer_unflushed, tls.cert, tls.key, tokens), not a value (line 1)")
    }

    @Test func listWhereOneValueIsExpectedIsRejected() throws {
        let (error, path) = try fileError("http:\n  port: [1, 2]\n")
        #expect(error?.description == "\(path): http.port: must be a single value, not a list (line 2)")
    }

    @Test func topicsListItemsMustBeValues() throws {
        let (error, path) = try fileError("mqtt:\n  topics:\n    - sensors/#\n    - [a, b]\n")
        #expect(error?.description == "\(path): mqtt.topics: list items must be single values like sensors/# (line 4)")
    }

    @Test func unknownMQTTKeyListsTheSectionsKeys() throws {
        let (error, path) = try fileError("mqtt:\n  topic: sensors/#\n")
        #expect(error?.description == "\(path): unknown key \"mqtt.topic\" (line 2); keys of section mqtt are url, enabled, topics, "
            + "qos, client_id, shared_group, protocol, keepalive, reconnect_min, reconnect_max, receive_maximum, session_expiry, max_payload, "
            + "username, password_file, tls.ca, tls.cert, tls.key")
    }

    @Test func keyWithoutValueIsRejected() throws {
        let (error, path) = try fileError("http:\n  token:\n")
        #expect(error?.description
            == "\(path): http.token: has no value (line 2); give one or remove the line to use the default")
    }

    @Test func unknownSettingVariableIsRejectedWithTheAcceptedNames() {
        let error = loadError(environment: ["SENSORHUB_HTTP_PROT": "8080"])
        #expect(error?.source == .environment("SENSORHUB_HTTP_PROT"))
        let description = error?.description ?? ""
        #expect(description.hasPrefix("SENSORHUB_HTTP_PROT: unknown setting variable; accepted names are SENSORHUB_STORE_PATH, "))
        for key in SettingKey.allCases {
            #expect(description.contains(key.environmentVariable), "\(key.environmentVariable) not listed")
        }
    }

    @Test(arguments: ["SENSORHUB_STORE_FLUSHINTERVAL", "SENSORHUB_LOG", "SENSORHUB_MQTT_HOST", "SENSORHUB_PIPELINE_SHARD"])
    func variablesInASettingSectionMustBeSettings(name: String) {
        #expect(loadError(environment: [name: "1"])?.source == .environment(name))
    }

    @Test(arguments: ["SENSORHUB_BIN", "SENSORHUB_SERVER", "SENSORHUB", "sensorhub_http_prot", "HTTP_PORT"])
    func variablesOutsideTheSettingSectionsAreIgnored(name: String) throws {
        #expect(try Settings.load(file: nil, environment: [name: "x"], flags: [:]) == Settings.defaults)
    }

    @Test func unknownFlagKeyIsRejected() {
        let error = loadError(flags: ["http.prot": "1"])
        #expect(error?.source == .flag("http.prot"))
        #expect(error?.description.hasPrefix("http.prot: unknown setting \"http.prot\"; flags are passed by key: store.path, ") == true)
    }
}
