import Foundation
import Testing

/// CONTRACT §5 through the real binary with real TLS: certificates made by openssl
/// (``TestPKI``), mosquitto from the shipped production config (TLS listener, password
/// file, ACL), the daemon on HTTPS with scoped tokens, and the CLI.
@Suite struct SecurityTests {
    private let now = Int(Date().timeIntervalSince1970)

    /// Files of secrets for one test: each written to the daemon's folder.
    private func secretFile(_ folder: URL, _ name: String, _ value: String) throws -> String {
        let path = folder.appendingPathComponent(name).path
        try Data((value + "\n").utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    private func reading(_ device: String, _ value: Int, ts: Int) -> String {
        #"{"device":"\#(device)","metric":"m","value":\#(value),"ts":\#(ts)}"#
    }

    /// Every secret the test used, and the daemon's whole output: none may appear in it.
    private func expectNoSecret(_ secrets: [String], in output: String) {
        for secret in secrets {
            #expect(!output.contains(secret), "the daemon logged a secret (\(secret.prefix(3))…)")
        }
    }

    @Test func readingsOverMQTTSAndHTTPSAreCountedExactly() async throws {
        let pki = try await TestPKI.shared.value
        let passwords = ["sensorhub": "daemon-pw-\(UUID().uuidString)", "kiln-00000": "device-pw-\(UUID().uuidString)"]
        let broker = try await Broker(secure: .init(
            caFile: pki.caFile, certificateFile: pki.server.certificate, keyFile: pki.server.key, users: passwords))
        defer { broker.cleanUp() }
        let folder = try temporaryFolder("tls-secrets")
        let adminToken = "admin-\(UUID().uuidString)"
        let config = folder.appendingPathComponent("sensorhub.yaml").path
        try Data("""
            http:
              tokens:
                - {name: ops, token_file: \(try secretFile(folder, "ops.token", adminToken)), scope: admin}
            """.utf8).write(to: URL(fileURLWithPath: config))
        let daemon = try await Daemon(
            name: "tls-both",
            arguments: ["--config", config, "--mqtt-url", broker.url, "--tls-cert", pki.server.certificate, "--tls-key", pki.server.key],
            environment: [
                "SENSORHUB_MQTT_USERNAME": "sensorhub",
                "SENSORHUB_MQTT_PASSWORD_FILE": try secretFile(folder, "mqtt.password", passwords["sensorhub"]!),
                "SENSORHUB_MQTT_TLS_CA": pki.caFile, "SENSORHUB_STORE_FLUSH_INTERVAL": "200ms",
            ],
            caFile: pki.caFile)
        defer { daemon.cleanUp() }
        #expect(daemon.baseURL.scheme == "https")
        #expect(await eventually { daemon.output.contains("connected to broker") }, "\(daemon.output)")

        // 200 readings over mqtts from the device's own login (the simulator's one device
        // is kiln-00000), on its own topics.
        let published = try await runSensorhub([
            "simulate", "--mqtt-url", broker.url, "--mqtt-username", "kiln-00000",
            "--mqtt-password-file", try secretFile(folder, "device.password", passwords["kiln-00000"]!), "--mqtt-ca", pki.caFile,
            "--devices", "1", "--prefix", "kiln-", "--count", "200", "--seq",
        ])
        #expect(published.status == 0, "\(published.stdout)\(published.stderr)")
        // The ACL lets a device publish only under its own name: a reading kiln-00000
        // sends on another device's topic is dropped by the broker.
        try? await broker.publish(#"{"value":999,"ts":\#(now - 60)}"#, topic: "sensors/kiln-00001/temp", as: "kiln-00000")
        // Deeper topics carry readings of any device: gateways only.
        try? await broker.publish(#"[{"device":"kiln-00002","metric":"t","value":1,"ts":\#(now - 60)}]"#, topic: "sensors/kiln-00000/gw/batch", as: "kiln-00000")

        // 100 readings over HTTPS with the admin token, through the CLI's simulator.
        let posted = try await runSensorhub([
            "simulate", "--transport", "http", "--server", daemon.baseURL.absoluteString, "--cacert", pki.caFile,
            "--token", adminToken, "--devices", "2", "--prefix", "web-", "--count", "100", "--batch", "10",
        ])
        #expect(posted.status == 0, "\(posted.stdout)\(posted.stderr)")

        let counted = try await eventually {
            let devices = try await daemon.cli(["devices", "--format", "json", "--token", adminToken])
            guard devices.status == 0, let list = try JSONSerialization.jsonObject(with: Data(devices.stdout.utf8)) as? [[String: Any]] else { return false }
            let readings = Dictionary(uniqueKeysWithValues: list.map { ($0["device"] as? String ?? "", $0["readings"] as? Int ?? 0) })
            return readings["kiln-00000"] == 200 && (readings["web-00000"] ?? 0) + (readings["web-00001"] ?? 0) == 100
        }
        #expect(counted)

        // Reconnects work over TLS: the broker restarts, the daemon connects again (a
        // second "connected to broker"), and the device's next 100 readings count too.
        await broker.stop()
        try await broker.start()
        #expect(await eventually { daemon.output.components(separatedBy: "connected to broker").count > 2 }, "\(daemon.output)")
        let again = try await runSensorhub([
            "simulate", "--mqtt-url", broker.url, "--mqtt-username", "kiln-00000",
            "--mqtt-password-file", try secretFile(folder, "device.password", passwords["kiln-00000"]!), "--mqtt-ca", pki.caFile,
            "--devices", "1", "--prefix", "kiln-", "--count", "100",
        ])
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(try await eventually {
            let devices = try await daemon.cli(["devices", "--format", "json", "--token", adminToken])
            guard devices.status == 0, let list = try JSONSerialization.jsonObject(with: Data(devices.stdout.utf8)) as? [[String: Any]] else { return false }
            return list.first { $0["device"] as? String == "kiln-00000" }?["readings"] as? Int == 300
        })
        let all = try await daemon.cli(["devices", "--format", "json", "--token", adminToken])
        #expect(!all.stdout.contains("kiln-00001") && !all.stdout.contains("kiln-00002"), "the broker's ACL let kiln-00000 write another device: \(all.stdout)")
        #expect(try await daemon.stop() == 0)
        expectNoSecret(Array(passwords.values) + [adminToken], in: daemon.output)
    }

    /// Two tokens with one secret are refused at start: whichever matched last would decide
    /// the scope. The refusal names the tokens, never the secret.
    @Test func twoTokensWithOneSecretAreRefusedAtStart() async throws {
        let folder = try temporaryFolder("tokens-same-secret")
        defer { try? FileManager.default.removeItem(at: folder) }
        let secret = "same-\(UUID().uuidString)"
        let config = folder.appendingPathComponent("sensorhub.yaml").path
        try Data("""
            http:
              tokens:
                - {name: grafana, token_file: \(try secretFile(folder, "a.token", secret)), scope: read}
                - {name: ops, token_file: \(try secretFile(folder, "b.token", secret)), scope: admin}
            """.utf8).write(to: URL(fileURLWithPath: config))
        let started = try await runSensorhub([
            "serve", "--config", config, "--db", folder.appendingPathComponent("db").path, "--http-port", "0",
        ])
        let output = started.stdout + started.stderr
        #expect(started.status == 64, "\(output)")
        #expect(output.contains("holds the same token as grafana"), "\(output)")
        #expect(!output.contains(secret), "the refusal printed the secret")
    }

    /// The daemon refuses a broker whose certificate it cannot trust, and says why in its
    /// log: another CA, an expired certificate, a certificate for another host.
    @Test(arguments: [
        ("unknown CA", "certificate in certificate chain"),
        ("expired", "certificate has expired"),
        ("wrong host", "not valid for the host name"),
    ])
    func brokerCertificatesThatCannotBeTrustedAreRefusedWithTheReason(case name: String, expected: String) async throws {
        let pki = try await TestPKI.shared.value
        let pair = switch name {
        case "expired": pki.expired
        case "wrong host": pki.wrongHost
        default: pki.server
        }
        let broker = try await Broker(secure: .init(caFile: pki.caFile, certificateFile: pair.certificate, keyFile: pair.key, users: ["sensorhub": "pw"]))
        defer { broker.cleanUp() }
        let folder = try temporaryFolder("tls-refused")
        let daemon = try await Daemon(
            name: "tls-refused", arguments: ["--mqtt-url", broker.url],
            environment: [
                "SENSORHUB_MQTT_USERNAME": "sensorhub", "SENSORHUB_MQTT_PASSWORD_FILE": try secretFile(folder, "pw", "pw"),
                "SENSORHUB_MQTT_TLS_CA": name == "unknown CA" ? pki.otherCAFile : pki.caFile,
            ])
        defer { daemon.cleanUp() }
        #expect(await eventually { daemon.output.contains(expected) }, "\(name): \(daemon.output)")
        #expect(!daemon.output.contains("connected to broker"))
        let line = daemon.output.split(separator: "\n").first { $0.contains(expected) } ?? ""
        #expect(line.contains("mqtts://127.0.0.1:\(broker.port)"), "the line names the broker: \(line)")
    }

    /// The CLI trusts only what it is told to, and says why it refuses.
    @Test func theCLIRefusesCertificatesItCannotVerify() async throws {
        let pki = try await TestPKI.shared.value
        let daemon = try await Daemon(
            name: "tls-cli", arguments: ["--tls-cert", pki.server.certificate, "--tls-key", pki.server.key], caFile: pki.caFile)
        defer { daemon.cleanUp() }
        let server = daemon.baseURL.absoluteString
        let trusted = try await runSensorhub(["devices", "--server", server, "--cacert", pki.caFile])
        #expect(trusted.status == 0, "\(trusted.stderr)")
        let byName = try await runSensorhub(["devices", "--server", "https://localhost:\(daemon.port)"], environment: ["SENSORHUB_CACERT": pki.caFile])
        #expect(byName.status == 0, "\(byName.stderr)")
        let untrusted = try await runSensorhub(["devices", "--server", server, "--cacert", pki.otherCAFile])
        #expect(untrusted.status == 1)
        #expect(untrusted.stderr.contains("certificate could not be verified"), "\(untrusted.stderr)")
        #expect(untrusted.stderr.split(separator: "\n").count == 1, "one line: \(untrusted.stderr)")
        let plain = try await runSensorhub(["devices", "--server", server])
        #expect(plain.status == 1, "the system's CAs do not know the test CA")

        let elsewhere = try await Daemon(
            name: "tls-cli-host", arguments: ["--tls-cert", pki.wrongHost.certificate, "--tls-key", pki.wrongHost.key],
            waitUntilHealthy: false)
        defer { elsewhere.cleanUp() }
        let wrongHost = try await runSensorhub(["devices", "--server", elsewhere.baseURL.absoluteString, "--cacert", pki.caFile])
        #expect(wrongHost.status == 1)
        #expect(wrongHost.stderr.contains("not valid for this host name"), "\(wrongHost.stderr)")

        let stale = try await Daemon(
            name: "tls-cli-expired", arguments: ["--tls-cert", pki.expired.certificate, "--tls-key", pki.expired.key],
            waitUntilHealthy: false)
        defer { stale.cleanUp() }
        let expired = try await runSensorhub(["devices", "--server", stale.baseURL.absoluteString, "--cacert", pki.caFile])
        #expect(expired.status == 1)
        #expect(expired.stderr.contains("could not be verified"), "\(expired.stderr)")
    }

    /// A renewed certificate is taken on SIGHUP, without a restart; one that does not load
    /// leaves the one before in use.
    @Test func sighupReloadsTheCertificate() async throws {
        let pki = try await TestPKI.shared.value
        let folder = try temporaryFolder("tls-reload")
        let certificate = folder.appendingPathComponent("cert.pem").path, key = folder.appendingPathComponent("key.pem").path
        func install(_ pair: TestPKI.Pair) throws {
            for (from, to) in [(pair.certificate, certificate), (pair.key, key)] {
                try? FileManager.default.removeItem(atPath: to)
                try FileManager.default.copyItem(atPath: from, toPath: to)
            }
        }
        try install(pki.wrongHost)
        let daemon = try await Daemon(name: "tls-reload", arguments: ["--tls-cert", certificate, "--tls-key", key], waitUntilHealthy: false, caFile: pki.caFile)
        defer { daemon.cleanUp() }
        #expect(try await daemon.cli(["devices"]).status == 1, "a certificate for another host")

        try install(pki.server)
        kill(daemon.pid, SIGHUP)
        #expect(await eventually { daemon.output.contains("reloaded the TLS certificate") })
        #expect(try await daemon.cli(["devices"]).status == 0, "the renewed certificate is in use")

        try Data("not a key".utf8).write(to: URL(fileURLWithPath: key))
        kill(daemon.pid, SIGHUP)
        #expect(await eventually { daemon.output.contains("cannot reload the TLS certificate, keeping the one loaded before") })
        #expect(try await daemon.cli(["devices"]).status == 0, "the certificate loaded before stays in use")
        #expect(try await daemon.stop() == 0)
    }

    /// Every scope and glob rule of the tokens (CONTRACT §5), on plain HTTP.
    @Test func tokensAreScopedAndIngestTokensToTheirDevices() async throws {
        let folder = try temporaryFolder("tokens")
        let secrets = (ingest: "ingest-\(UUID().uuidString)", read: "read-\(UUID().uuidString)", admin: "admin-\(UUID().uuidString)", legacy: "legacy-\(UUID().uuidString)")
        let config = folder.appendingPathComponent("sensorhub.yaml").path
        try Data("""
            http:
              token: \(secrets.legacy)
              tokens:
                - {name: line7, token_file: \(try secretFile(folder, "i", secrets.ingest)), scope: ingest, devices: "line7-*"}
                - {name: grafana, token_file: \(try secretFile(folder, "r", secrets.read)), scope: read}
                - {name: ops, token_file: \(try secretFile(folder, "a", secrets.admin)), scope: admin}
            """.utf8).write(to: URL(fileURLWithPath: config))
        let daemon = try await Daemon(name: "tokens", arguments: ["--config", config], environment: ["SENSORHUB_STORE_FLUSH_INTERVAL": "100ms"])
        defer { daemon.cleanUp() }
        func bearer(_ token: String) -> [String: String] { ["Authorization": "Bearer \(token)"] }
        let ts = now - 60

        // Ingest: its own devices only, the whole batch refused for one outsider.
        let outsider = try await daemon.post("[\(reading("line7-a", 1, ts: ts)),\(reading("line7-b", 2, ts: ts)),\(reading("line8-c", 3, ts: ts))]",
                                             contentType: "application/json", headers: bearer(secrets.ingest))
        #expect(outsider.status == 403)
        let refusal = try outsider.json() as? [String: Any]
        #expect(refusal?["reason"] as? String == "forbidden")
        #expect(refusal?["index"] as? Int == 2)
        #expect((refusal?["error"] as? String)?.contains("line7") == true)
        #expect(try await daemon.post("[\(reading("line7-a", 1, ts: ts))]", contentType: "application/json", headers: bearer(secrets.ingest)).status == 202)
        #expect(try await daemon.request("GET", "/v1/devices", headers: bearer(secrets.ingest)).status == 403, "ingest may not read")
        #expect(try await daemon.request("GET", "/metrics", headers: bearer(secrets.ingest)).status == 403)

        // Read: queries, metrics, streams; no writing.
        #expect(try await daemon.request("GET", "/v1/devices", headers: bearer(secrets.read)).status == 200)
        #expect(try await daemon.post("[\(reading("line7-z", 1, ts: ts))]", contentType: "application/json", headers: bearer(secrets.read)).status == 403)
        // The scope follows the method, not the path: the router takes `/v1/readings/` to the
        // ingest route too, and a read token must not write through it.
        let trailing = try await daemon.request(
            "POST", "/v1/readings/", body: Data("[\(reading("line7-y", 1, ts: ts))]".utf8),
            headers: bearer(secrets.read).merging(["Content-Type": "application/json"]) { $1 })
        #expect(trailing.status == 403, "a read token posting to /v1/readings/: \(trailing.status)")
        let stream = try EventStreamClient(port: daemon.port, query: "?access_token=\(secrets.read)")
        #expect(stream.status == 200)
        let ingestStream = try EventStreamClient(port: daemon.port, query: "?access_token=\(secrets.ingest)")
        #expect(ingestStream.status == 403)
        let socket = try WebSocketTestClient(port: daemon.port, query: "?access_token=\(secrets.ingest)")
        #expect(socket.status == 403, "a WebSocket upgrade with an ingest token")

        // Admin, and the v1 token as admin: any device, and reading.
        for token in [secrets.admin, secrets.legacy] {
            #expect(try await daemon.post("[\(reading("line8-c", 3, ts: ts))]", contentType: "application/json", headers: bearer(token)).status == 202)
            #expect(try await daemon.request("GET", "/v1/devices", headers: bearer(token)).status == 200)
        }
        // Nobody else.
        #expect(try await daemon.request("GET", "/v1/devices").status == 401)
        #expect(try await daemon.request("GET", "/v1/devices", headers: bearer(secrets.admin + "x")).status == 401)
        #expect(try await daemon.request("GET", "/v1/devices", headers: bearer(String(secrets.admin.dropLast()))).status == 401)

        let stored = try await eventually {
            let answer = try await daemon.request("GET", "/v1/devices", headers: bearer(secrets.read))
            let devices = try answer.json() as? [[String: Any]] ?? []
            return devices.reduce(0) { $0 + ($1["readings"] as? Int ?? 0) } == 3
        }
        #expect(stored, "line7-a once, line8-c twice, nothing of the refused batches")
        let metrics = try await daemon.request("GET", "/metrics", headers: bearer(secrets.read)).text
        #expect(metricValue(metrics, #"sensorhub_readings_rejected_total{transport="http",reason="forbidden"}"#) == 7)
        #expect(metricValue(metrics, #"sensorhub_readings_rejected_total{transport="http",reason="unauthorized"}"#) == 3)
        #expect(try await daemon.stop() == 0)
        let output = daemon.output
        #expect(output.contains("http.tokens=line7:ingest:line7-*,grafana:read:*,ops:admin:*"), "names and scopes in the start line")
        expectNoSecret([secrets.ingest, secrets.read, secrets.admin, secrets.legacy], in: output + metrics)
    }
}
