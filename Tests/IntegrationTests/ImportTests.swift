import Foundation
import Testing
import SensorCore

/// `sensorhub import` through the real binary (CONTRACT §6): every format and form gives
/// exactly the aggregates of its readings, gzip and stdin too; bad records are skipped
/// with their lines in the rejects file; an import killed with SIGKILL at random points
/// and resumed counts every reading once, through a daemon and into the database file;
/// `--db` is refused while a daemon holds the file; memory stays flat on a large file.
@Suite struct ImportTests {
    /// 2025-11-26T14:00:00Z.
    static let start = 1_764_165_600

    /// A reading of the generated fleet: device, metric, value (a multiple of 0.25, so
    /// sums are exact), whole-second time, optional seq.
    struct Row {
        var device: String
        var metric: String
        var value: Double
        var ts: Int
        var seq: Int?
    }

    /// `count` readings over 6 devices × 2 metrics named with `prefix`, every fourth
    /// with a seq.
    static func rows(_ prefix: String, count: Int) -> [Row] {
        (0..<count).map { i in
            Row(device: "\(prefix)-d\(i % 6)", metric: i % 12 < 6 ? "temp" : "rh", value: Double(i % 97) * 0.25 - 3,
                ts: start + i, seq: i % 4 == 0 ? i : nil)
        }
    }

    /// Expected totals per "device/metric".
    static func expected(_ rows: [Row]) -> [String: (count: Int, sum: Double)] {
        var totals: [String: (count: Int, sum: Double)] = [:]
        for row in rows {
            let previous = totals["\(row.device)/\(row.metric)"] ?? (0, 0)
            totals["\(row.device)/\(row.metric)"] = (previous.count + 1, previous.sum + row.value)
        }
        return totals
    }

    static func ndjson(_ rows: [Row]) -> String {
        rows.map { r in
            #"{"device":"\#(r.device)","metric":"\#(r.metric)","value":\#(r.value),"ts":\#(r.ts)\#(r.seq.map { ",\"seq\":\($0)" } ?? "")}"#
        }.joined(separator: "\n") + "\n"
    }

    static func json(_ rows: [Row]) -> String {
        "[\n" + rows.map { r in
            "  {\n    \"device\": \"\(r.device)\",\n    \"metric\": \"\(r.metric)\",\n    \"value\": \(r.value),\n    \"ts\": \"\(RFC3339.format(Int64(r.ts) * 1_000_000))\"\(r.seq.map { ",\n    \"seq\": \($0)" } ?? "")\n  }"
        }.joined(separator: ",\n") + "\n]\n"
    }

    /// One record per reading; base name and time set every 10 records.
    static func senml(_ rows: [Row]) -> String {
        "[" + rows.enumerated().map { index, r in
            index % 10 == 0
                ? #"{"bn":"\#(r.device)/","bt":\#(r.ts),"n":"\#(r.metric)","v":\#(r.value)}"#
                : #"{"bn":"\#(r.device)/","n":"\#(r.metric)","t":\#(r.ts - rows[index - index % 10].ts),"v":\#(r.value)}"#
        }.joined(separator: ",\n") + "]\n"
    }

    static func lineProtocol(_ rows: [Row]) -> String {
        rows.map { "\($0.metric),device=\($0.device) value=\($0.value) \($0.ts)000000000" }.joined(separator: "\n") + "\n"
    }

    /// Long form, columns shuffled, names quoted, CRLF.
    static func csvLong(_ rows: [Row]) -> String {
        "seq,value,\"device\",ts,metric\r\n" + rows.map { "\($0.seq.map(String.init) ?? ""),\($0.value),\"\($0.device)\",\($0.ts),\($0.metric)\r\n" }.joined()
    }

    /// Wide form: one row per device and second, a column per metric (empty where none).
    static func csvWide(_ rows: [Row]) -> String {
        "device,ts,temp,rh,site\n" + rows.map { r in
            "\(r.device),\(RFC3339.format(Int64(r.ts) * 1_000_000)),\(r.metric == "temp" ? "\(r.value)" : ""),\(r.metric == "rh" ? "\(r.value)" : ""),greenhouse\n"
        }.joined()
    }

    static func gzip(_ path: String) async throws -> String {
        let output = try await run("/bin/gzip", ["-f", path])
        #expect(output.status == 0, "\(output.stderr)")
        return path + ".gz"
    }

    /// What a stored series must hold, compared exactly.
    static func expectTotals(_ stored: [String: (count: Int, sum: Double)], _ expected: [String: (count: Int, sum: Double)], prefix: String,
                             sourceLocation: SourceLocation = #_sourceLocation) {
        let mine = stored.filter { $0.key.hasPrefix(prefix + "-") }
        #expect(Set(mine.keys) == Set(expected.keys), "\(prefix): series", sourceLocation: sourceLocation)
        for (key, value) in expected {
            #expect(mine[key]?.count == value.count && mine[key]?.sum == value.sum,
                    "\(prefix) \(key): stored \(String(describing: mine[key])), expected \(value)", sourceLocation: sourceLocation)
        }
    }

    @Test func everyFormatAndFormGivesExactlyItsReadingsAggregates() async throws {
        let daemon = try await Daemon(name: "import-formats")
        defer { daemon.cleanUp() }
        let folder = daemon.folder
        let server = ["--server", daemon.baseURL.absoluteString]
        var expectations: [(String, [Row])] = []
        func write(_ name: String, _ text: String) throws -> String {
            let path = folder.appendingPathComponent(name).path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let cases: [(prefix: String, file: String, text: ([Row]) -> String)] = [
            ("ndjson", "a.ndjson", Self.ndjson), ("json", "a.json", Self.json), ("senml", "a.senml", Self.senml),
            ("lp", "a.lp", Self.lineProtocol), ("long", "long.csv", Self.csvLong), ("wide", "wide.csv", Self.csvWide),
        ]
        for (prefix, file, text) in cases {
            let rows = Self.rows(prefix, count: 1_200)
            let output = try await runSensorhub(["import", "--batch", "250"] + server + [try write(file, text(rows))])
            #expect(output.status == 0, "\(prefix): \(output.stderr)")
            #expect(output.stderr.contains("import: files=1 readings=\(rows.count) duplicates=0 rejected=0 "), "\(prefix): \(output.stderr)")
            expectations.append((prefix, rows))
        }
        // gzip, with the format from the name under .gz, and from the content on stdin.
        let gzRows = Self.rows("gz", count: 3_000)
        let gz = try await Self.gzip(try write("b.csv", Self.csvLong(gzRows)))
        let gzOutput = try await runSensorhub(["import"] + server + [gz])
        #expect(gzOutput.status == 0, "\(gzOutput.stderr)")
        expectations.append(("gz", gzRows))
        let stdinRows = Self.rows("stdin", count: 700)
        let stdinFile = try write("stdin.lp", Self.lineProtocol(stdinRows))
        let shell = try await run("/bin/sh", ["-c", "\"$0\" import --server \"$1\" - < \"$2\"", Binary.sensorhub.path, daemon.baseURL.absoluteString, stdinFile])
        #expect(shell.status == 0, "\(shell.stderr)")
        #expect(shell.stderr.contains("import: files=1 readings=700 duplicates=0 rejected=0 "), "\(shell.stderr)")
        expectations.append(("stdin", stdinRows))

        let total = expectations.reduce(0) { $0 + $1.1.count }
        let stored = try await waitForTotal(daemon, total)
        for (prefix, rows) in expectations { Self.expectTotals(stored, Self.expected(rows), prefix: prefix) }
        // A second import of the same file: readings with seq are duplicates, the others count again.
        let again = try await runSensorhub(["import"] + server + [folder.appendingPathComponent("a.ndjson").path])
        #expect(again.stderr.contains("readings=900 duplicates=300 rejected=0"), "\(again.stderr)")
    }

    /// A data logger's export: one series, consecutive seqs. Batches in flight at once must
    /// not overtake each other within a series, or seqs more than 1024 below the highest
    /// taken would be duplicates (CONTRACT §2).
    @Test func aSeriesWithConsecutiveSeqsIsTakenWholeWithBatchesInFlight() async throws {
        let daemon = try await Daemon(name: "import-seq-order")
        defer { daemon.cleanUp() }
        let path = daemon.folder.appendingPathComponent("logger.csv").path
        let count = 30_000
        try ("device,metric,value,ts,seq\n" + (1...count).map { "logger-1,temp,\(Double($0 % 40) * 0.5),\(Self.start + $0),\($0)\n" }.joined())
            .write(toFile: path, atomically: true, encoding: .utf8)
        let output = try await runSensorhub(["import", "--server", daemon.baseURL.absoluteString, "--batch", "1000", "--in-flight", "8", path])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stderr.contains("readings=\(count) duplicates=0 rejected=0"), "\(output.stderr)")
        let stored = try await waitForTotal(daemon, count)
        #expect(stored["logger-1/temp"]?.count == count)
    }

    /// Readings past the daemon's time rules are rejects with their lines, and one refusal
    /// settles all its like in the batch: the daemon refuses once per rule, not per reading.
    @Test func readingsOutsideTheTimeRulesAreRejectedInOneRoundTripEach() async throws {
        let daemon = try await Daemon(name: "import-time-rules")
        defer { daemon.cleanUp() }
        let now = Int(Date().timeIntervalSince1970)
        let old = now - 3_700 * 86_400   // beyond the tests' 3650-day retention
        let future = now + 2 * 86_400
        var lines: [String] = []
        var expectedRejects: [String] = []
        for i in 0..<18 {
            let ts = i % 3 == 1 ? old - i : i % 6 == 2 ? future + i : now - 60 + i
            lines.append(#"{"device":"rules-d","metric":"m","value":\#(i),"ts":\#(ts)}"#)
            if ts == old - i { expectedRejects.append("\(i + 1) too_late") }
            if ts == future + i { expectedRejects.append("\(i + 1) future_ts") }
        }
        let path = daemon.folder.appendingPathComponent("rules.ndjson").path
        let rejects = daemon.folder.appendingPathComponent("rules.rejects").path
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let output = try await runSensorhub(["import", "--server", daemon.baseURL.absoluteString, "--in-flight", "1", "--rejects", rejects, path])
        #expect(output.status == 1)
        let written = try String(contentsOfFile: rejects, encoding: .utf8).split(separator: "\n")
            .map { line -> String in
                let fields = line.split(separator: "\t")
                return "\(fields[0].split(separator: ":").last!) \(fields[1])"
            }
        #expect(written == expectedRejects)
        #expect(output.stderr.contains("readings=\(18 - expectedRejects.count) duplicates=0 rejected=\(expectedRejects.count) "), "\(output.stderr)")
        let metrics = try await daemon.request("GET", "/metrics").text
        #expect(metricValue(metrics, #"sensorhub_readings_rejected_total{transport="http",reason="too_late"}"#) == 1)
        #expect(metricValue(metrics, #"sensorhub_readings_rejected_total{transport="http",reason="future_ts"}"#) == 1)
    }

    @Test func badRecordsAreSkippedCountedAndWrittenWithTheirLines() async throws {
        let daemon = try await Daemon(name: "import-rejects")
        defer { daemon.cleanUp() }
        let path = daemon.folder.appendingPathComponent("mixed.ndjson").path
        let rejects = daemon.folder.appendingPathComponent("rejects.txt").path
        let future = Int(Date().timeIntervalSince1970) + 86_400
        try """
            {"device":"bad-d1","metric":"temp","value":1,"ts":\(Self.start)}
            {"device":"bad-d1","metric":"temp","value":NaN,"ts":\(Self.start)}
            not json at all

            {"device":"bad d2","metric":"temp","value":2}
            {"device":"bad-d1","metric":"temp","value":3,"ts":\(future)}
            {"device":"bad-d1","metric":"temp","value":4,"ts":\(Self.start + 1)}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        // A dry run finds what the file itself gets wrong (not the daemon's time rules) and stores nothing.
        let dry = try await runSensorhub(["import", "--dry-run", "--rejects", rejects, path])
        #expect(dry.status == 1, "\(dry.stderr)")
        #expect(dry.stderr.contains("import: files=1 readings=3 duplicates=0 rejected=3 "), "\(dry.stderr)")
        let dryLines = try String(contentsOfFile: rejects, encoding: .utf8).split(separator: "\n").map { $0.split(separator: "\t").prefix(2).joined(separator: " ") }
        #expect(dryLines == ["\(path):2 malformed", "\(path):3 malformed", "\(path):5 invalid_device"])
        #expect(!FileManager.default.fileExists(atPath: path + ".sensorhub-import"))

        let output = try await runSensorhub(["import", "--server", daemon.baseURL.absoluteString, "--rejects", rejects, path])
        #expect(output.status == 1, "\(output.stderr)")
        let lastLine = output.stderr.split(separator: "\n").last.map(String.init) ?? ""
        #expect(lastLine.hasPrefix("import: files=1 readings=2 duplicates=0 rejected=4 elapsed="), "\(output.stderr)")
        #expect(lastLine.hasSuffix(" readings/s"))
        let lines = try String(contentsOfFile: rejects, encoding: .utf8).split(separator: "\n").map { $0.split(separator: "\t").prefix(2).joined(separator: " ") }
        #expect(lines == ["\(path):2 malformed", "\(path):3 malformed", "\(path):5 invalid_device", "\(path):6 future_ts"])
        let stored = try await waitForTotal(daemon, 2)
        #expect(stored["bad-d1/temp"]?.count == 2 && stored["bad-d1/temp"]?.sum == 5)
    }

    /// On a terminal (a pseudo-terminal from util-linux `script`) a bar redrawn in place
    /// with the percentage, the bytes, the ETA and the rate; into a pipe, lines only.
    @Test func aProgressBarOnATerminalOnlyLinesIntoAPipe() async throws {
        let folder = try temporaryFolder("import-progress")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("p.ndjson").path
        try Self.ndjson(Self.rows("progress", count: 60_000)).write(toFile: path, atomically: true, encoding: .utf8)
        let command = "'\(Binary.sensorhub.path)' import --dry-run --batch 500 --in-flight 1 '\(path)'"
        let terminal = try await run("/usr/bin/script", ["-qec", command, "/dev/null"])
        #expect(terminal.status == 0, "\(terminal.stdout)")
        #expect(terminal.stdout.contains("\r\u{1B}[Kimport p.ndjson ["), "a bar redrawn in place: \(terminal.stdout.suffix(400))")
        #expect(terminal.stdout.contains(" MiB ETA "), "\(terminal.stdout.suffix(400))")
        #expect(terminal.stdout.contains("import: files=1 readings=60000 duplicates=0 rejected=0 "))
        let piped = try await runSensorhub(["import", "--dry-run", path])
        #expect(!piped.stderr.contains("\r"), "no bar into a pipe")
        #expect(piped.stderr.split(separator: "\n").count == 2, "a line for the file and the summary: \(piped.stderr)")
    }

    @Test func argumentsAndAnExistingStateAreCheckedBeforeAnythingIsSent() async throws {
        let folder = try temporaryFolder("import-args")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("x.ndjson").path
        try Self.ndjson(Self.rows("args", count: 10)).write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try await runSensorhub(["import", "--format", "xml", path]).status == 64)
        #expect(try await runSensorhub(["import", "--server", "http://127.0.0.1:1", "--db", "x.db", path]).status == 64)
        #expect(try await runSensorhub(["import", "--resume", "-"]).status == 64)
        try "{}".write(toFile: path + ".sensorhub-import", atomically: true, encoding: .utf8)
        let refused = try await runSensorhub(["import", "--server", "http://127.0.0.1:1", path])
        #expect(refused.status == 64)
        #expect(refused.stderr.contains("was interrupted; add --resume"), "\(refused.stderr)")
        try FileManager.default.removeItem(atPath: path + ".sensorhub-import")
        let unreachable = try await runSensorhub(["import", "--server", "http://127.0.0.1:1", path])
        #expect(unreachable.status == 1)
        #expect(unreachable.stderr.contains("cannot reach http://127.0.0.1:1"), "\(unreachable.stderr)")
        #expect(unreachable.stderr.contains("sensorhub import --resume"), "says how to continue: \(unreachable.stderr)")
    }

    @Test func dbImportIsRefusedWhileADaemonHoldsTheFileAndWorksAfter() async throws {
        let daemon = try await Daemon(name: "import-db")
        defer { daemon.cleanUp() }
        let rows = Self.rows("db", count: 5_000)
        let path = daemon.folder.appendingPathComponent("db.csv").path
        try Self.csvWide(rows).write(toFile: path, atomically: true, encoding: .utf8)
        let environment = ["SENSORHUB_STORE_RETENTION": "10s=3650d,1m=3650d,1h=3650d"]
        let refused = try await runSensorhub(["import", "--db", daemon.databasePath, path], environment: environment)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("another sensorhub process is writing this database"), "\(refused.stderr)")
        #expect(try await daemon.stop() == 0)
        let output = try await runSensorhub(["import", "--db", daemon.databasePath, path], environment: environment)
        #expect(output.status == 0, "\(output.stderr)")
        Self.expectTotals(try await storedTotals(["--db", daemon.databasePath]), Self.expected(rows), prefix: "db")
    }
}
