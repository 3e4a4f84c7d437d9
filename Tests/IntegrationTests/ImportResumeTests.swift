import Foundation
import Testing
import SensorCore
import TestProcesses

/// An import killed with SIGKILL at random points — before its first batch, between any
/// two, while several are in flight, and during its own resume — then resumed, counts
/// every reading exactly once, with or without seq, through a daemon and into the file.
@Suite struct ImportResumeTests {
    /// Spawns `sensorhub import`, kills it once `stateFile` records at least `batches`
    /// acknowledged batches (0: at once, before its first batch), and says whether it was still
    /// running (a kill that came after the end proves nothing).
    static func importKilled(_ arguments: [String], stateFile: String, afterBatches batches: Int, environment: [String: String]) async throws -> Bool {
        let pid = try ChildProcess.spawn(Binary.sensorhub.path, ["import"] + arguments,
                                         environment: cleanEnvironment().merging(environment) { $1 })
        let running = try await signal(SIGKILL, import: pid, once: batches, stateFile: stateFile)
        ChildProcess.kill(pid)
        return running
    }

    /// Sends `signal` to the import `pid` once `stateFile` records at least `batches`
    /// acknowledged batches (0: at once), and says whether the import was still running.
    /// Watched from a thread of its own, not a task: the suite's other tests keep the
    /// concurrency pool busy, and a poll waiting its turn there saw imports end before it
    /// looked (not even a short sleep before an early kill, for the same reason).
    static func signal(_ signal: Int32, import pid: pid_t, once batches: Int, stateFile: String) async throws -> Bool {
        try await onOwnThread {
            let deadline = Date().addingTimeInterval(120)
            while batches > 0, ChildProcess.isRunning(pid), (ordinal(stateFile) ?? 0) < batches, Date() < deadline {
                Thread.sleep(forTimeInterval: 0.002)
            }
            let running = ChildProcess.isRunning(pid)
            kill(pid, signal)
            return running
        }
    }

    struct Trial {
        let prefix: String
        let path: String
        let rows: [ImportTests.Row]
        /// Where the kills landed, for the messages: batches asked for and the ordinal the
        /// state file held after each kill.
        var kills: String = ""
    }

    /// The ordinal the state file holds, nil without one.
    static func ordinal(_ stateFile: String) -> Int? {
        guard let data = FileManager.default.contents(atPath: stateFile),
              let state = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return state["ordinal"] as? Int
    }

    /// Runs `trials` kill-and-resume rounds of a 40,000-reading file each in batches of
    /// `batch` (at least 80 batches), the file's series named per trial. Every third trial
    /// kills its first resume too.
    static func runTrials(
        _ trials: Int, folder: URL, target: [String], batch: Int, environment: [String: String],
        afterTrial: (Trial) async throws -> Void = { _ in }
    ) async throws -> [Trial] {
        var generator = SeededGenerator(seed: 0x1_5EED)
        var done: [Trial] = []
        var interrupted = 0
        for trial in 0..<trials {
            let prefix = "t\(trial)"
            let rows = ImportTests.rows(prefix, count: 40_000)
            let extensions = ["ndjson", "csv", "lp"]
            let format = extensions[trial % extensions.count]
            let path = folder.appendingPathComponent("trial-\(trial).\(format)").path
            let text = format == "ndjson" ? ImportTests.ndjson(rows) : format == "csv" ? ImportTests.csvLong(rows) : ImportTests.lineProtocol(rows)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let stateFile = path + ".sensorhub-import"
            let arguments = target + ["--batch", "\(batch)", path]
            // Early (before the first batch) in one trial of five, else after 1–40 batches:
            // the poll must see the ordinal before the import ends, and with the whole suite
            // running in parallel it can lag for a long time. Into a database file, batches
            // of 500 take about 9 ms each, and with 1–60 of 80, one run of the suite found
            // two imports of four complete before their kill, with 1–40 of 80 another; so
            // that target imports in batches of 50 (800 of them: the ordinal is reached about
            // 1.2 s before the end, alone). Through a daemon they stay at 500: that target
            // has not failed this way, and batches of 50 doubled its time (28.6 -> 60 s alone).
            let at = trial % 5 == 1 ? 0 : Int.random(in: 1...40, using: &generator)
            let running = try await importKilled(arguments, stateFile: stateFile, afterBatches: at, environment: environment)
            if running { interrupted += 1 }
            var kills = "killed after \(at) batches at ordinal \(ordinal(stateFile).map(String.init) ?? "none")"
            if trial % 3 == 0, FileManager.default.fileExists(atPath: stateFile) {
                let again = Int.random(in: 1...79, using: &generator)
                _ = try await importKilled(["--resume"] + arguments, stateFile: stateFile, afterBatches: again, environment: environment)
                kills += ", resume killed after \(again) at ordinal \(ordinal(stateFile).map(String.init) ?? "none")"
            }
            let finished = Trial(prefix: prefix, path: path, rows: rows, kills: kills)
            done.append(finished)
            // A kill that came after the end found the import complete (its state removed):
            // resuming it would import the file again, as the contract has it. No state file
            // also means an early kill before the first batch, but then the import was running.
            let completedBeforeTheKill = !FileManager.default.fileExists(atPath: stateFile) && (at > 0 || !running)
            if completedBeforeTheKill { continue }
            let resumed = try await runSensorhub(["import", "--resume"] + arguments, environment: environment, timeout: generousDeadline)
            #expect(resumed.status == 0, "trial \(trial) (killed after \(at) batches): \(resumed.stderr)")
            // The summary counts the interrupted runs too: every reading once, none as a duplicate.
            #expect(resumed.stderr.contains("import: files=1 readings=40000 duplicates=0 rejected=0 "), "trial \(trial): \(resumed.stderr)")
            #expect(!FileManager.default.fileExists(atPath: stateFile), "trial \(trial): the state file is removed once complete")
            try await afterTrial(finished)
        }
        // Kills that land after the end would make this test prove nothing.
        #expect(interrupted >= trials - 1, "only \(interrupted) of \(trials) imports were still running when killed")
        return done
    }

    /// Ctrl-C: the import stops after the batches in flight, keeps its position, says how
    /// to go on, and going on counts every reading once.
    @Test func ctrlCStopsCleanlyAndSaysHowToResume() async throws {
        let daemon = try await Daemon(name: "import-interrupt")
        defer { daemon.cleanUp() }
        let rows = ImportTests.rows("int", count: 60_000)
        let path = daemon.folder.appendingPathComponent("big.ndjson").path
        try ImportTests.ndjson(rows).write(toFile: path, atomically: true, encoding: .utf8)
        let logPath = daemon.folder.appendingPathComponent("import.log").path
        let log = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        defer { close(log) }
        let arguments = ["import", "--server", daemon.baseURL.absoluteString, "--batch", "200", path]
        let pid = try ChildProcess.spawn(Binary.sensorhub.path, arguments, stderr: log, environment: cleanEnvironment())
        let stateFile = path + ".sensorhub-import"
        let running = try await Self.signal(SIGINT, import: pid, once: 3, stateFile: stateFile)
        #expect(running, "a 60,000-reading import in batches of 200 was still running at its third batch")
        #expect(await eventually { !ChildProcess.isRunning(pid) }, "the import stopped after Ctrl-C")
        let output = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        #expect(output.contains("import: interrupted; continue with: sensorhub import --resume --server \(daemon.baseURL.absoluteString)"), "\(output)")
        #expect(output.contains("(interrupted)"), "\(output)")
        #expect(FileManager.default.fileExists(atPath: stateFile), "the position is kept")
        let resumed = try await runSensorhub(["import", "--resume"] + arguments.dropFirst(), timeout: generousDeadline)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("import: files=1 readings=60000 duplicates=0 rejected=0 "), "\(resumed.stderr)")
        let stored = try await waitForTotal(daemon, rows.count)
        ImportTests.expectTotals(stored, ImportTests.expected(rows), prefix: "int")
    }

    @Test func killedAndResumedThroughADaemonCountsEveryReadingOnce() async throws {
        let daemon = try await Daemon(name: "import-resume-server")
        defer { daemon.cleanUp() }
        let trials = try await Self.runTrials(10, folder: daemon.folder, target: ["--server", daemon.baseURL.absoluteString], batch: 500, environment: [:])
        let stored = try await waitForTotal(daemon, trials.reduce(0) { $0 + $1.rows.count })
        for trial in trials { ImportTests.expectTotals(stored, ImportTests.expected(trial.rows), prefix: trial.prefix) }
    }

    @Test func killedAndResumedIntoTheDatabaseFileCountsEveryReadingOnce() async throws {
        let folder = try temporaryFolder("import-resume-db")
        let database = folder.appendingPathComponent("sensorhub.db").path
        let environment = ["SENSORHUB_STORE_RETENTION": "10s=3650d,1m=3650d,1h=3650d"]
        // Each trial is checked as soon as it is complete, so a wrong count names its kills;
        // the folder (database, journal, files) is kept when one is wrong.
        var wrong: [String] = []
        let trials = try await Self.runTrials(4, folder: folder, target: ["--db", database], batch: 50, environment: environment) { trial in
            let stored = try await storedTotals(["--db", database])
            let mine = stored.filter { $0.key.hasPrefix(trial.prefix + "-") }
            let expected = ImportTests.expected(trial.rows)
            if mine.count != expected.count || expected.contains(where: { mine[$0.key]?.count != $0.value.count || mine[$0.key]?.sum != $0.value.sum }) {
                wrong.append("\(trial.prefix) (\(trial.kills)): stored \(mine.values.reduce(0) { $0 + $1.count }) readings")
            }
        }
        #expect(wrong.isEmpty, "wrong totals right after their resume: \(wrong); kept \(folder.path)")
        let stored = try await storedTotals(["--db", database])
        for trial in trials { ImportTests.expectTotals(stored, ImportTests.expected(trial.rows), prefix: trial.prefix) }
        if wrong.isEmpty { try? FileManager.default.removeItem(at: folder) }
    }
}
