import Foundation
@testable import SensorConfig
import Testing

/// CONTRACT §5 settings: HTTPS files, scoped tokens, MQTT credentials and TLS.
@Suite struct SecuritySettingsTests {
    private func load(_ yaml: String? = nil, environment: [String: String] = [:], flags: [String: String] = [:]) throws -> Settings {
        let file = try yaml.map { try TemporaryConfigFile($0) }
        return try Settings.load(file: file?.path, environment: environment, flags: flags)
    }

    private func problem(_ yaml: String? = nil, environment: [String: String] = [:], flags: [String: String] = [:]) -> String? {
        do {
            _ = try load(yaml, environment: environment, flags: flags)
            return nil
        } catch let error as SettingsError {
            return error.description
        } catch {
            return "\(error)"
        }
    }

    @Test func tlsFilesFromTheFileAndTheFlags() throws {
        let fromFile = try load("http:\n  tls:\n    cert: /etc/s/cert.pem\n    key: /etc/s/key.pem\n")
        #expect(fromFile.http.tls == Settings.TLSFiles(certificate: "/etc/s/cert.pem", privateKey: "/etc/s/key.pem"))
        let fromFlags = try load(flags: ["http.tls.cert": "/c", "http.tls.key": "/k"])
        #expect(fromFlags.http.tls == Settings.TLSFiles(certificate: "/c", privateKey: "/k"))
        #expect(try load().http.tls == nil)
    }

    @Test func aCertificateNeedsItsKeyAndTheOtherWayRound() {
        #expect(problem(flags: ["http.tls.cert": "/c"]) == "--tls-cert: is set without http.tls.key (--tls-key); give both or neither")
        #expect(problem(environment: ["SENSORHUB_HTTP_TLS_KEY": "/k"])?.contains("is set without http.tls.cert") == true)
        #expect(problem("http:\n  tls:\n    cert: /c\n    kye: /k\n")?.contains("unknown key \"http.tls.kye\"") == true)
    }

    @Test func scopedTokensAreReadFromTheFile() throws {
        let settings = try load("""
            http:
              token: legacy-admin
              tokens:
                - {name: line-7, token_file: /run/t/line7, scope: ingest, devices: "line7-*"}
                - name: grafana
                  token_file: /run/t/grafana
                  scope: read
            """)
        #expect(settings.http.tokens == [
            TokenSpec(name: "line-7", tokenFile: "/run/t/line7", scope: .ingest, devices: "line7-*"),
            TokenSpec(name: "grafana", tokenFile: "/run/t/grafana", scope: .read),
        ])
        #expect(settings.http.token == "legacy-admin")
        // Names and scopes only in the start line; the token files' paths are not secret but not needed.
        #expect(settings.redactedDescription.hasSuffix("http.tokens=line-7:ingest:line7-*,grafana:read:* rules=<none> forward=<none>"))
        #expect(!settings.redactedDescription.contains("legacy-admin"))
    }

    @Test(arguments: [
        ("- {name: a, token_file: /t, scope: write}", "token a needs a scope: ingest, read, admin"),
        ("- {name: a, scope: read}", "token a has no token_file"),
        ("- {token_file: /t, scope: read}", "a token has no name"),
        ("- {name: a, token_file: /t, scope: read, colour: red}", "unknown field \"colour\" of a token"),
        ("- {name: a, token_file: /t, scope: read}\n    - {name: a, token_file: /u, scope: admin}", "two tokens are named \"a\""),
        ("- {name: a, token_file: /t, scope: ingest, devices: \"line 7\"}", "devices of token a must be a device name glob"),
        ("- {name: \"a b\", token_file: /t, scope: read}", "token name \"a b\" may hold only"),
        ("secret", "must be a list of tokens"),
    ])
    func badTokensAreNamed(entry: String, expected: String) {
        let text = problem("http:\n  tokens:\n    \(entry)\n")
        #expect(text?.contains("http.tokens") == true && text?.contains(expected) == true, "\(text ?? "accepted")")
    }

    @Test func tokenFilesAreReadWithoutTheirLineBreakAndNeverQuoted() throws {
        let directory = try TemporaryConfigFile("")
        let path = directory.directory.appendingPathComponent("t").path
        try Data("s3cr3t-value\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(try TokenSpec(name: "a", tokenFile: path, scope: .read).readToken() == "s3cr3t-value")
        try Data("two words\n".utf8).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: SettingsError.self) { try TokenSpec(name: "a", tokenFile: path, scope: .read).readToken() }
        #expect(error?.description.contains("two words") == false)
        #expect(error?.description.contains("must not contain spaces") == true)
        #expect(throws: SettingsError.self) { try TokenSpec(name: "a", tokenFile: path + "-missing", scope: .read).readToken() }
    }

    @Test func mqttCredentialsAndTLS() throws {
        let settings = try load(flags: [
            "mqtt.url": "mqtts://broker.example", "mqtt.username": "sensorhub", "mqtt.password_file": "/run/pw",
            "mqtt.tls.ca": "/ca.pem", "mqtt.tls.cert": "/c.pem", "mqtt.tls.key": "/k.pem",
        ])
        #expect(settings.mqtt.url == MQTTURL(host: "broker.example", port: 8883, usesTLS: true))
        #expect(settings.mqtt.username == "sensorhub")
        #expect(settings.mqtt.passwordFile == "/run/pw")
        #expect(settings.mqtt.tlsCA == "/ca.pem")
        #expect(settings.mqtt.tlsClient == Settings.TLSFiles(certificate: "/c.pem", privateKey: "/k.pem"))
    }

    @Test func mqttSecurityMistakesAreNamed() {
        #expect(problem(flags: ["mqtt.tls.ca": "/ca.pem"])?.contains("is not mqtts://; TLS settings need an mqtts:// URL") == true)
        #expect(problem(flags: ["mqtt.password_file": "/pw"])?.contains("needs a user name") == true)
        #expect(problem(flags: ["mqtt.url": "mqtt://a@b", "mqtt.username": "c"])?.contains("give the user in one place") == true)
        #expect(problem(flags: ["mqtt.url": "mqtt://a:pw@b", "mqtt.password_file": "/pw"])?.contains("give the password in one place") == true)
        let leaked = problem(flags: ["mqtt.url": "mqtt://a:hunter2@b", "mqtt.password_file": "/pw"]) ?? ""
        #expect(!leaked.contains("hunter2"), "\(leaked)")
    }
}
