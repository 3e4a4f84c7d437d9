import Foundation
import Testing
import TestProcesses

/// The dashboard in a real browser: headless Chromium (Debian's `chromium`, installed by
/// `scripts/setup.sh --tests`) opens `/` on a daemon fed by `sensorhub simulate` and must
/// draw live points from the SSE stream, and list the alerts firing (a rule that fires for
/// every simulated device). The screenshot is kept in `test-artifacts/`.
@Suite struct DashboardBrowserTests {
    @Test func dashboardDrawsLivePointsFromTheStream() async throws {
        let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
        try #require(chromium != nil, "chromium is not installed: run scripts/setup.sh --tests")
        let config = try temporaryFolder("dashboard-config")
        defer { try? FileManager.default.removeItem(at: config) }
        let configPath = config.appendingPathComponent("sensorhub.yaml").path
        try Data("""
            alerts: {lateness: 0s}
            rules:
              - {name: busy, device: "sim-*", metric: temp, resolution: 10s, stat: count, op: ">=", threshold: 1}
            """.utf8).write(to: URL(fileURLWithPath: configPath))
        let daemon = try await Daemon(name: "dashboard", arguments: ["--config", configPath], environment: ["SENSORHUB_STORE_FLUSH_INTERVAL": "250ms"])
        defer { daemon.cleanUp() }

        // The simulator feeds the daemon until the browser is done, however long Chromium
        // takes to start on a busy machine.
        let simulator = try ChildProcess.spawn(Binary.sensorhub.path, [
            "simulate", "--transport", "http", "--server", daemon.baseURL.absoluteString,
            "--devices", "2", "--metrics", "1", "--rate", "40", "--duration", "600s",
        ])
        defer { ChildProcess.kill(simulator) }

        let artifacts = Binary.packageRoot.appendingPathComponent("test-artifacts")
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        let prefix = artifacts.appendingPathComponent("dashboard").path
        let page = daemon.baseURL.absoluteString + "?device=sim-00000&metric=temp&resolution=10s"
        let browser = try await run(
            "/usr/bin/python3", [Binary.packageRoot.appendingPathComponent("scripts/browser-snapshot.py").path, page, prefix, "4", "110"],
            environment: [
                "PATH": "/usr/bin:/bin",
                "ALSO_WAIT_FOR": "+(document.getElementById('alerts')?.dataset.firing || 0) >= 2",
                "REPORT_TOO": "Array.from(document.querySelectorAll('#alerts .dev-name')).map(e => e.textContent).join(';')",
            ], timeout: generousDeadline)
        #expect(browser.status == 0, "\(browser.stdout)\n\(browser.stderr)")

        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(browser.stdout.utf8)) as? [String: Any], "\(browser.stdout)")
        let chart = try #require(report["chart"] as? [String: Any])
        #expect(chart["series"] as? String == "sim-00000/temp")
        #expect(Int(chart["liveUpdates"] as? String ?? "") ?? 0 >= 4, "\(chart)")
        #expect(Int(chart["points"] as? String ?? "") ?? 0 >= 1, "\(chart)")
        #expect((report["page_errors"] as? [Any])?.isEmpty == true, "\(report)")
        #expect(report["extra"] as? String == "busy: sim-00000/temp;busy: sim-00001/temp", "\(report)")
        // The newest drawn point is a window the simulator is filling now.
        let last = try #require(ISO8601DateFormatter().date(from: chart["lastWindow"] as? String ?? ""), "\(chart)")
        #expect(abs(last.timeIntervalSinceNow) < 60)
        let screenshot = try FileManager.default.attributesOfItem(atPath: prefix + ".png")[.size] as? Int ?? 0
        #expect(screenshot > 10_000, "the screenshot is \(screenshot) bytes")
    }
}
