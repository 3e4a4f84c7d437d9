import Foundation
import Testing
import TestProcesses

/// Memory does not grow with the file: a large NDJSON file imported into the database file
/// keeps the import's peak RSS under 100 MiB. The file is 64 MiB here; set
/// `SENSORHUB_TEST_IMPORT_MIB=1024` for the 1 GB run (about a minute in release).
@Suite struct ImportMemoryTests {
    @Test func aLargeFileImportsInConstantMemory() async throws {
        let folder = try temporaryFolder("import-memory")
        defer { try? FileManager.default.removeItem(at: folder) }
        let mebibytes = Int(ProcessInfo.processInfo.environment["SENSORHUB_TEST_IMPORT_MIB"] ?? "") ?? 64
        let path = folder.appendingPathComponent("large.ndjson").path
        // Long names make each line ~300 bytes: many bytes, a modest number of readings.
        let padding = String(repeating: "x", count: 90)
        try #require(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        var written = 0
        var readings = 0
        var block = ""
        while written < mebibytes << 20 {
            block.removeAll(keepingCapacity: true)
            for _ in 0..<4_000 {
                let i = readings
                block += #"{"device":"site-\#(i % 50)-\#(padding)","metric":"metric-\#(i % 20)-\#(padding)","value":\#(i % 1_000),"ts":\#(ImportTests.start + i / 100)}"#
                block += "\n"
                readings += 1
            }
            let data = Data(block.utf8)
            try handle.write(contentsOf: data)
            written += data.count
        }
        try handle.close()

        let database = folder.appendingPathComponent("sensorhub.db").path
        let environment = cleanEnvironment().merging(["SENSORHUB_STORE_RETENTION": "10s=3650d,1m=3650d,1h=3650d"]) { $1 }
        let logPath = folder.appendingPathComponent("import.log").path
        let log = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        defer { close(log) }
        let pid = try ChildProcess.spawn(Binary.sensorhub.path, ["import", "--db", database, path], stderr: log, environment: environment)
        // Sampled on a thread of its own: the suite's other tests may keep the cooperative
        // pool busy for seconds, which would space out samples taken from a task.
        let (peakKiB, samples) = await withCheckedContinuation { continuation in
            Thread {
                var peak = 0
                var samples = 0
                while ChildProcess.isRunning(pid) {
                    if let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) {
                        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") || line.hasPrefix("VmRSS:") {
                            peak = max(peak, Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0)
                        }
                        samples += 1
                    }
                    Thread.sleep(forTimeInterval: 0.02)
                }
                continuation.resume(returning: (peak, samples))
            }.start()
        }
        let output = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        #expect(samples > 10, "the import ran long enough to be sampled: \(output)")
        #expect(peakKiB > 0 && peakKiB < 100 * 1024, "peak RSS \(peakKiB / 1024) MiB importing \(written >> 20) MiB (\(readings) readings)")
        let devices = try await runSensorhub(["devices", "--db", database, "--format", "json"])
        let rows = try #require(JSONSerialization.jsonObject(with: Data(devices.stdout.utf8)) as? [[String: Any]])
        #expect(rows.reduce(0) { $0 + ($1["readings"] as? Int ?? 0) } == readings, "every reading of the file is stored")
    }
}
