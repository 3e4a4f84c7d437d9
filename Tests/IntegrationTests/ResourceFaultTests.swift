import Foundation
import Testing

/// An exclusive lock on the database held by the sqlite3 shell until the test releases
/// it (`release()`), so a test waits for what the lock causes, not for a fixed time.
private struct DatabaseLock {
    let locker: Task<ProcessOutput, any Error>
    private let releaseFile: String

    init(_ database: String) {
        let releaseFile = database + ".release-lock"
        self.releaseFile = releaseFile
        // `.timeout`: a flush the daemon is writing right then is waited for, not a failure
        // of the locker ("database is locked", seen once on a busy machine). The shell
        // gives up after 10 minutes, so a test that fails before releasing never hangs.
        let script = """
            (echo '.timeout 30000'; echo 'BEGIN EXCLUSIVE;'; \
             i=0; while [ ! -e '\(releaseFile)' ] && [ $i -lt 6000 ]; do sleep 0.1; i=$((i+1)); done; \
             echo 'COMMIT;') | /usr/bin/sqlite3 '\(database)'
            """
        locker = Task { try await run("/bin/sh", ["-c", script], timeout: .seconds(660)) }
    }

    /// Ends the lock and waits for the shell to commit; its exit status.
    func release() async throws -> ProcessOutput {
        try #require(FileManager.default.createFile(atPath: releaseFile, contents: nil))
        return try await locker.value
    }
}

private func readingsStored(database: String) async throws -> Int {
    let output = try await runSensorhub(["devices", "--db", database, "--format", "json"])
    let rows = try #require(JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [[String: Any]], "\(output.stdout)\(output.stderr)")
    return rows.reduce(0) { $0 + (($1["readings"] as? Int) ?? 0) }
}

/// Faults of the machine around the daemon: it names the path and the cause, refuses to
/// acknowledge what it cannot make durable, and recovers by itself when the fault clears.
@Suite(.serialized) struct ResourceFaultTests {
    static let reading = #"[{"device":"d","metric":"m","value":1}]"#

    /// A full disk, simulated with a file size limit on the running daemon (`prlimit`):
    /// ingest answers 503 `journal_unavailable` naming the segment and the cause, /healthz
    /// says why, and once the limit is lifted readings are taken and flushed again.
    @Test func fullDiskRefusesReadingsAndRecoversWhenSpaceReturns() async throws {
        let daemon = try await Daemon(name: "full-disk")
        defer { daemon.cleanUp() }
        #expect(try await daemon.post(Self.reading, contentType: "application/json").status == 202)

        let limited = try await run("/usr/bin/prlimit", ["--pid", "\(daemon.pid)", "--fsize=16:unlimited"])
        try #require(limited.status == 0, "\(limited.stderr)")
        let refused = try await daemon.post(Self.reading, contentType: "application/json")
        #expect(refused.status == 503)
        #expect(refused.header("Retry-After") != nil)
        let body = try refused.json() as? [String: String]
        #expect(body?["reason"] == "journal_unavailable")
        #expect(body?["error"]?.contains(".journal/shard-0/") == true && body?["error"]?.contains("File too large") == true, "\(refused.text)")
        let health = try await daemon.request("GET", "/healthz")
        #expect(health.status == 503)
        #expect((try health.json() as? [String: Any])?["status"] as? String == "degraded")

        let lifted = try await run("/usr/bin/prlimit", ["--pid", "\(daemon.pid)", "--fsize=unlimited:unlimited"])
        try #require(lifted.status == 0, "\(lifted.stderr)")
        #expect(try await daemon.post(Self.reading, contentType: "application/json").status == 202)
        // The database could not grow either; healthy again once a flush went through.
        #expect(try await eventually { try await daemon.request("GET", "/healthz").status == 200 })
        #expect(try await daemon.stop() == 0)
        #expect(daemon.output.contains("journal appends work again"))
        #expect(try await readingsStored(database: daemon.databasePath) == 2, "the refused reading was not taken")
    }

    /// A database another program holds locked: flushes fail and are retried, readings
    /// keep being acknowledged (they are durable in the journal), and everything is
    /// stored once the lock is released.
    @Test func lockedDatabaseDelaysFlushesButLosesNothing() async throws {
        let daemon = try await Daemon(name: "locked-db", environment: ["SENSORHUB_STORE_FLUSH_INTERVAL": "100ms"])
        defer { daemon.cleanUp() }
        let database = daemon.databasePath
        let lock = DatabaseLock(database)
        // A reading every 200 ms until a flush has failed on the lock, and a few more while
        // it holds (sqlite3 may start late on a busy machine; the wait is for the failure).
        var posted = 0
        var afterFailure = 0
        var health: [String: Any]?
        let deadline = ContinuousClock.now + .seconds(120)
        while afterFailure < 5, ContinuousClock.now < deadline {
            #expect(try await daemon.post(Self.reading, contentType: "application/json").status == 202)
            posted += 1
            if daemon.output.contains("failed to flush buckets") {
                afterFailure += 1
                if afterFailure == 1 { health = try await daemon.request("GET", "/healthz").json() as? [String: Any] }
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        // While flushes fail, readings are still taken, and /healthz says why.
        #expect(health?["status"] as? String == "degraded")
        #expect((health?["reason"] as? String)?.contains("cannot write to the database") == true, "\(String(describing: health))")
        let locked = try await lock.release()
        #expect(locked.status == 0, "\(locked.stderr)")
        #expect(try await daemon.stop() == 0)
        #expect(daemon.output.contains("failed to flush buckets"), "the lock did not hold long enough to matter")
        #expect(daemon.output.contains("flushed again after failures"))
        #expect(try await readingsStored(database: database) == posted)
    }

    /// While the store cannot be written, nothing piles up in memory: the flusher retries
    /// only what it holds, the workers stop at their pending-bucket limit, the queue fills
    /// and ingest answers 503. Once the store works again, every acknowledged reading is
    /// stored exactly once.
    @Test func aStoreThatCannotBeWrittenHoldsIngestBackAndLosesNothing() async throws {
        let daemon = try await Daemon(name: "locked-backpressure", environment: [
            "SENSORHUB_STORE_FLUSH_INTERVAL": "100ms", "SENSORHUB_PIPELINE_SHARDS": "1", "SENSORHUB_PIPELINE_QUEUE_CAPACITY": "1000",
            "SENSORHUB_PIPELINE_MAX_PENDING_BUCKETS": "1000", "SENSORHUB_HTTP_QUEUE_WAIT": "0ms",
        ])
        defer { daemon.cleanUp() }
        let database = daemon.databasePath
        let lock = DatabaseLock(database)
        // Every reading opens buckets of its own (its own series), so the pending-bucket
        // limit is reached after a few hundred readings.
        let start = Int(Date().timeIntervalSince1970) - 3_600
        var accepted = 0, refused = 0, batch = 0
        let deadline = ContinuousClock.now + .seconds(120)
        while refused == 0 || !daemon.output.contains("failed to flush buckets"), ContinuousClock.now < deadline {
            let body = "[" + (0..<100).map { #"{"device":"lb-\#(batch)-\#($0)","metric":"m","value":1,"ts":\#(start)}"# }.joined(separator: ",") + "]"
            let answer = try await daemon.post(body, contentType: "application/json")
            if answer.status == 202 { accepted += 100 } else {
                #expect(answer.status == 503 && answer.text.contains("queue_full"), "\(answer.status) \(answer.text)")
                refused += 1
            }
            batch += 1
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(try await lock.release().status == 0)
        #expect(refused > 0, "ingest must have been held back while the store could not be written")
        #expect(daemon.output.contains("failed to flush buckets"), "the lock did not hold long enough to matter")
        #expect(try await daemon.stop() == 0)
        #expect(try await readingsStored(database: database) == accepted)
    }

    /// A journal directory that cannot be created stops the start with a message naming
    /// the path and the cause.
    @Test func unusableJournalDirectoryFailsTheStartNamingThePath() async throws {
        let folder = try temporaryFolder("bad-journal")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("a-file")
        try Data().write(to: file)
        let output = try await runSensorhub(
            ["serve", "--db", folder.appendingPathComponent("x.db").path, "--http-port", "0"],
            environment: ["SENSORHUB_JOURNAL_DIRECTORY": file.path + "/journal", "SENSORHUB_MQTT_ENABLED": "false"])
        #expect(output.status == 1)
        #expect(output.stderr.contains("cannot use the journal directory: cannot create directory \(file.path)/journal: Not a directory"), "\(output.stderr)")
    }
}
