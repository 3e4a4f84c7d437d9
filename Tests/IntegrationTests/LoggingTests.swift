import Foundation
import Testing

/// `log.format: json` for log shippers: every line the daemon writes is one JSON object,
/// and the one start-up line carries the effective configuration with secrets masked.
@Suite struct LoggingTests {
    @Test func jsonLinesAndOneStartLineWithTheTokenMasked() async throws {
        let daemon = try await Daemon(name: "json-logs", environment: [
            "SENSORHUB_LOG_FORMAT": "json", "SENSORHUB_HTTP_TOKEN": "s3cret-token", "SENSORHUB_STORE_FLUSH_INTERVAL": "250ms",
        ])
        defer { daemon.cleanUp() }
        // Something worth logging at warning level: a rejected request.
        #expect(try await daemon.post("[]", contentType: "application/json").status == 401)
        #expect(try await daemon.stop() == 0)

        let lines = daemon.output.split(separator: "\n").filter { !$0.isEmpty }
        #expect(lines.count >= 4, "\(daemon.output)")
        var objects: [[String: Any]] = []
        for line in lines {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                Issue.record("not a JSON object: \(line)")
                continue
            }
            #expect(object["time"] is String && object["level"] is String && object["label"] is String && object["message"] is String,
                    "\(line)")
            #expect((object["time"] as? String)?.hasSuffix("Z") == true, "time in UTC with its zone: \(line)")
            objects.append(object)
        }
        let starts = objects.filter { $0["message"] as? String == "starting" }
        #expect(starts.count == 1)
        let configuration = try #require(starts.first?["configuration"] as? String)
        #expect(configuration.contains("http.token=***"), "\(configuration)")
        #expect(configuration.contains("log.format=json"))
        #expect(configuration.contains("store.flush_interval=250ms"))
        #expect(!daemon.output.contains("s3cret-token"), "the token must never be logged")
        #expect(objects.contains { $0["message"] as? String == "stopped" })
    }
}
